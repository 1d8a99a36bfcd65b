"""The last log lines of this process, kept in memory for `/logs` and `/logs-stream`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator

DEFAULT_CAPACITY = 10_000
LOGGER = "flowdeck"
FORMAT = "%(levelname)s %(name)s: %(message)s"

# A line as kept: (timestamp in milliseconds, unique and increasing; the formatted message).
Line = tuple[int, str]


class LogBuffer:
    """A bounded, thread-safe buffer of log lines that live readers can wait on."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._lines: deque[Line] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._last = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def append(self, created: float, message: str) -> int:
        """Keep one line; returns its timestamp (bumped past the previous one if needed)."""
        ts = int(created * 1000)
        with self._lock:
            # Timestamps are the keys clients see ({timestamp: message}): never repeat one.
            ts = max(ts, self._last + 1)
            self._last = ts
            self._lines.append((ts, message))
            waiters = list(self._waiters) if self._waiters else None
        if waiters:
            for loop, event in waiters:
                # Lines are logged from any thread; wake each reader in its own loop.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(event.set)
        return ts

    def last(self, count: int) -> dict[int, str]:
        with self._lock:
            lines = list(self._lines)[-count:] if count > 0 else []
        return dict(lines)

    def before(self, timestamp: int, count: int) -> dict[int, str]:
        """Up to `count` lines logged before `timestamp`, the latest ones."""
        with self._lock:
            lines = [line for line in self._lines if line[0] < timestamp]
        return dict(lines[-count:]) if count > 0 else {}

    def after(self, timestamp: int, count: int) -> dict[int, str]:
        """Up to `count` lines logged at or after `timestamp`, the earliest ones."""
        found: list[Line] = []
        with self._lock:
            for line in self._lines:
                if len(found) >= count:
                    break
                if line[0] >= timestamp:
                    found.append(line)
        return dict(found)

    def since(self, cursor: int) -> list[Line]:
        """Lines newer than `cursor` (a timestamp), oldest first."""
        newer: list[Line] = []
        with self._lock:
            for line in reversed(self._lines):
                if line[0] <= cursor:
                    break
                newer.append(line)
        newer.reverse()
        return newer

    @property
    def latest(self) -> int:
        return self._last

    async def follow(self, after: int, keepalive: float) -> AsyncIterator[list[Line]]:
        """Lines newer than `after` as they are logged; [] after `keepalive` seconds of quiet."""
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        cursor = after
        with self._lock:
            self._waiters.add(waiter)
        try:
            while True:
                event.clear()
                lines = self.since(cursor)
                if lines:
                    cursor = lines[-1][0]
                    yield lines
                    continue
                try:
                    await asyncio.wait_for(event.wait(), keepalive)
                except TimeoutError:
                    yield []
        finally:
            with self._lock:
                self._waiters.discard(waiter)


class BufferHandler(logging.Handler):
    """A logging handler that keeps each formatted record in a LogBuffer."""

    def __init__(self, buffer: LogBuffer) -> None:
        super().__init__()
        self.buffer = buffer
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.buffer.append(record.created, message)


_buffer = LogBuffer()


def buffer() -> LogBuffer:
    """The process's log buffer."""
    return _buffer


def install(logger_name: str = LOGGER) -> LogBuffer:
    """Attach the buffer to a logger tree, once however many apps this process creates."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(h, BufferHandler) for h in logger.handlers):
        logger.addHandler(BufferHandler(_buffer))
    return _buffer
