"""The Redis Streams bus and control channel, on the real Redis, as two processes see them."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from flowdeck.runs.pubsub import Subscriber
from flowdeck.runs.redis_bus import RedisEventBus
from flowdeck.workers.control import RedisControlChannel

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("FLOWDECK_TEST_REDIS", "redis://127.0.0.1:6379/0")


class Process:
    """What one flowdeck process holds: a connection, a subscriber and a bus."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.redis = Redis.from_url(REDIS_URL)
        self.subscriber = Subscriber(self.redis)
        self.bus = RedisEventBus(self.redis, self.subscriber, prefix=prefix, retention_seconds=60)

    async def close(self) -> None:
        await self.bus.close()
        await self.subscriber.stop()
        await self.redis.aclose()


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"fdtest{uuid.uuid4().hex[:10]}"
    yield name
    redis = Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(f"{name}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.fixture
async def two(prefix: str) -> AsyncIterator[tuple[Process, Process]]:
    a, b = Process(prefix), Process(prefix)
    await a.subscriber.start()
    await b.subscriber.start()
    yield a, b
    await a.close()
    await b.close()


async def test_cursors_count_from_one_in_every_process(two: tuple[Process, Process]) -> None:
    writer, reader = two
    for i in range(5):
        writer.bus.publish("r1", "token", {"chunk": i})
    await writer.bus.flush()
    events = await reader.bus.read("r1")
    assert [(c, name, data["chunk"]) for c, name, data in events] == [
        (i + 1, "token", i) for i in range(5)
    ]
    assert [c for c, _, _ in await reader.bus.read("r1", after=3)] == [4, 5]
    assert await reader.bus.is_finished("r1") is False
    assert await reader.bus.is_finished("unknown") is None


async def test_a_stream_in_another_process_follows_live_to_the_end(
    two: tuple[Process, Process],
) -> None:
    writer, reader = two
    writer.bus.publish("r2", "state", {"state": "running"})
    await writer.bus.flush()
    received: list[tuple[int, str, float]] = []

    async def follow() -> None:
        async for cursor, name, _ in reader.bus.stream("r2"):
            received.append((cursor, name, time.perf_counter()))

    async def followers() -> int:
        counts: Any = await writer.redis.pubsub_numsub(f"{writer.prefix}:run:r2:wake")
        return int(counts[0][1])

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    assert await followers() == 1  # only a process with a reader hears the run's wake-ups
    sent_at = time.perf_counter()
    writer.bus.publish("r2", "end_vertex", {})
    await asyncio.sleep(0.05)
    writer.bus.publish("r2", "end", {})
    await asyncio.wait_for(task, 5)
    assert [(c, n) for c, n, _ in received] == [(1, "state"), (2, "end_vertex"), (3, "end")]
    # Woken by pub/sub, not by the one-second re-poll.
    assert received[1][2] - sent_at < 0.5
    assert await reader.bus.is_finished("r2") is True
    await asyncio.sleep(0.05)
    assert await followers() == 0


class EndsDuringTheLook(RedisEventBus):
    """A reader bus whose first empty read is followed, before it looks again, by the
    writer's last state and end: the race a loaded machine hits now and then."""

    def __init__(self, writer: RedisEventBus, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writer = writer
        self.raced = False

    async def _range(self, run_id: str, after: int, count: int | None = None) -> Any:
        events = await super()._range(run_id, after, count)
        if not events and not self.raced:
            self.raced = True
            self.writer.publish(run_id, "state", {"state": "completed"})
            self.writer.publish(run_id, "end", {})
            await self.writer.flush()
        return events


@pytest.mark.parametrize("how", ["stream", "read"])
async def test_events_written_between_a_read_and_the_look_at_the_end_are_not_lost(
    two: tuple[Process, Process], how: str
) -> None:
    writer, reader = two
    racing = EndsDuringTheLook(
        writer.bus, reader.redis, reader.subscriber, prefix=reader.prefix, retention_seconds=60
    )
    writer.bus.publish("r6", "state", {"state": "running"})
    await writer.bus.flush()
    if how == "stream":
        names = [name async for _, name, _ in racing.stream("r6", after=1)]
    else:
        names = [name for _, name, _ in await racing.read("r6", after=1, wait=5)]
    assert racing.raced
    assert names == ["state", "end"]


async def test_a_reader_resumes_from_its_cursor_after_reconnecting(
    two: tuple[Process, Process],
) -> None:
    writer, reader = two
    for name in ("a", "b", "c", "end"):
        writer.bus.publish("r3", name, {})
    await writer.bus.flush()
    first = [item async for item in reader.bus.stream("r3")][:2]
    rest = [item[1] async for item in writer.bus.stream("r3", after=first[-1][0])]
    assert rest == ["c", "end"]


async def test_poll_positions_are_shared_and_per_reader(two: tuple[Process, Process]) -> None:
    a, b = two
    assert await b.bus.poll_position("r4", "alice") == 0
    await a.bus.set_poll_position("r4", "alice", 7)
    assert await b.bus.poll_position("r4", "alice") == 7
    assert await b.bus.poll_position("r4", "bob") == 0


async def test_finished_runs_expire_after_the_retention(
    two: tuple[Process, Process], prefix: str
) -> None:
    writer, _ = two
    writer.bus.publish("r5", "state", {})
    await writer.bus.flush()
    key = f"{prefix}:run:r5:events"
    assert await writer.redis.ttl(key) > 60  # a live run's stream is kept
    writer.bus.publish("r5", "end", {})
    await writer.bus.flush()
    assert 0 < await writer.redis.ttl(key) <= 60


async def test_a_waiting_read_returns_when_an_event_arrives(two: tuple[Process, Process]) -> None:
    writer, reader = two
    writer.bus.publish("r6", "state", {})
    await writer.bus.flush()
    waiting = asyncio.create_task(reader.bus.read("r6", after=1, wait=5))
    await asyncio.sleep(0.05)
    writer.bus.publish("r6", "token", {})
    events = await asyncio.wait_for(waiting, 2)
    assert [name for _, name, _ in events] == ["token"]


class Holder:
    """Stands in for the RunWorker that holds run `held`."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, str, Any]] = []
        self.arrived = asyncio.Event()

    def apply(self, run_id: str, command: str, payload: Any = None) -> bool:
        if run_id != "held":
            return False
        self.applied.append((run_id, command, payload))
        self.arrived.set()
        return True


async def test_the_runs_feed_reaches_readers_in_other_processes_quickly(
    two: tuple[Process, Process],
) -> None:
    writer, reader = two
    first = await reader.bus.follow_runs("t1")
    second = await reader.bus.follow_runs("t1")  # two readers share one subscription
    elsewhere = await reader.bus.follow_runs("t2")
    sent = time.perf_counter()
    writer.bus.announce("t1", {"run_id": "r9", "state": "running"})
    got = await first.next(5)
    latency = time.perf_counter() - sent
    assert got == {"run_id": "r9", "state": "running"}
    assert await second.next(5) == got
    assert await elsewhere.next(0.2) is None  # another tenant's feed heard nothing
    # Well within the console's 100 ms from event to page, on loopback.
    assert latency < 0.1, latency
    await first.close()
    writer.bus.announce("t1", {"run_id": "r9", "state": "completed"})
    assert (await second.next(5) or {})["state"] == "completed"
    await second.close()
    await elsewhere.close()


async def test_control_reaches_the_process_holding_the_run(prefix: str) -> None:
    api, worker = Process(prefix), Process(prefix)
    holder = Holder()
    sender = RedisControlChannel(api.redis, api.subscriber, prefix=prefix, worker=None)
    RedisControlChannel(worker.redis, worker.subscriber, prefix=prefix, worker=holder)  # type: ignore[arg-type]
    await worker.subscriber.start()
    try:
        started = time.perf_counter()
        await sender.control("held", "answer", {"vertex_id": "ask", "value": 1})
        await asyncio.wait_for(holder.arrived.wait(), 2)
        assert time.perf_counter() - started < 0.1
        await sender.control("elsewhere", "cancel", "x")
        await asyncio.sleep(0.05)
        assert holder.applied == [("held", "answer", {"vertex_id": "ask", "value": 1})]
    finally:
        await api.close()
        await worker.close()
