"""Chat and text input and output: where a run's input enters and its answer leaves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message, to_text

_STORE = Input("should_store_message", DataType.BOOLEAN, default=True, advanced=True)


class ChatInput(Component):
    type_name = "ChatInput"
    display_name = "Chat Input"
    description = "The user's chat message; receives the run's input value."
    category = "inputs"
    input_kind = "chat"
    inputs = (
        Input("input_value", DataType.TEXT, default="", display_name="Text"),
        _STORE,
        Input("sender", DataType.TEXT, default="User", options=("Machine", "User")),
        Input("sender_name", DataType.TEXT, default="User"),
        Input("session_id", DataType.TEXT, default=""),
        Input("files", DataType.LIST, default=None),
    )
    outputs = (Output("message", DataType.MESSAGE, "Chat Message"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        message = Message(
            text=to_text(params["input_value"]),
            sender=params["sender"] or "User",
            sender_name=params["sender_name"] or "User",
            session_id=params["session_id"] or ctx.session_id,
            files=[str(f) for f in params["files"] or []],
        )
        if params["should_store_message"]:
            ctx.send_message(message)
        return {"message": message}


class ChatOutput(Component):
    type_name = "ChatOutput"
    display_name = "Chat Output"
    description = "The answer shown in the chat; what a chat run returns."
    category = "outputs"
    output_kind = "chat"
    inputs = (
        Input("input_value", DataType.ANY, display_name="Inputs"),
        _STORE,
        Input("sender", DataType.TEXT, default="Machine", options=("Machine", "User")),
        Input("sender_name", DataType.TEXT, default="AI"),
        Input("session_id", DataType.TEXT, default=""),
        Input("data_template", DataType.TEXT, default="{text}", advanced=True),
    )
    outputs = (Output("message", DataType.MESSAGE, "Output Message"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        value = params["input_value"]
        text = _render(value, params["data_template"] or "{text}")
        message = Message(
            text=text,
            sender=params["sender"] or "Machine",
            sender_name=params["sender_name"] or "AI",
            session_id=params["session_id"] or ctx.session_id,
        )
        if params["should_store_message"]:
            ctx.send_message(message)
        return {"message": message}


class TextInput(Component):
    type_name = "TextInput"
    display_name = "Text Input"
    description = "Plain text; receives the run's input value when the input type is text."
    category = "inputs"
    input_kind = "text"
    inputs = (Input("input_value", DataType.TEXT, default="", display_name="Text"),)
    outputs = (Output("text", DataType.MESSAGE, "Output Text"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        return {
            "text": Message(
                text=to_text(params["input_value"]),
                sender="User",
                sender_name="User",
                session_id=ctx.session_id,
            )
        }


class TextOutput(Component):
    type_name = "TextOutput"
    display_name = "Text Output"
    description = "Plain text result; what a text run returns."
    category = "outputs"
    output_kind = "text"
    inputs = (Input("input_value", DataType.TEXT, display_name="Text"),)
    outputs = (Output("text", DataType.MESSAGE, "Output Text"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        return {"text": Message(text=to_text(params["input_value"]), session_id=ctx.session_id)}


def _render(value: Any, template: str) -> str:
    """Data values are rendered through `data_template`; everything else as text."""
    if isinstance(value, dict) and template != "{text}":
        try:
            return template.format(**value)
        except (KeyError, IndexError, ValueError):
            return to_text(value)
    if isinstance(value, dict) and "text" in value and len(value) == 1:
        return to_text(value["text"])
    if isinstance(value, list):
        return "\n".join(_render(v, template) for v in value)
    return to_text(value)
