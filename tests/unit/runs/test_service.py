"""The run service over the in-memory fakes: one place changes state and announces it."""

from __future__ import annotations

from typing import Any

import pytest

from flowdeck.db.models import Run
from flowdeck.errors import InvalidStateError, NotFoundError
from flowdeck.runs.bus import MemoryEventBus
from flowdeck.runs.service import RunService
from flowdeck.runs.states import RunState
from flowdeck.runs.store import MemoryRunStore
from tests.conftest import TEST_TENANT


class Channel:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    async def control(self, run_id: str, command: str, payload: Any = None) -> None:
        self.sent.append((run_id, command, payload))


@pytest.fixture
def service() -> RunService:
    runs = RunService(MemoryRunStore(), MemoryEventBus())
    runs.channel = Channel()
    return runs


async def new_run(service: RunService) -> Run:
    return await service.create(Run(tenant_id=TEST_TENANT, user_id=1, request={}, attempts=0))


async def states(service: RunService, run_id: str) -> list[str]:
    return [data["state"] for _, name, data in await service.bus.read(run_id) if name == "state"]


async def test_a_new_run_is_queued_and_announced(service: RunService) -> None:
    run = await new_run(service)
    assert run.state == "queued"
    assert await states(service, run.id) == ["queued"]


async def test_transitions_follow_the_state_machine_and_each_emits_one_event(
    service: RunService,
) -> None:
    run = await new_run(service)
    await service.transition(run.id, RunState.RUNNING, changes={"worker": "w", "attempts": 1})
    await service.transition(run.id, RunState.PAUSED)
    await service.transition(run.id, RunState.RUNNING)
    done = await service.transition(run.id, RunState.COMPLETED)
    assert done.progress == 1.0
    assert done.finished_at is not None
    assert await states(service, run.id) == ["queued", "running", "paused", "running", "completed"]
    events = await service.bus.read(run.id)
    assert events[-1][1] == "end"  # the terminal event comes after the final state
    assert [cursor for cursor, _, _ in events] == list(range(1, len(events) + 1))


async def test_a_forbidden_transition_is_refused_and_changes_nothing(service: RunService) -> None:
    run = await new_run(service)
    with pytest.raises(InvalidStateError):
        await service.transition(run.id, RunState.PAUSED)  # queued cannot pause
    await service.transition(run.id, RunState.CANCELLED)
    with pytest.raises(InvalidStateError):
        await service.transition(run.id, RunState.RUNNING)
    assert (await service.get(run.id)).state == "cancelled"
    assert await states(service, run.id) == ["queued", "cancelled"]


async def test_a_fenced_write_applies_only_for_the_attempt_that_holds_the_run(
    service: RunService,
) -> None:
    run = await new_run(service)
    await service.transition(run.id, RunState.RUNNING, changes={"worker": "a", "attempts": 1})
    # The lease lapsed: the run went back to the queue and worker b took attempt 2.
    await service.transition(run.id, RunState.QUEUED, changes={"worker": None})
    await service.transition(run.id, RunState.RUNNING, changes={"worker": "b", "attempts": 2})
    with pytest.raises(InvalidStateError):
        await service.transition(run.id, RunState.COMPLETED, fence=("a", 1))
    done = await service.transition(run.id, RunState.COMPLETED, fence=("b", 2))
    assert done.state == "completed"


async def test_cancel_of_a_queued_run_ends_it_without_a_worker(service: RunService) -> None:
    run = await new_run(service)
    cancelled = await service.cancel(run.id)
    assert cancelled.state == "cancelled"
    assert service.channel.sent == []  # type: ignore[union-attr]


async def test_control_of_a_running_run_goes_to_its_worker(service: RunService) -> None:
    run = await new_run(service)
    await service.transition(run.id, RunState.RUNNING)
    await service.pause(run.id)
    await service.resume(run.id)
    await service.cancel(run.id, "stop it")
    sent = service.channel.sent  # type: ignore[union-attr]
    assert [(command, payload) for _, command, payload in sent] == [
        ("pause", None),
        ("resume", None),
        ("cancel", "stop it"),
    ]


async def test_answering_records_the_reviewer(service: RunService) -> None:
    run = await new_run(service)
    await service.transition(run.id, RunState.RUNNING)
    await service.transition(run.id, RunState.WAITING, changes={"waiting_on": "ask"})
    answered = await service.answer(run.id, "yes", user_id=7)
    assert answered.state == "running"
    assert answered.reviewed_by == 7
    assert answered.reviewed_at is not None
    assert answered.waiting_on is None
    assert service.channel.sent[-1][1:] == ("answer", {"vertex_id": "ask", "value": "yes"})  # type: ignore[union-attr]


async def test_answering_a_run_that_does_not_wait_is_refused(service: RunService) -> None:
    run = await new_run(service)
    with pytest.raises(InvalidStateError):
        await service.answer(run.id, "yes")
    with pytest.raises(NotFoundError):
        await service.get("no-such-run")


async def test_a_waiting_run_can_be_paused_and_waits_again_when_resumed(
    service: RunService,
) -> None:
    run = await new_run(service)
    await service.transition(run.id, RunState.RUNNING, changes={"worker": "w", "attempts": 1})
    await service.transition(run.id, RunState.WAITING, changes={"waiting_on": "ask"})
    paused = await service.pause(run.id)
    assert (paused.state, paused.waiting_on) == ("paused", "ask")
    with pytest.raises(InvalidStateError, match="resume it before answering"):
        await service.answer(run.id, "yes")
    resumed = await service.resume(run.id)
    assert (resumed.state, resumed.waiting_on) == ("waiting", "ask")
    answered = await service.answer(run.id, "yes", user_id=7)
    assert (answered.state, answered.waiting_on, answered.reviewed_by) == ("running", None, 7)
    assert await states(service, run.id) == [
        "queued",
        "running",
        "waiting",
        "paused",
        "waiting",
        "running",
    ]
    channel = service.channel
    assert isinstance(channel, Channel)
    assert [command for _, command, _ in channel.sent] == ["pause", "resume", "answer"]


async def test_a_step_that_starts_waiting_while_paused_waits_after_resume(
    service: RunService,
) -> None:
    from flowdeck.engine import Engine
    from flowdeck.runs.recorder import RunRecorder
    from flowdeck.workers.runner import RunWorker

    worker = RunWorker(Engine(), service, graphs=None, name="w")  # type: ignore[arg-type]
    run = await new_run(service)
    await service.transition(run.id, RunState.RUNNING, changes={"worker": "w", "attempts": 1})
    await service.pause(run.id)
    recorder = RunRecorder(run.id, service.bus, flow_id=None, tenant_id=run.tenant_id, user_id=None)
    recorder.emit("vertices_sorted", {"ids": ["ask"], "to_run": ["ask"]})
    recorder.emit("build_start", {"id": "ask"})
    worker.progress.track(run.id, recorder, ("w", 1))
    await worker._mark_waiting(run.id, "ask", ("w", 1))
    worker.progress.untrack(run.id)
    paused = await service.get(run.id)
    assert (paused.state, paused.waiting_on) == ("paused", "ask")
    assert [step["id"] for step in paused.steps] == ["ask"]  # the record caught up with it
    resumed = await service.resume(run.id)
    assert (resumed.state, resumed.waiting_on) == ("waiting", "ask")


async def test_a_finished_run_leaves_nothing_for_the_collector(service: RunService) -> None:
    """A run's recorder, executor and steps go when the run ends, by reference counting: a
    cycle among them would keep every run's record in memory until a full collection."""
    import gc

    from flowdeck.engine import Engine
    from flowdeck.engine.executor import Executor
    from flowdeck.runs.recorder import RunRecorder
    from flowdeck.workers.runner import RunWorker

    engine = Engine()
    graph = engine.compile(
        {
            "nodes": [{"id": "in", "type": "ChatInput"}, {"id": "out", "type": "ChatOutput"}],
            "edges": [{"from": "in.message", "to": "out.input_value"}],
        }
    )
    worker = RunWorker(engine, service, graphs=None, name="w")  # type: ignore[arg-type]
    # No progress pass during the test: one caught writing holds its run for a moment.
    worker.progress.interval = 3600

    def alive() -> set[int]:
        return {id(o) for o in gc.get_objects() if isinstance(o, RunRecorder | Executor)}

    await worker.execute_id((await new_run(service)).id, graph)  # warm: caches, lazy imports
    gc.collect()
    gc.disable()
    try:
        before = alive()
        for _ in range(3):
            run = await new_run(service)
            assert await worker.execute_id(run.id, graph) is RunState.COMPLETED
        assert not alive() - before  # only this test's: others' may end meanwhile
    finally:
        gc.enable()
        await worker.progress.stop()
