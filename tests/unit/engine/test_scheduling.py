"""How the executor schedules ready vertices: a fan-out runs its waiting branches all at
once, and one whose branches never suspend holds a couple of tasks, not one per branch."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from flowdeck.engine import Engine, RunControl, VertexContext
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.components.registry import ComponentRegistry
from flowdeck.engine.results import RunStatus, VertexState
from flowdeck.engine.types import DataType

FAN_OUT = 300


class Source(Component):
    type_name = "Source"
    outputs = (Output("out", DataType.ANY),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        return {"out": 1}


class Tasks(Component):
    """Never suspends; notes how many tasks the loop holds while it runs."""

    type_name = "Tasks"
    inputs = (Input("value", DataType.ANY),)
    outputs = (Output("out", DataType.ANY),)
    seen: ClassVar[list[int]] = []

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        Tasks.seen.append(len(asyncio.all_tasks()))
        return {"out": params["value"]}


class Gate(Component):
    """Waits until `needed` gates are waiting together: only a concurrent fan-out ends."""

    type_name = "Gate"
    inputs = (Input("value", DataType.ANY),)
    outputs = (Output("out", DataType.ANY),)
    needed: ClassVar[int] = FAN_OUT
    waiting: ClassVar[int] = 0
    all_in: ClassVar[asyncio.Event | None] = None
    fan_out_in = asyncio.Event()  # FAN_OUT gates are waiting (whatever `needed` is)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        assert Gate.all_in is not None
        Gate.waiting += 1
        if Gate.waiting == FAN_OUT:
            Gate.fan_out_in.set()
        if Gate.waiting == Gate.needed:
            Gate.all_in.set()
        await Gate.all_in.wait()
        return {"out": params["value"]}


class Sink(Component):
    type_name = "Sink"
    inputs = (Input("values", DataType.ANY, is_list=True),)
    outputs = (Output("out", DataType.ANY),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        return {"out": len(params["values"])}


def fan_out(middle: str, n: int = FAN_OUT) -> dict[str, Any]:
    ids = [f"m{i}" for i in range(n)]
    return {
        "nodes": [
            {"id": "src", "type": "Source"},
            *({"id": m, "type": middle} for m in ids),
            {"id": "sink", "type": "Sink"},
        ],
        "edges": [
            *({"from": "src.out", "to": f"{m}.value"} for m in ids),
            *({"from": f"{m}.out", "to": "sink.values"} for m in ids),
        ],
    }


def engine() -> Engine:
    return Engine(ComponentRegistry([Source, Tasks, Gate, Sink]))


def gates(needed: int) -> None:
    Gate.needed, Gate.waiting, Gate.all_in = needed, 0, asyncio.Event()
    Gate.fan_out_in = asyncio.Event()


async def test_branches_that_wait_all_wait_at_once() -> None:
    gates(FAN_OUT)
    eng = engine()
    # Sequential branches would never all be in: the run would hit its time limit.
    result = await asyncio.wait_for(eng.run(eng.compile(fan_out("Gate"))), 10)
    assert result.ok, result.error
    assert result.vertices["sink"].outputs["out"] == FAN_OUT


async def test_branches_that_never_suspend_do_not_hold_a_task_each() -> None:
    Tasks.seen = []
    eng = engine()
    before = len(asyncio.all_tasks())
    result = await eng.run(eng.compile(fan_out("Tasks", 2000)))
    assert result.ok, result.error
    assert result.vertices["sink"].outputs["out"] == 2000
    assert len(Tasks.seen) == 2000
    # The run's own task, its driver and at most one helper waiting for its turn.
    assert max(Tasks.seen) - before <= 3


async def test_a_cancel_reaches_every_waiting_branch() -> None:
    gates(FAN_OUT + 1)  # one more than there are: the gate never opens
    eng = engine()
    control = RunControl()
    task = asyncio.create_task(eng.run(eng.compile(fan_out("Gate")), control=control))
    await asyncio.wait_for(Gate.fan_out_in.wait(), 10)
    control.cancel("stop")
    result = await asyncio.wait_for(task, 10)
    assert result.status is RunStatus.CANCELLED
    states = {result.vertices[f"m{i}"].state for i in range(FAN_OUT)}
    assert states == {VertexState.CANCELLED}
