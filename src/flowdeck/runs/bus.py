"""The event bus: every run's events, in order, readable from a cursor by any client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson

from flowdeck.engine.events import STATE, TERMINAL_EVENTS
from flowdeck.runs.feed import Fanout, Subscription

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

    async def poll_position(self, run_id: str, reader: str) -> int:
        """Where `reader`'s cursor-less polling of a run got to (shared by every API process).

        Each reader has its own position, so one reader's polls never take events from another.
        """

    async def set_poll_position(self, run_id: str, reader: str, cursor: int) -> None: ...

    def announce(self, tenant_id: str, entry: dict[str, Any]) -> None:
        """Put a change on the tenant's runs feed (runs/feed.py); never blocks."""

    async def follow_runs(self, tenant_id: str) -> Subscription:
        """Read the tenant's runs feed from now on (subscribed once this returns)."""

    async def close(self) -> None: ...


class _Log:
    """One run's events. After compaction `events` holds only the tail, from cursor base + 1."""

    __slots__ = ("base", "events", "finished_at", "polled", "wakeup")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.base = 0
        self.finished_at: float | None = None
        self.polled: dict[str, int] = {}
        # Created only when someone waits: most events are published with nobody waiting.
        self.wakeup: asyncio.Event | None = None

    @property
    def last(self) -> int:
        return self.base + len(self.events)

    def since(self, after: int) -> list[Event]:
        # A reader behind the compacted tail gets the tail (which ends with the outcome).
        return self.events[max(0, after - self.base) :]

    def waiter(self) -> asyncio.Event:
        if self.wakeup is None:
            self.wakeup = asyncio.Event()
        return self.wakeup


def _approx_size(events: list[Event]) -> int:
    size = 0
    for _, name, data in events:
        try:
            size += len(name) + len(orjson.dumps(data, default=str))
        except TypeError:  # not JSON-shaped: count it as a small event
            size += 256
    return size


class MemoryEventBus:
    """The embedded bus: events in this process's memory, bounded in count, size and age.

    A finished run keeps its whole log while it is among the latest finished runs and
    they fit in `full_bytes` (a client polling or streaming a run that just ended reads
    every event); older finished runs are compacted to their tail, the final `state` and
    the terminal event, so late readers still learn the outcome. Tails live for
    `retention_seconds`, at most `max_finished` of them.
    """

    def __init__(
        self,
        *,
        retention_seconds: float = 3600,
        max_finished: int = 2000,
        full_runs: int = 200,
        full_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self._logs: dict[str, _Log] = {}
        self._finished: OrderedDict[str, float] = OrderedDict()  # every finished run, oldest first
        self._full: OrderedDict[str, int] = OrderedDict()  # finished runs not compacted: size
        self._full_size = 0
        self._retention = retention_seconds
        self._max_finished = max_finished
        self._full_runs = full_runs
        self._full_bytes = full_bytes
        self._feed = Fanout()

    def _log(self, run_id: str) -> _Log:
        log = self._logs.get(run_id)
        if log is None:
            log = self._logs[run_id] = _Log()
        return log

    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        log = self._log(run_id)
        log.events.append((log.last + 1, event, data))
        if event in TERMINAL_EVENTS:
            self._finish(run_id, log)
        wakeup = log.wakeup
        if wakeup is not None:
            log.wakeup = None
            wakeup.set()

    def _finish(self, run_id: str, log: _Log) -> None:
        log.finished_at = time.monotonic()
        self._finished[run_id] = log.finished_at
        self._finished.move_to_end(run_id)
        self._full_size -= self._full.pop(run_id, 0)
        size = _approx_size(log.events)
        self._full[run_id] = size
        self._full_size += size
        self._evict()

    def _evict(self) -> None:
        while self._full and (
            len(self._full) > self._full_runs or self._full_size > self._full_bytes
        ):
            run_id, size = self._full.popitem(last=False)
            self._full_size -= size
            log = self._logs.get(run_id)
            if log is not None and log.events:
                _compact(log)
        cutoff = time.monotonic() - self._retention
        while self._finished:
            run_id, finished = next(iter(self._finished.items()))
            if len(self._finished) <= self._max_finished and finished > cutoff:
                break
            self.forget(run_id)

    async def read(self, run_id: str, after: int = 0, wait: float = 0.0) -> list[Event]:
        log = self._logs.get(run_id)
        if log is None:
            if wait <= 0:
                return []  # a run this bus never saw (or forgot): no entry for it
            log = self._log(run_id)
        if log.last <= after and wait > 0 and log.finished_at is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(log.waiter().wait(), wait)
        return log.since(after)

    async def stream(self, run_id: str, after: int = 0) -> AsyncIterator[Event]:
        log = self._log(run_id)
        cursor = after
        while True:
            # Re-sliced each time: the log may be compacted between two events.
            for item in log.since(cursor):
                cursor = item[0]
                yield item
                if item[1] in TERMINAL_EVENTS:
                    return
            if log.finished_at is not None:
                return
            await log.waiter().wait()

    async def is_finished(self, run_id: str) -> bool | None:
        log = self._logs.get(run_id)
        if log is None:
            return None
        return log.finished_at is not None

    def forget(self, run_id: str) -> None:
        self._logs.pop(run_id, None)
        self._finished.pop(run_id, None)
        self._full_size -= self._full.pop(run_id, 0)

    async def flush(self) -> None:
        return None

    async def poll_position(self, run_id: str, reader: str) -> int:
        log = self._logs.get(run_id)
        return log.polled.get(reader, 0) if log is not None else 0

    async def set_poll_position(self, run_id: str, reader: str, cursor: int) -> None:
        log = self._logs.get(run_id)
        if log is not None:
            log.polled[reader] = cursor

    def announce(self, tenant_id: str, entry: dict[str, Any]) -> None:
        self._feed.deliver(tenant_id, entry)

    async def follow_runs(self, tenant_id: str) -> Subscription:
        queue = self._feed.join(tenant_id)

        async def close() -> None:
            self._feed.leave(tenant_id, queue)

        return Subscription(queue, close)

    async def close(self) -> None:
        self._logs.clear()
        self._finished.clear()
        self._full.clear()
        self._full_size = 0


def _compact(log: _Log) -> None:
    """Keep only the run's outcome: its final `state` event and the terminal event after it."""
    events = log.events
    start = len(events) - 1
    # The final state is published just before the terminal event (RunService.transition).
    if start > 0 and events[start - 1][1] == STATE:
        start -= 1
    log.base = events[start][0] - 1
    log.events = events[start:]
