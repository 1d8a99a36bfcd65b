"""Small conversions shared by the built-in components."""

from __future__ import annotations

from typing import Any

import orjson

from flowdeck.engine.types import Message, to_text


def text_of(value: Any) -> str:
    """Text of an edge value, reading a Data's `text` key as Langflow does."""
    if isinstance(value, Message):
        return value.text
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return str(value["text"])
    if isinstance(value, list):
        return "\n".join(text_of(v) for v in value)
    return to_text(value)


def record(value: Any) -> dict[str, Any]:
    """One value as a Data record (a dict)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, Message):
        return {"text": value.text}
    return {"text": to_text(value)}


def records(value: Any) -> list[dict[str, Any]]:
    """A Data, a list of them, a message or JSON text, as a list of Data records."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [record(v) for v in value]
    if isinstance(value, str):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return [{"text": value}]
        return records(parsed) if isinstance(parsed, list | dict) else [record(parsed)]
    return [record(value)]


def number(value: Any, default: float, name: str) -> float:
    """A numeric field that may arrive empty; raises a ValueError naming the field."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, not a boolean")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
