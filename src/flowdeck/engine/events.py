"""Run events: the sink interface the engine writes to, and a few plain sinks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import orjson

# Langflow's build event names, in the order a client sees them.
VERTICES_SORTED = "vertices_sorted"
BUILD_START = "build_start"
END_VERTEX = "end_vertex"
ADD_MESSAGE = "add_message"
REMOVE_MESSAGE = "remove_message"
TOKEN = "token"
ERROR = "error"
END = "end"
# flowdeck's own: a step waits for an answer, or a run changes state.
WAITING = "waiting"
LOG = "log"
STATE = "state"

TERMINAL_EVENTS = frozenset({END, ERROR})
# Langflow's routes stream Langflow's events only; these come there when the caller asks
# (`flowdeck_events=true`), and always on flowdeck's own run routes.
FLOWDECK_EVENTS = frozenset({WAITING, LOG, STATE})


class EventSink(Protocol):
    """Where a run's events go. `emit` must not block: sinks buffer or hand off."""

    def emit(self, event: str, data: dict[str, Any]) -> None: ...


class NullSink:
    """Drops every event."""

    def emit(self, event: str, data: dict[str, Any]) -> None:
        return None


class ListSink:
    """Keeps every event in order; for tests and the command line."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.events.append((event, data))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def of(self, name: str) -> list[dict[str, Any]]:
        return [data for n, data in self.events if n == name]


class CallbackSink:
    """Calls a function for every event."""

    def __init__(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        self._callback = callback

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self._callback(event, data)


class TeeSink:
    """Sends every event to several sinks."""

    def __init__(self, *sinks: EventSink) -> None:
        self._sinks = sinks

    def emit(self, event: str, data: dict[str, Any]) -> None:
        for sink in self._sinks:
            sink.emit(event, data)


def encode_event(event: str, data: dict[str, Any]) -> bytes:
    """One NDJSON line, `{"event": name, "data": {...}}`, as Langflow streams build events."""
    return orjson.dumps({"event": event, "data": data}, default=str) + b"\n"
