"""The distributed event bus: one Redis stream per run, readable from any process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from redis.asyncio import Redis

from flowdeck.engine.events import STATE, TERMINAL_EVENTS
from flowdeck.runs.bus import Event
from flowdeck.runs.feed import Fanout, Subscription
from flowdeck.runs.pubsub import Subscriber
from flowdeck.runs.tasks import stop_task

log = logging.getLogger("flowdeck.bus")

# A live run's stream outlives any plausible run; a finished one lives for the retention period.
LIVE_TTL_SECONDS = 7 * 24 * 3600
# Readers re-check the stream this often even without a wake-up (a lost pub/sub message).
REPOLL_SECONDS = 1.0


class RedisEventBus:
    """Events are appended with stream ids `0-<n>`, so the cursor of event n is n everywhere.

    `publish` buffers; one writer task sends the buffer in order, in one pipeline, and wakes
    the run's readers through its own pub/sub channel, which only processes with a reader
    waiting on that run subscribe to.

    A run whose state was announced but not yet its end is kept in a sorted set
    (`{prefix}:unended`, scored by when last seen): a process that dies between storing a
    run's end and announcing it leaves it there, and the reaper announces it (`unended`).
    """

    def __init__(
        self,
        redis: Redis,
        subscriber: Subscriber,
        *,
        prefix: str,
        retention_seconds: float,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._retention = max(1, int(retention_seconds))
        self._unended = f"{prefix}:unended"
        self._pending: list[tuple[str, str, bytes]] = []
        # Runs-feed entries (tenant, entry): sent after the events of the same batch.
        self._feed_pending: list[tuple[str, bytes]] = []
        self._feed = Fanout()
        self._write_lock = asyncio.Lock()
        self._kick = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Event] = {}
        self._subscriber = subscriber
        self._readers: dict[str, int] = {}

    def _key(self, run_id: str) -> str:
        return f"{self._prefix}:run:{run_id}:events"

    def _wake_channel(self, run_id: str) -> str:
        return f"{self._prefix}:run:{run_id}:wake"

    def _feed_channel(self, tenant_id: str) -> str:
        return f"{self._prefix}:tenant:{tenant_id}:runs"

    # -- writing ----------------------------------------------------------------------------

    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        self._pending.append((run_id, event, orjson.dumps(data)))
        self._start_writer()

    def announce(self, tenant_id: str, entry: dict[str, Any]) -> None:
        self._feed_pending.append((tenant_id, orjson.dumps(entry)))
        self._start_writer()

    def _start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        self._kick.set()

    async def _write_loop(self) -> None:
        while True:
            await self._kick.wait()
            self._kick.clear()
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not write run events to redis; retrying")
                await asyncio.sleep(0.2)
                self._kick.set()

    async def flush(self) -> None:
        async with self._write_lock:
            if not self._pending and not self._feed_pending:
                return
            batch, self._pending = self._pending, []
            feed, self._feed_pending = self._feed_pending, []
            try:
                await self._send(batch, feed)
            except BaseException:
                self._pending[:0] = batch  # keep order: they go first next time
                self._feed_pending[:0] = feed
                raise

    async def _send(
        self, batch: list[tuple[str, str, bytes]], feed: list[tuple[str, bytes]]
    ) -> None:
        pipe = self._redis.pipeline(transaction=False)
        ttl: dict[str, int] = {}
        seen: dict[str, float] = {}
        ended: set[str] = set()
        runs: dict[str, None] = {}  # in order of first event
        for run_id, event, data in batch:
            pipe.xadd(self._key(run_id), {"e": event, "d": data}, id="0-*")
            runs[run_id] = None
            # An appended entry keeps the stream's expiry, so it is set only with a state
            # event (a run's first event is one) and with its end.
            if event in TERMINAL_EVENTS:
                ttl[run_id] = self._retention
                ended.add(run_id)
                seen.pop(run_id, None)
            elif event == STATE:
                ttl.setdefault(run_id, LIVE_TTL_SECONDS)
                seen[run_id] = time.time()
        if seen:
            pipe.zadd(self._unended, seen)
        if ended:
            pipe.zrem(self._unended, *ended)
        for run_id, seconds in ttl.items():
            pipe.expire(self._key(run_id), seconds)
        for run_id in runs:
            pipe.publish(self._wake_channel(run_id), b"")
        for tenant_id, entry in feed:
            pipe.publish(self._feed_channel(tenant_id), entry)
        await pipe.execute()
        for run_id in runs:
            self._wake(run_id)

    # -- reading ----------------------------------------------------------------------------

    async def _follow(self, run_id: str) -> None:
        """Be woken by this run's events from any process (counted per reader)."""
        count = self._readers.get(run_id, 0)
        self._readers[run_id] = count + 1
        if not count:
            await self._subscriber.add(self._wake_channel(run_id), lambda _: self._wake(run_id))

    async def _unfollow(self, run_id: str) -> None:
        count = self._readers.get(run_id, 0) - 1
        if count > 0:
            self._readers[run_id] = count
            return
        self._readers.pop(run_id, None)
        await self._subscriber.remove(self._wake_channel(run_id))

    def _wake(self, run_id: str) -> None:
        waiter = self._waiters.pop(run_id, None)
        if waiter is not None:
            waiter.set()

    def _waiter(self, run_id: str) -> asyncio.Event:
        waiter = self._waiters.get(run_id)
        if waiter is None:
            waiter = self._waiters[run_id] = asyncio.Event()
        return waiter

    async def _range(self, run_id: str, after: int, count: int | None = None) -> list[Event]:
        entries: Any = await self._redis.xrange(self._key(run_id), min=f"(0-{after}", count=count)
        return [
            (int(entry_id.split(b"-", 1)[1]), fields[b"e"].decode(), orjson.loads(fields[b"d"]))
            for entry_id, fields in entries
        ]

    async def _wait(self, waiter: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), seconds)

    async def read(self, run_id: str, after: int = 0, wait: float = 0.0) -> list[Event]:
        events = await self._range(run_id, after)
        if events or wait <= 0:
            return events
        last = await self._last(run_id)
        if last is None or last[0] > after:  # gone, or written since the read
            return await self._range(run_id, after)
        if last[1]:
            return events
        await self._follow(run_id)
        try:
            waiter = self._waiter(run_id)
            # Read again now that wake-ups reach us: an event may have come in between.
            events = await self._range(run_id, after)
            if events:
                return events
            await self._wait(waiter, wait)
            return await self._range(run_id, after)
        finally:
            await self._unfollow(run_id)

    async def stream(self, run_id: str, after: int = 0) -> AsyncIterator[Event]:
        await self._follow(run_id)
        try:
            cursor = after
            while True:
                waiter = self._waiter(run_id)
                events = await self._range(run_id, cursor, count=1000)
                for item in events:
                    cursor = item[0]
                    yield item
                    if item[1] in TERMINAL_EVENTS:
                        return
                if not events:
                    last = await self._last(run_id)
                    if last is None:  # expired or deleted: nothing more will come
                        return
                    if last[0] > cursor:
                        # Written between the read and this look (the run's last state
                        # and its end, often): read them rather than miss them.
                        continue
                    if last[1]:
                        return
                    await self._wait(waiter, REPOLL_SECONDS)
        finally:
            await self._unfollow(run_id)

    async def follow_runs(self, tenant_id: str) -> Subscription:
        # One subscription per tenant and process, shared by its readers here.
        first = not self._feed.has_readers(tenant_id)
        queue = self._feed.join(tenant_id)
        channel = self._feed_channel(tenant_id)
        if first:
            await self._subscriber.add(
                channel, lambda data: self._feed.deliver(tenant_id, orjson.loads(data))
            )

        async def close() -> None:
            if self._feed.leave(tenant_id, queue):
                await self._subscriber.remove(channel)

        return Subscription(queue, close)

    async def poll_position(self, run_id: str, reader: str) -> int:
        value = await self._redis.hget(f"{self._prefix}:run:{run_id}:polled", reader)
        return int(value) if value else 0

    async def set_poll_position(self, run_id: str, reader: str, cursor: int) -> None:
        key = f"{self._prefix}:run:{run_id}:polled"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, reader, cursor)
            pipe.expire(key, self._retention)
            await pipe.execute()

    async def _last(self, run_id: str) -> tuple[int, bool] | None:
        """The cursor of the run's last event and whether it ends the run; None if none."""
        last: Any = await self._redis.xrevrange(self._key(run_id), count=1)
        if not last:
            return None
        entry_id, fields = last[0]
        return int(entry_id.split(b"-", 1)[1]), fields[b"e"].decode() in TERMINAL_EVENTS

    async def is_finished(self, run_id: str) -> bool | None:
        last = await self._last(run_id)
        return None if last is None else last[1]

    # -- runs whose end was not announced ---------------------------------------------------

    async def unended(self, quiet_for: float) -> list[str]:
        """Runs whose state was announced, with no end yet, and no state event for a while."""
        ids: Any = await self._redis.zrangebyscore(self._unended, 0, time.time() - quiet_for)
        return [i.decode() for i in ids]

    async def claim_unended(self, run_id: str) -> bool:
        """Take a run off the unended set; True for the one process that did."""
        removed: Any = await self._redis.zrem(self._unended, run_id)
        return bool(removed)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.flush()
        await stop_task(self._writer)
