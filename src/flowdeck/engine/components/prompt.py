"""Prompt template: a text with `{variables}`, each of which becomes an input of the node."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flowdeck.engine.components._values import text_of
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message

# `{{` and `}}` are escapes; `{name}` is a variable; any other brace text (JSON examples in a
# prompt, say) stays literal rather than failing as str.format would.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_variables(template: str) -> list[str]:
    """The variable names of a template, in order of first use."""
    names: dict[str, None] = {}
    for match in _TOKEN.finditer(template):
        if match.group(1):
            names.setdefault(match.group(1), None)
    return list(names)


def render_template(template: str, values: Mapping[str, Any]) -> str:
    """Fill a template's variables; a variable with no value renders as empty text."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        value = values.get(match.group(1))
        return "" if value is None else text_of(value)

    return _TOKEN.sub(replace, template)


class PromptTemplate(Component):
    type_name = "Prompt Template"
    aliases = ("Prompt",)
    display_name = "Prompt Template"
    description = "Create a prompt from a template; each {variable} in it becomes an input."
    category = "prompts"
    inputs = (
        Input("template", DataType.TEXT, default="", display_name="Template"),
        Input(
            "template_format",
            DataType.TEXT,
            default="f-string",
            options=("f-string",),
            advanced=True,
            info="Only f-string style ({name}) templates are supported.",
        ),
    )
    outputs = (Output("prompt", DataType.MESSAGE, "Prompt"),)

    @classmethod
    def dynamic_inputs(cls, params: Mapping[str, Any]) -> tuple[Input, ...]:
        template = params.get("template")
        if not isinstance(template, str):
            return ()
        # ANY, so a message, a Data record or plain text may fill a variable.
        return tuple(Input(name, DataType.ANY, default="") for name in template_variables(template))

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        fmt = params.get("template_format") or "f-string"
        if fmt != "f-string":
            raise ValueError(f"template format {fmt!r} is not supported; use f-string")
        template = text_of(params["template"])
        text = render_template(template, params)
        return {
            "prompt": Message(
                text=text, sender="User", sender_name="User", session_id=ctx.session_id
            )
        }
