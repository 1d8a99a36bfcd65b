"""JSON operations: parse JSON text into Data, and pick values out of Data by a path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from flowdeck.engine.components._values import record
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message, to_text

# Models often wrap JSON in a Markdown code fence; accept it.
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)
# Path steps, each after an optional dot (so jq's `.a[0]` and `.[0]` read too): `name`,
# `[3]` / `[-1]`, `["key"]` / `['key']`, and the wildcards `*`, `[*]`, `[]`.
_STEP = re.compile(
    r"""\.?(?:(?P<name>[^.\[\]"'\s]+)|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<quoted>"(?:[^"\\]|\\.)*"|'[^']*')\]|(?P<wild>\[\*?\]))"""
)
_WILD = object()


def parse_json_text(text: str) -> Any:
    """JSON text (or a fenced ```json block) as a value; a ValueError says where it broke."""
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"input is not valid JSON: {exc}") from exc


def parse_path(path: str) -> list[Any]:
    """`a.b[0]["c d"][*]` as steps: str keys, int indexes, and a wildcard marker."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    if text in ("", "."):
        return []
    steps: list[Any] = []
    pos = 0
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"invalid path {path!r} at position {pos}")
        if m.group("name") is not None:
            steps.append(_WILD if m.group("name") == "*" else m.group("name"))
        elif m.group("index") is not None:
            steps.append(int(m.group("index")))
        elif m.group("quoted") is not None:
            quoted = m.group("quoted")
            steps.append(orjson.loads(quoted) if quoted[0] == '"' else quoted[1:-1])
        else:
            steps.append(_WILD)
        pos = m.end()
    return steps


def query(value: Any, steps: list[Any], path: str = "") -> Any:
    """Walk `steps` into `value`. Missing keys and indexes give None, as in jq."""
    for i, step in enumerate(steps):
        if value is None:
            return None
        if step is _WILD:
            items = list(value.values()) if isinstance(value, dict) else value
            if not isinstance(items, list):
                raise ValueError(f"path {path!r}: cannot iterate over {type(value).__name__}")
            return [query(item, steps[i + 1 :], path) for item in items]
        if isinstance(step, int):
            if not isinstance(value, list):
                raise ValueError(
                    f"path {path!r}: cannot index {type(value).__name__} with [{step}]"
                )
            value = value[step] if -len(value) <= step < len(value) else None
        elif isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.lstrip("-").isdigit():
            # `a.0` reads as `a[0]`.
            index = int(step)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            raise ValueError(f"path {path!r}: cannot read key {step!r} of {type(value).__name__}")
    return value


def _as_json_value(value: Any) -> Any:
    """An input that may be JSON text, a message holding JSON, or already Data."""
    if isinstance(value, Message):
        value = value.text
    if isinstance(value, str):
        return parse_json_text(value)
    return value


class ParseJSON(Component):
    type_name = "ParseJSON"
    display_name = "Parse JSON"
    description = "Parse JSON text into Data (a ```json fenced block is accepted too)."
    category = "processing"
    inputs = (Input("input_value", DataType.TEXT, required=True, display_name="JSON Text"),)
    outputs = (Output("data", DataType.DATA, "Data"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        return {"data": parse_json_text(params["input_value"])}


class JSONQuery(Component):
    type_name = "JSONQuery"
    # Langflow's Parse JSON takes a jq query; its simple paths (`.a.b[0]`, `.[]`) mean the same.
    aliases = ("ParseJSONData",)
    display_name = "JSON Query"
    description = "Pick a value out of Data or JSON text by a path such as a.b[0].c or items[*].id."
    category = "processing"
    inputs = (
        Input("input_value", DataType.ANY, required=True, display_name="Data or JSON"),
        Input(
            "query",
            DataType.TEXT,
            default="",
            display_name="Path",
            info='Dot and bracket path: a.b[0].c, items[*].name, ["odd key"]; empty = all.',
        ),
    )
    outputs = (
        Output("result", DataType.ANY, "Result"),
        Output("filtered_data", DataType.LIST, "Filtered Data"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        path = params["query"] or ""
        steps = parse_path(path)
        data = _as_json_value(params["input_value"])
        result = query(data, steps, path)
        if result is None:
            ctx.log(f"path {path!r} matched nothing", level="warning")
        rows = result if isinstance(result, list) else [result]
        # Langflow gives each result as a Data record; scalars go under "text".
        filtered = [record(r) if isinstance(r, dict) else {"text": to_text(r)} for r in rows]
        return {"result": result, "filtered_data": filtered}
