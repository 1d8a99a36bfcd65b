"""Value types carried on edges, and how one converts to another."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson


class DataType(StrEnum):
    """Port types. Names follow Langflow's `output_types` / `input_types` where it has them."""

    MESSAGE = "Message"
    TEXT = "Text"
    DATA = "Data"
    NUMBER = "Number"
    BOOLEAN = "Boolean"
    LIST = "List"
    ANY = "Any"


# Which output types each input type accepts (ANY is handled separately).
_ACCEPTS: dict[DataType, frozenset[DataType]] = {
    DataType.MESSAGE: frozenset({DataType.MESSAGE, DataType.TEXT, DataType.NUMBER}),
    DataType.TEXT: frozenset({DataType.MESSAGE, DataType.TEXT, DataType.NUMBER, DataType.BOOLEAN}),
    DataType.DATA: frozenset({DataType.DATA, DataType.MESSAGE, DataType.LIST}),
    DataType.NUMBER: frozenset({DataType.NUMBER, DataType.TEXT, DataType.MESSAGE}),
    DataType.BOOLEAN: frozenset({DataType.BOOLEAN, DataType.NUMBER, DataType.TEXT}),
    DataType.LIST: frozenset({DataType.LIST, DataType.DATA}),
}


def compatible(output: DataType, input_: DataType) -> bool:
    """Whether a value of type `output` may feed an input of type `input_`."""
    if output is DataType.ANY or input_ is DataType.ANY:
        return True
    return output in _ACCEPTS[input_]


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(slots=True)
class Message:
    """A chat message, the value most components pass along (Langflow's `Message`)."""

    text: str
    sender: str = "Machine"
    sender_name: str = "AI"
    session_id: str = ""
    id: str = field(default_factory=lambda: os.urandom(16).hex())
    timestamp: float = field(default_factory=time.time)
    files: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text_key": "text",
            "data": {"text": self.text},
            "text": self.text,
            "sender": self.sender,
            "sender_name": self.sender_name,
            "session_id": self.session_id,
            "files": self.files,
            "timestamp": datetime.fromtimestamp(self.timestamp, UTC).isoformat(),
            "properties": self.properties,
        }

    def __str__(self) -> str:
        return self.text


def to_text(value: Any) -> str:
    """Render any edge value as text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Message):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value, default=str).decode()


def coerce(value: Any, target: DataType) -> Any:
    """Convert a value to the declared input type; raises ValueError when it cannot."""
    if target is DataType.ANY or value is None:
        return value
    if target is DataType.TEXT:
        return to_text(value)
    if target is DataType.MESSAGE:
        return value if isinstance(value, Message) else Message(text=to_text(value))
    if target is DataType.NUMBER:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float):
            return value
        text = to_text(value).strip()
        try:
            return int(text)
        except ValueError:
            return float(text)
    if target is DataType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        text = to_text(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off", ""):
            return False
        raise ValueError(f"cannot read {text!r} as a boolean")
    if target is DataType.DATA:
        if isinstance(value, Message):
            return {"text": value.text}
        if isinstance(value, str):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                return {"text": value}
        return value
    if target is DataType.LIST:
        if isinstance(value, list):
            return value
        if isinstance(value, tuple):
            return list(value)
        return [value]
    return value


def to_jsonable(value: Any) -> Any:
    """A JSON-ready form of an edge value (messages become their dict)."""
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
