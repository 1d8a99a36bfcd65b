"""Strict JSON request bodies: no NaN or Infinity (nor a number that overflows to it), no
duplicate keys.

Python's `json` (what FastAPI and Starlette parse bodies with) accepts `NaN` and `Infinity`,
which are not JSON, and silently keeps the last of duplicate keys, so a body could mean one
thing to a proxy or a signature check and another to flowdeck. Every JSON body is checked
once, in the request middleware, before any route parses it.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn


class BadJson(ValueError):
    """The body is JSON-shaped but refused; `message` names the problem."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON (`application/json`, `application/*+json`)."""
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


def _constant(name: str) -> NoReturn:
    raise BadJson(f"{name} is not a JSON number")


def _number(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400 would become Infinity
        raise BadJson(f"{text} is beyond the range of a JSON number")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise BadJson(f"duplicate key {key!r} in a JSON object")
        out[key] = value
    return out


def check(body: bytes) -> None:
    """Raise BadJson for NaN/Infinity or a duplicate key; malformed JSON is left to the route.

    Routes answer a body that is not JSON at all in their own way (FastAPI's 422, or a
    route's own 400), so only what a lenient parser would wrongly accept is refused here.
    """
    if not body.strip():
        return
    try:
        json.loads(body, parse_constant=_constant, parse_float=_number, object_pairs_hook=_object)
    except BadJson:
        raise
    except ValueError:  # not JSON at all (or not UTF-8): the route's parser says so
        return
