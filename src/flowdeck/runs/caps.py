"""Size caps on what a run stores: its record (outputs, steps, logs) and each monitor record.

A value flows into several places (a step's outputs, the run's outputs, a vertex build, a
transaction, a message), so one 20 MiB string would be stored many times over. A value is
measured by orjson (about a microsecond for the small values of most steps: several times
less than walking them in Python); one over the cap is cut: long strings are shortened (each
ends with a marker saying how long it was) until the whole fits, and a dict that was cut
carries `truncated: true`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

MARK = "truncated"
# Strings shorter than this are never cut: cutting many small ones gains little.
_MIN_CUT = 64


@dataclass(frozen=True, slots=True)
class RecordCaps:
    """The caps, in bytes of stored JSON: a run's record, and each monitor record."""

    run_bytes: int = 4 * 1024 * 1024
    record_bytes: int = 256 * 1024


def size(value: Any) -> int:
    """Bytes of `value` as stored JSON."""
    return len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str))


def cap(value: Any, limit: int) -> tuple[Any, bool]:
    """`value` cut to about `limit` bytes of JSON, and whether it was cut."""
    if size(value) <= limit:
        return value, False
    budget = limit // 2
    while budget >= _MIN_CUT:
        cut, _ = _cut(value, budget)
        if size(cut) <= limit:
            return cut, True
        budget //= 4
    # Too many small parts to cut: keep the start of the JSON text alone.
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    return {MARK: True, "size": len(text), "preview": _shorten(text, limit // 2)}, True


def cap_fields(values: dict[str, Any], fields: tuple[str, ...], limit: int) -> bool:
    """Cap some fields of one record together, in place; whether any was cut.

    A field too fragmented to cut becomes the note `cap` gives (a text field its preview).
    """
    capped, cut = cap({f: values[f] for f in fields}, limit)
    if not cut:
        return False
    if set(capped) == {MARK, "size", "preview"}:
        for field in fields:
            values[field] = _note_for(values[field], capped)
    else:
        values.update((f, capped[f]) for f in fields)
    return True


def _note_for(old: Any, note: dict[str, Any]) -> Any:
    """The note in the shape of the field it replaces (a column keeps its type)."""
    if isinstance(old, str):
        return note["preview"]
    if isinstance(old, list):
        return [note]
    return None if old is None else note


def _cut(value: Any, budget: int) -> tuple[Any, bool]:
    """`value` with strings over `budget` shortened (the same object when none is)."""
    if isinstance(value, str):
        return (_shorten(value, budget), True) if len(value) > budget else (value, False)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        changed = False
        for key, inner in value.items():
            out[key], was = _cut(inner, budget)
            changed = changed or was
        if not changed:
            return value, False
        out[MARK] = True
        return out, True
    if isinstance(value, list | tuple):
        items = [_cut(v, budget) for v in value]
        if not any(was for _, was in items):
            return value, False
        return [v for v, _ in items], True
    return value, False


def _shorten(text: str, budget: int) -> str:
    return f"{text[:budget]}… [{MARK}: {len(text)} characters in all]"
