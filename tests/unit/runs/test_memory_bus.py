"""The embedded event bus: cursors, waiting, and bounded retention of finished runs."""

from __future__ import annotations

import asyncio
from typing import Any

from flowdeck.runs import feed
from flowdeck.runs.bus import MemoryEventBus


def run_events(bus: MemoryEventBus, run_id: str, payload: str = "x") -> None:
    """A finished run as RunService and the recorder publish it."""
    bus.publish(run_id, "state", {"state": "running"})
    bus.publish(run_id, "end_vertex", {"build_data": {"id": "out", "data": payload}})
    bus.publish(run_id, "state", {"state": "completed"})
    bus.publish(run_id, "end", {"status": "completed"})


def names(events: list[tuple[int, str, dict[str, Any]]]) -> list[str]:
    return [name for _, name, _ in events]


async def test_cursors_and_reads() -> None:
    bus = MemoryEventBus()
    run_events(bus, "r1")
    events = await bus.read("r1")
    assert [c for c, _, _ in events] == [1, 2, 3, 4]
    assert names(await bus.read("r1", after=2)) == ["state", "end"]
    assert await bus.is_finished("r1") is True
    assert await bus.is_finished("unknown") is None
    assert await bus.read("unknown") == []
    assert await bus.is_finished("unknown") is None  # a plain read leaves no entry behind


async def test_waiting_reader_wakes_on_publish() -> None:
    bus = MemoryEventBus()
    reader = asyncio.create_task(bus.read("r1", wait=5))
    await asyncio.sleep(0)
    bus.publish("r1", "state", {"state": "running"})
    events = await asyncio.wait_for(reader, 1)
    assert names(events) == ["state"]
    streamed = asyncio.create_task(_collect(bus, "r1"))
    await asyncio.sleep(0)
    run_events(bus, "r1")
    assert names(await asyncio.wait_for(streamed, 1))[-1] == "end"


async def _collect(bus: MemoryEventBus, run_id: str, after: int = 0) -> list[Any]:
    return [item async for item in bus.stream(run_id, after)]


async def test_recent_finished_runs_keep_every_event() -> None:
    bus = MemoryEventBus(full_runs=3)
    for i in range(3):
        run_events(bus, f"r{i}")
    assert names(await bus.read("r0")) == ["state", "end_vertex", "state", "end"]


async def test_older_finished_runs_keep_only_their_outcome() -> None:
    bus = MemoryEventBus(full_runs=2)
    for i in range(5):
        run_events(bus, f"r{i}")
    # Compacted: the final state and the terminal event, with their original cursors.
    assert await bus.read("r0") == [
        (3, "state", {"state": "completed"}),
        (4, "end", {"status": "completed"}),
    ]
    assert names(await bus.read("r0", after=3)) == ["end"]
    assert await bus.read("r0", after=4) == []
    # A late streaming reader (as /build/{job}/events and wait_for_end) still ends on "end".
    assert names(await _collect(bus, "r0")) == ["state", "end"]
    assert names(await _collect(bus, "r0", after=1)) == ["state", "end"]
    assert await bus.is_finished("r0") is True
    assert names(await bus.read("r4")) == ["state", "end_vertex", "state", "end"]


async def test_full_logs_are_bounded_by_size() -> None:
    bus = MemoryEventBus(full_runs=100, full_bytes=10_000)
    for i in range(10):
        run_events(bus, f"r{i}", payload="y" * 3000)
    kept = [len(await bus.read(f"r{i}")) for i in range(10)]
    assert kept == [2] * 7 + [4] * 3  # three runs of ~3 KB fit in 10 KB; the rest are compacted
    for i in range(10):
        assert names(await bus.read(f"r{i}"))[-1] == "end"


async def test_finished_runs_are_forgotten_beyond_the_count() -> None:
    bus = MemoryEventBus(max_finished=3, full_runs=1)
    for i in range(6):
        run_events(bus, f"r{i}")
    assert [await bus.is_finished(f"r{i}") for i in range(6)] == [
        None,
        None,
        None,
        True,
        True,
        True,
    ]


async def test_poll_position_survives_compaction() -> None:
    bus = MemoryEventBus(full_runs=1)
    run_events(bus, "r0")
    await bus.set_poll_position("r0", "alice", 2)
    run_events(bus, "r1")
    assert await bus.poll_position("r0", "alice") == 2
    assert await bus.poll_position("r0", "bob") == 0
    assert names(await bus.read("r0", after=2)) == ["state", "end"]


async def test_stream_in_progress_survives_compaction() -> None:
    bus = MemoryEventBus(full_runs=1)
    run_events(bus, "r0")
    stream = bus.stream("r0")
    first = await anext(stream)
    run_events(bus, "r1")  # compacts r0 while its reader is between events
    rest = [item async for item in stream]
    # The reader goes on from where it was, in order, and ends on the terminal event.
    assert [first[0], *(c for c, _, _ in rest)] == [1, 2, 3, 4]
    assert names(rest)[-1] == "end"
    assert names(await _collect(bus, "r0")) == ["state", "end"]


async def test_the_runs_feed_fans_out_per_tenant_and_marks_a_lost_backlog() -> None:
    bus = MemoryEventBus()
    mine, other = await bus.follow_runs("t1"), await bus.follow_runs("t2")
    bus.announce("t1", {"run_id": "r1", "state": "running"})
    assert await mine.next(1) == {"run_id": "r1", "state": "running"}
    assert await other.next(0.05) is None
    # A reader that fell BACKLOG changes behind is told to read the list again.
    for i in range(feed.BACKLOG + 1):
        bus.announce("t1", {"run_id": f"r{i}"})
    assert await mine.next(1) is feed.LOST
    assert await mine.next(0.05) is None
    await mine.close()
    await other.close()
    bus.announce("t1", {"run_id": "after"})  # nobody listens: nothing kept
