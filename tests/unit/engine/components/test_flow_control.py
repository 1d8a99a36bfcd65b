from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flowdeck.engine import Engine, RunControl, RunRequest
from flowdeck.engine.events import CallbackSink, ListSink, TeeSink
from flowdeck.engine.results import RunStatus, VertexState
from flowdeck.engine.types import Message

from ._support import flow, run

# -- Delay ------------------------------------------------------------------------------------


async def test_delay_passes_the_input_on_after_waiting(engine: Engine) -> None:
    doc = flow(
        [("in", "ChatInput", {}), ("d", "Delay", {"seconds": 0.05}), ("out", "ChatOutput", {})],
        [("in.message", "d.input_value"), ("d.message", "out.input_value")],
    )
    ran = await run(engine, doc, RunRequest(input_value="later"))
    delayed = ran.out("d", "message")
    assert isinstance(delayed, Message)
    assert delayed is ran.out("in", "message")  # passed on unchanged
    assert ran.result.vertices["d"].duration >= 0.05
    assert ran.text("out") == "later"


async def test_two_delays_run_concurrently(engine: Engine) -> None:
    doc = flow(
        [
            ("in", "ChatInput", {}),
            ("a", "Delay", {"seconds": 0.2}),
            ("b", "Delay", {"seconds": 0.2}),
            ("c", "CombineText", {"delimiter": "+"}),
        ],
        [
            ("in.message", "a.input_value"),
            ("in.message", "b.input_value"),
            ("a.message", "c.text1"),
            ("b.message", "c.text2"),
        ],
    )
    ran = await run(engine, doc, RunRequest(input_value="x"))
    assert ran.text("c") == "x+x"
    assert ran.result.vertices["a"].duration >= 0.2
    assert ran.result.vertices["b"].duration >= 0.2
    # A correctness check (the branches overlap), not a benchmark: sequential would be 0.4s.
    assert ran.result.duration < 0.35


async def test_negative_delay_is_a_component_error(engine: Engine) -> None:
    ran = await run(engine, flow([("d", "Delay", {"seconds": -1})]))
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error == "Delay (d): seconds must not be negative, got -1"


# -- WaitForInput -----------------------------------------------------------------------------


def _answering(control: RunControl, answer: Any, into: ListSink) -> TeeSink:
    """A sink that answers a step as soon as it announces it is waiting."""

    def on_event(event: str, data: dict[str, Any]) -> None:
        if event == "waiting":
            control.answer(answer, data["id"])

    return TeeSink(into, CallbackSink(on_event))


def _start(engine: Engine, control: RunControl) -> tuple[asyncio.Task[Any], asyncio.Event]:
    """Start WAIT_FLOW in a task; the event is set once a step announces it is waiting."""
    waiting = asyncio.Event()
    sink = CallbackSink(lambda event, _data: waiting.set() if event == "waiting" else None)
    graph = engine.compile(WAIT_FLOW)
    run = engine.run(graph, RunRequest(input_value="q"), control=control, sink=sink)
    return asyncio.create_task(run), waiting


WAIT_FLOW = flow(
    [
        ("in", "ChatInput", {}),
        ("w", "WaitForInput", {"prompt": "Which city?"}),
        ("p", "Prompt", {"template": "{q} -> {a}"}),
    ],
    [("in.message", "w.input_value"), ("in.message", "p.q"), ("w.message", "p.a")],
)


async def test_wait_for_input_passes_the_answer_on(engine: Engine) -> None:
    control, sink = RunControl(), ListSink()
    graph = engine.compile(WAIT_FLOW)
    result = await engine.run(
        graph,
        RunRequest(input_value="Trip plan"),
        sink=_answering(control, "Paris", sink),
        control=control,
    )
    assert result.ok
    waiting = sink.of("waiting")
    assert waiting == [{"id": "w", "prompt": "Which city?\n\nTrip plan", "kind": "input"}]
    answer = result.vertices["w"].outputs["message"]
    assert answer.text == "Paris"
    assert answer.sender == "User"
    assert result.vertices["p"].outputs["prompt"].text == "Trip plan -> Paris"


async def test_wait_for_input_answered_later_by_the_host(engine: Engine) -> None:
    control = RunControl()
    task, waiting = _start(engine, control)
    await asyncio.wait_for(waiting.wait(), 5)
    assert control.waiting_on == ["w"]
    assert not task.done()
    assert control.answer({"value": "Lyon"}) == "w"
    result = await asyncio.wait_for(task, 5)
    assert result.vertices["p"].outputs["prompt"].text == "q -> Lyon"


async def test_cancelling_a_waiting_run(engine: Engine) -> None:
    control = RunControl()
    task, waiting = _start(engine, control)
    await asyncio.wait_for(waiting.wait(), 5)
    control.cancel("no answer")
    result = await asyncio.wait_for(task, 5)
    assert result.status is RunStatus.CANCELLED
    assert result.vertices["w"].state is VertexState.CANCELLED


# -- Approval ---------------------------------------------------------------------------------

APPROVAL_FLOW = flow(
    [
        ("in", "ChatInput", {}),
        ("ok", "Approval", {"prompt": "Send this?"}),
        ("sent", "TextOutput", {}),
        ("dropped", "TextOutput", {}),
    ],
    [
        ("in.message", "ok.input_value"),
        ("ok.approved", "sent.input_value"),
        ("ok.rejected", "dropped.input_value"),
    ],
)


@pytest.mark.parametrize(
    ("answer", "approved"),
    [
        (True, True),
        ("approve", True),
        ("Approved", True),
        ({"approved": True, "reason": "fine"}, True),
        ({"decision": "approve"}, True),
        (False, False),
        ("reject", False),
        ({"approved": False}, False),
        ("maybe", False),
        (None, False),
    ],
)
async def test_approval_takes_one_branch(engine: Engine, answer: Any, approved: bool) -> None:
    control, sink = RunControl(), ListSink()
    graph = engine.compile(APPROVAL_FLOW)
    result = await engine.run(
        graph,
        RunRequest(input_value="the draft"),
        sink=_answering(control, answer, sink),
        control=control,
    )
    assert result.ok
    assert sink.of("waiting")[0]["kind"] == "approval"
    took, skipped = ("sent", "dropped") if approved else ("dropped", "sent")
    assert result.vertices[took].outputs["text"].text == "the draft"
    assert result.vertices[skipped].state is VertexState.INACTIVE
    assert set(result.vertices["ok"].outputs) == {"approved" if approved else "rejected"}
    end = [e["build_data"] for e in sink.of("end_vertex") if e["build_data"]["id"] == "ok"]
    assert end[0]["inactivated_vertices"] == [skipped]


async def test_approval_logs_the_reason(engine: Engine) -> None:
    control, sink = RunControl(), ListSink()
    graph = engine.compile(APPROVAL_FLOW)
    result = await engine.run(
        graph,
        RunRequest(input_value="x"),
        control=control,
        sink=_answering(control, {"approved": False, "reason": "typo"}, sink),
    )
    assert [log["message"] for log in result.vertices["ok"].logs] == ["rejected: typo"]
