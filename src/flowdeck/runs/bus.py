"""The event bus: every run's events, in order, readable from a cursor by any client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowdeck.engine.events import TERMINAL_EVENTS

# An event as stored: (cursor, name, data). Cursors are per run and increase by one.
Event = tuple[int, str, dict[str, Any]]


class EventBus(Protocol):
    """Carries run events from whoever executes a run to whoever watches it."""

    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        """Append an event; never blocks."""

    async def read(self, run_id: str, after: int = 0, wait: float = 0.0) -> list[Event]:
        """Events with cursor > `after`; waits up to `wait` seconds when there are none yet."""

    def stream(self, run_id: str, after: int = 0) -> AsyncIterator[Event]:
        """Events from `after` on, live, until the run's terminal event."""

    async def is_finished(self, run_id: str) -> bool | None:
        """True once the terminal event is in; None when the bus holds nothing for the run."""

    async def flush(self) -> None:
        """Return once every event published so far is readable by other processes."""

    async def poll_position(self, run_id: str) -> int:
        """Where cursor-less polling of a run got to (shared by every API process)."""

    async def set_poll_position(self, run_id: str, cursor: int) -> None: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Log:
    events: list[Event] = field(default_factory=list)
    finished_at: float | None = None
    polled: int = 0
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryEventBus:
    """The embedded bus: events in this process's memory, bounded in count and age."""

    def __init__(self, *, retention_seconds: float = 3600, max_finished: int = 2000) -> None:
        self._logs: OrderedDict[str, _Log] = OrderedDict()
        self._finished: OrderedDict[str, float] = OrderedDict()
        self._retention = retention_seconds
        self._max_finished = max_finished

    def _log(self, run_id: str) -> _Log:
        log = self._logs.get(run_id)
        if log is None:
            log = self._logs[run_id] = _Log()
        return log

    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        log = self._log(run_id)
        log.events.append((len(log.events) + 1, event, data))
        if event in TERMINAL_EVENTS:
            log.finished_at = time.monotonic()
            self._finished[run_id] = log.finished_at
            self._evict()
        wakeup, log.wakeup = log.wakeup, asyncio.Event()
        wakeup.set()

    def _evict(self) -> None:
        cutoff = time.monotonic() - self._retention
        while self._finished:
            run_id, finished = next(iter(self._finished.items()))
            if len(self._finished) <= self._max_finished and finished > cutoff:
                break
            self._finished.popitem(last=False)
            self._logs.pop(run_id, None)

    async def read(self, run_id: str, after: int = 0, wait: float = 0.0) -> list[Event]:
        log = self._log(run_id)
        if len(log.events) <= after and wait > 0 and log.finished_at is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(log.wakeup.wait(), wait)
        return log.events[after:]

    async def stream(self, run_id: str, after: int = 0) -> AsyncIterator[Event]:
        log = self._log(run_id)
        cursor = after
        while True:
            while cursor < len(log.events):
                item = log.events[cursor]
                cursor += 1
                yield item
                if item[1] in TERMINAL_EVENTS:
                    return
            if log.finished_at is not None:
                return
            await log.wakeup.wait()

    async def is_finished(self, run_id: str) -> bool | None:
        log = self._logs.get(run_id)
        if log is None:
            return None
        return log.finished_at is not None

    def forget(self, run_id: str) -> None:
        self._logs.pop(run_id, None)
        self._finished.pop(run_id, None)

    async def flush(self) -> None:
        return None

    async def poll_position(self, run_id: str) -> int:
        log = self._logs.get(run_id)
        return log.polled if log is not None else 0

    async def set_poll_position(self, run_id: str, cursor: int) -> None:
        log = self._logs.get(run_id)
        if log is not None:
            log.polled = cursor

    async def close(self) -> None:
        self._logs.clear()
        self._finished.clear()
