"""Sub-flow: run another flow as one step, passing it an input and reading its answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdeck.engine.components._values import text_of
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.results import RunResult, VertexResult, VertexState
from flowdeck.engine.types import DataType, Message, to_jsonable
from flowdeck.errors import FlowdeckError


def _output_types() -> frozenset[str]:
    """Type names of the built-ins a run's answer comes from (chat and text outputs)."""
    from flowdeck.engine.components.registry import default_registry

    return frozenset(c.type_name for c in default_registry() if c.output_kind is not None)


def answer_of(result: RunResult) -> VertexResult | None:
    """The sub-flow's answer: its last chat/text output to finish, else its last step."""
    done = [v for v in result.vertices.values() if v.state is VertexState.COMPLETED]
    outputs = _output_types()
    chosen = [v for v in done if v.type_name in outputs] or done
    return chosen[-1] if chosen else None


class SubFlow(Component):
    type_name = "SubFlow"
    display_name = "Sub Flow"
    description = "Run another flow (a file path, or a stored flow's id or name) as one step."
    category = "logic"
    inputs = (
        Input(
            "flow",
            DataType.TEXT,
            required=True,
            display_name="Flow",
            info="A flow file path (relative to this flow's file) or a stored flow id/name.",
        ),
        Input(
            "input_value",
            DataType.ANY,
            default="",
            display_name="Input",
            info="Given to the sub-flow's chat or text input.",
        ),
        Input(
            "tweaks",
            DataType.DATA,
            display_name="Tweaks",
            advanced=True,
            info="Field overrides for the sub-flow, by component id or display name.",
        ),
    )
    outputs = (
        Output("message", DataType.MESSAGE, "Message"),
        Output("data", DataType.DATA, "Result"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        ref = params["flow"]
        tweaks = params["tweaks"]
        if tweaks is not None and not isinstance(tweaks, dict):
            raise ValueError("tweaks must be an object of {component: {field: value}}")
        value = params["input_value"]
        input_value = text_of(value) if value not in (None, "") else None
        try:
            result = await ctx.run_subflow(ref, input_value, tweaks or None)
        except FlowdeckError as exc:
            raise ValueError(f"sub-flow {ref!r}: {exc.message}") from exc
        if not result.ok:
            raise ValueError(f"sub-flow {ref!r} {result.status.value}: {result.error}")
        answer = answer_of(result)
        text = answer.text() if answer is not None else ""
        ctx.log(f"sub-flow {ref!r} completed in {result.duration:.3f}s")
        data = {
            "flow": ref,
            "run_id": result.run_id,
            "status": result.status.value,
            "duration": result.duration,
            "text": text,
            "outputs": {
                vid: {"state": v.state.value, "results": to_jsonable(v.outputs)}
                for vid, v in result.vertices.items()
            },
        }
        message = Message(text=text, session_id=ctx.session_id)
        return {"message": message, "data": data}
