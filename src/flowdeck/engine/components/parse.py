"""Extracting text: regular-expression matches, and Data rendered through a pattern."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flowdeck.engine.components._values import records, text_of
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message, to_text


class RegexExtractorComponent(Component):
    type_name = "RegexExtractorComponent"
    display_name = "Regex Extractor"
    description = "Extract every match of a regular expression from a text."
    category = "processing"
    inputs = (
        Input("input_text", DataType.TEXT, required=True, display_name="Input Text"),
        Input("pattern", DataType.TEXT, required=True, display_name="Regex Pattern"),
    )
    outputs = (
        Output("data", DataType.LIST, "Matches"),
        Output("text", DataType.MESSAGE, "Message"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        pattern = params["pattern"]
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        # group(0), not findall: with several groups findall gives tuples, not the match.
        found = [m.group(0) for m in compiled.finditer(params["input_text"] or "") if m.group(0)]
        ctx.log(f"{len(found)} matches")
        text = "\n".join(found) if found else "No matches found"
        return {
            "data": [{"match": m} for m in found],
            "text": Message(text=text, session_id=ctx.session_id),
        }


class _Defaulting(dict[str, Any]):
    """Lets a pattern name keys a record lacks: they render as empty text."""

    def __missing__(self, key: str) -> str:
        return ""


def format_record(pattern: str, rec: Mapping[str, Any]) -> str:
    """Render one record through a `{key}` pattern (str.format rules, `{{` escapes)."""
    values = _Defaulting({k: text_of(v) if isinstance(v, Message) else v for k, v in rec.items()})
    try:
        return pattern.format_map(values)
    except (ValueError, IndexError, AttributeError, TypeError) as exc:
        raise ValueError(f"cannot apply pattern {pattern!r}: {exc}") from exc


def stringify(value: Any) -> str:
    """A value as plain text: a record's text if it has one, else its JSON."""
    if isinstance(value, list):
        return "\n".join(stringify(v) for v in value)
    return text_of(value) if isinstance(value, Message | dict) else to_text(value)


class ParserComponent(Component):
    type_name = "ParserComponent"
    display_name = "Parser"
    description = "Render Data (one record or a list) as text through a pattern."
    category = "processing"
    inputs = (
        Input("input_data", DataType.DATA, required=True, display_name="Data or list"),
        Input(
            "mode",
            DataType.TEXT,
            default="Parser",
            options=("Parser", "Stringify"),
            info="Stringify renders the input as raw text, ignoring the pattern.",
        ),
        Input(
            "pattern",
            DataType.TEXT,
            default="Text: {text}",
            display_name="Template",
            info="Use {key} for a record's values, e.g. 'Name: {name}'.",
        ),
        Input("sep", DataType.TEXT, default="\n", display_name="Separator"),
        Input(
            "clean_data",
            DataType.BOOLEAN,
            default=False,
            advanced=True,
            info="Stringify mode: drop empty lines.",
        ),
    )
    outputs = (Output("parsed_text", DataType.MESSAGE, "Parsed Text"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        data = params["input_data"]
        if params["mode"] == "Stringify":
            text = stringify(data)
            if params["clean_data"]:
                text = "\n".join(line for line in text.splitlines() if line.strip())
        else:
            sep = params["sep"] if params["sep"] is not None else "\n"
            pattern = params["pattern"] or ""
            text = sep.join(format_record(pattern, rec) for rec in records(data))
        return {"parsed_text": Message(text=text, session_id=ctx.session_id)}
