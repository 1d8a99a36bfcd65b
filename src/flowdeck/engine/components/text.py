"""Text operations: combine, replace, change case and the other Langflow text operations."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message


def _message(ctx: VertexContext, text: str) -> Message:
    return Message(text=text, session_id=ctx.session_id)


class CombineText(Component):
    type_name = "CombineText"
    display_name = "Combine Text"
    description = "Concatenate two texts with a delimiter."
    category = "processing"
    inputs = (
        Input("text1", DataType.TEXT, default="", display_name="First Text"),
        Input("text2", DataType.TEXT, default="", display_name="Second Text"),
        Input("delimiter", DataType.TEXT, default=" ", display_name="Delimiter"),
    )
    outputs = (Output("combined_text", DataType.MESSAGE, "Combined Text"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        combined = params["delimiter"].join((params["text1"] or "", params["text2"] or ""))
        return {"combined_text": _message(ctx, combined)}


class ReplaceText(Component):
    type_name = "ReplaceText"
    display_name = "Replace Text"
    description = "Replace every occurrence of a text (or a regular expression) in the input."
    category = "processing"
    inputs = (
        Input("input_text", DataType.TEXT, default="", display_name="Input Text"),
        Input("search", DataType.TEXT, required=True, display_name="Search For"),
        Input("replacement", DataType.TEXT, default="", display_name="Replace With"),
        Input("use_regex", DataType.BOOLEAN, default=False, display_name="Use Regex"),
        Input("case_sensitive", DataType.BOOLEAN, default=True, display_name="Case Sensitive"),
    )
    outputs = (Output("text", DataType.MESSAGE, "Text"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        text = replace_text(
            params["input_text"] or "",
            params["search"],
            params["replacement"] or "",
            use_regex=bool(params["use_regex"]),
            case_sensitive=params["case_sensitive"] is not False,
        )
        return {"text": _message(ctx, text)}


def replace_text(
    text: str, search: str, replacement: str, *, use_regex: bool, case_sensitive: bool
) -> str:
    """Replace `search` in `text`; an invalid pattern is a ValueError naming it."""
    if not search:
        return text
    flags = 0 if case_sensitive else re.IGNORECASE
    if not use_regex:
        if case_sensitive:
            return text.replace(search, replacement)
        # A literal, case-insensitive search: escape it and keep the replacement literal.
        return re.sub(re.escape(search), lambda _m: replacement, text, flags=flags)
    try:
        return re.sub(search, replacement, text, flags=flags)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {search!r}: {exc}") from exc


_CASES: dict[str, Callable[[str], str]] = {
    "uppercase": str.upper,
    "lowercase": str.lower,
    "title": str.title,
    "capitalize": str.capitalize,
    "swapcase": str.swapcase,
}

# Short operation names accepted besides Langflow's, with the case they imply.
_SHORT: dict[str, tuple[str, str | None]] = {
    "upper": ("Case Conversion", "uppercase"),
    "uppercase": ("Case Conversion", "uppercase"),
    "lower": ("Case Conversion", "lowercase"),
    "lowercase": ("Case Conversion", "lowercase"),
    "title": ("Case Conversion", "title"),
    "replace": ("Text Replace", None),
    "strip": ("Text Strip", None),
    "head": ("Text Head", None),
    "tail": ("Text Tail", None),
    "join": ("Text Join", None),
    "count": ("Word Count", None),
    "extract": ("Text Extract", None),
    "clean": ("Text Clean", None),
}

OPERATIONS = (
    "Case Conversion",
    "Text Replace",
    "Text Strip",
    "Text Head",
    "Text Tail",
    "Text Join",
    "Word Count",
    "Text Extract",
    "Text Clean",
)


def operation_name(value: Any) -> tuple[str, str | None]:
    """The operation and implied case from Langflow's `[{"name": ...}]` form or a plain name."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name", "")
    name = str(value or "").strip()
    if name in OPERATIONS:
        return name, None
    short = _SHORT.get(name.lower())
    if short is None:
        raise ValueError(f"unknown operation {name!r}; choose one of {', '.join(OPERATIONS)}")
    return short


class TextOperations(Component):
    type_name = "TextOperations"
    display_name = "Text Operations"
    description = "Change case, replace, strip, cut, join, count or extract text."
    category = "processing"
    inputs = (
        Input("text_input", DataType.TEXT, default="", display_name="Text Input"),
        Input(
            "operation",
            DataType.ANY,
            default="Case Conversion",
            options=OPERATIONS,
            info="A Langflow operation name, or upper, lower, replace, strip, ...",
        ),
        Input("case_type", DataType.TEXT, default="lowercase", options=tuple(_CASES)),
        Input("search_pattern", DataType.TEXT, default=""),
        Input("replacement_text", DataType.TEXT, default=""),
        Input("use_regex", DataType.BOOLEAN, default=False),
        Input("head_characters", DataType.NUMBER, default=100),
        Input("tail_characters", DataType.NUMBER, default=100),
        Input("strip_mode", DataType.TEXT, default="both", options=("both", "left", "right")),
        Input("strip_characters", DataType.TEXT, default=""),
        Input("text_input_2", DataType.TEXT, default="", display_name="Second Text Input"),
        Input("extract_pattern", DataType.TEXT, default=""),
        Input("max_matches", DataType.NUMBER, default=10),
        Input("remove_extra_spaces", DataType.BOOLEAN, default=True),
        Input("remove_empty_lines", DataType.BOOLEAN, default=False),
    )
    outputs = (
        Output("message", DataType.MESSAGE, "Message"),
        Output("data", DataType.DATA, "Data"),
        Output("text", DataType.MESSAGE, "Text"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        text: str = params["text_input"] or ""
        op, case = operation_name(params["operation"])
        if op == "Word Count":
            lines = text.split("\n")
            words = text.split()
            return {
                "data": {
                    "word_count": len(words),
                    "unique_words": len(set(words)),
                    "character_count": len(text),
                    "character_count_no_spaces": len(text.replace(" ", "")),
                    "line_count": len(lines),
                    "non_empty_lines": sum(1 for line in lines if line.strip()),
                }
            }
        if op == "Text Extract":
            pattern = params["extract_pattern"] or ""
            try:
                found = [m.group(0) for m in re.finditer(pattern, text)] if pattern else []
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
            limit = int(params["max_matches"] or 0)
            found = found[:limit] if limit > 0 else found
            return {"message": _message(ctx, "\n".join(found)), "data": {"matches": found}}
        result = self._transform(op, case, text, params)
        if op == "Text Join":
            message = _message(ctx, result)
            return {"message": message, "text": message}
        return {"message": _message(ctx, result)}

    @staticmethod
    def _transform(op: str, case: str | None, text: str, params: dict[str, Any]) -> str:
        if op == "Case Conversion":
            case = case or params["case_type"] or "lowercase"
            if case not in _CASES:
                raise ValueError(f"unknown case_type {case!r}; choose one of {', '.join(_CASES)}")
            return _CASES[case](text)
        if op == "Text Replace":
            return replace_text(
                text,
                params["search_pattern"] or "",
                params["replacement_text"] or "",
                use_regex=bool(params["use_regex"]),
                case_sensitive=True,
            )
        if op == "Text Strip":
            chars = params["strip_characters"] or None
            mode = params["strip_mode"] or "both"
            return {"left": text.lstrip, "right": text.rstrip}.get(mode, text.strip)(chars)
        if op == "Text Head":
            return text[: max(int(params["head_characters"] or 0), 0)]
        if op == "Text Tail":
            count = max(int(params["tail_characters"] or 0), 0)
            return text[-count:] if count else ""
        if op == "Text Join":
            return "\n".join(t for t in (text, params["text_input_2"] or "") if t)
        # Text Clean. Runs of spaces collapse within each line (Langflow collapses newlines
        # too, which would leave remove_empty_lines nothing to do).
        lines = text.split("\n")
        if params["remove_extra_spaces"]:
            lines = [re.sub(r"[ \t]+", " ", line) for line in lines]
        if params["remove_empty_lines"]:
            lines = [line for line in lines if line.strip()]
        return "\n".join(lines)
