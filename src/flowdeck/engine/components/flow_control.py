"""Steps that wait: a fixed delay, an answer from a person, or a person's approval."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from flowdeck.engine.components._values import number
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message, to_text

# Keys an answer object may carry its value under.
_ANSWER_KEYS = ("text", "value", "input", "answer", "input_value")
_APPROVE_WORDS = frozenset({"approve", "approved", "yes", "y", "true", "ok", "accept", "1"})


class Delay(Component):
    type_name = "Delay"
    display_name = "Delay"
    description = "Wait a number of seconds, then pass the input on unchanged."
    category = "flow_control"
    inputs = (
        Input("input_value", DataType.ANY, display_name="Input"),
        Input("seconds", DataType.NUMBER, default=1, display_name="Seconds"),
    )
    outputs = (Output("message", DataType.ANY, "Output"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        seconds = number(params["seconds"], 1, "seconds")
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds:g}")
        # Sleeping yields to the loop: other steps and other runs go on meanwhile.
        await asyncio.sleep(seconds)
        return {"message": params["input_value"]}


def answer_text(answer: Any) -> str:
    """The text of an answer: plain text, a message, or an object such as {"value": ...}."""
    if isinstance(answer, dict):
        for key in _ANSWER_KEYS:
            if key in answer:
                return to_text(answer[key])
    return to_text(answer)


class WaitForInput(Component):
    type_name = "WaitForInput"
    display_name = "Wait for Input"
    description = "Pause this branch until someone answers; the answer is passed on."
    category = "flow_control"
    inputs = (
        Input(
            "input_value",
            DataType.ANY,
            display_name="Context",
            info="Shown with the prompt; not passed on.",
        ),
        Input("prompt", DataType.TEXT, default="Please provide input", display_name="Prompt"),
    )
    outputs = (Output("message", DataType.MESSAGE, "Answer"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        prompt = _prompt(params)
        answer = await ctx.wait_for_input(prompt, "input")
        if isinstance(answer, Message):
            return {"message": answer}
        ctx.log("answer received")
        text = answer_text(answer)
        return {
            "message": Message(
                text=text, sender="User", sender_name="User", session_id=ctx.session_id
            )
        }


def _prompt(params: dict[str, Any]) -> str:
    """The prompt, followed by the context it is about when there is one."""
    prompt = params["prompt"] or ""
    context = to_text(params["input_value"]) if params["input_value"] is not None else ""
    return f"{prompt}\n\n{context}" if context else prompt


def is_approval(answer: Any) -> bool:
    """Whether an answer approves: True, "approve(d)"/"yes"/..., or {"approved": true}."""
    if isinstance(answer, Message):
        answer = answer.text
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, int | float):
        return answer != 0
    if isinstance(answer, str):
        return answer.strip().lower() in _APPROVE_WORDS
    if isinstance(answer, dict):
        for key in ("approved", "approve"):
            if key in answer:
                return is_approval(answer[key])
        for key in ("decision", "action", "status", "value"):
            if key in answer:
                return is_approval(answer[key])
    return False


class Approval(Component):
    type_name = "Approval"
    display_name = "Approval"
    description = "Pause until someone approves or rejects; the input goes down that branch."
    category = "flow_control"
    inputs = (
        Input("input_value", DataType.ANY, display_name="Input"),
        Input("prompt", DataType.TEXT, default="Approve this step?", display_name="Prompt"),
    )
    outputs = (
        Output("approved", DataType.ANY, "Approved"),
        Output("rejected", DataType.ANY, "Rejected"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        answer = await ctx.wait_for_input(_prompt(params), "approval")
        approved = is_approval(answer)
        reason = (
            (answer.get("reason") or answer.get("comment")) if isinstance(answer, dict) else None
        )
        ctx.log(("approved" if approved else "rejected") + (f": {reason}" if reason else ""))
        # Only the chosen branch gets the value; the other one is skipped.
        return {"approved" if approved else "rejected": params["input_value"]}
