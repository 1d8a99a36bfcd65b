"""Watches one run's engine events: forwards them to the bus and keeps the run's record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flowdeck.db.base import Base, NewRow
from flowdeck.db.models import MessageRecord, Transaction, VertexBuild
from flowdeck.engine import events as ev
from flowdeck.runs import feed
from flowdeck.runs.bus import EventBus
from flowdeck.runs.caps import MARK, RecordCaps, cap, cap_fields


class RunRecorder:
    """The EventSink of one run: steps, progress, logs and monitor records as they happen.

    The engine's terminal event (`end` or `error`) is held back: the run service publishes
    it after the final state is stored, so it is always the last event a client sees.
    """

    def __init__(
        self,
        run_id: str,
        bus: EventBus,
        *,
        flow_id: str | None,
        tenant_id: str,
        user_id: int | None,
        components: dict[str, str] | None = None,
        on_waiting: Callable[[str, str, str], None] | None = None,
        keep_monitor: bool = True,
        caps: RecordCaps | None = None,
    ) -> None:
        self.components = components or {}
        self.run_id = run_id
        self.bus = bus
        self.flow_id = flow_id
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.on_waiting = on_waiting
        self.keep_monitor = keep_monitor
        self.caps = caps or RecordCaps()
        self.steps: dict[str, dict[str, Any]] = {}
        self.logs: list[dict[str, Any]] = []
        self.records: list[NewRow] = []
        self.terminal: tuple[str, dict[str, Any]] | None = None
        self.planned = 0
        self.done = 0
        # Bumped by everything a live run record shows (steps, progress, logs).
        self.version = 0

    @property
    def progress(self) -> float:
        return self.done / self.planned if self.planned else 0.0

    def emit(self, event: str, data: dict[str, Any]) -> None:
        if event in ev.TERMINAL_EVENTS:
            self.terminal = (event, data)
            return
        handler = _HANDLERS.get(event)
        if handler is not None:
            handler(self, data)
            self.version += 1
        self.bus.publish(self.run_id, event, data)
        if event in _STEP_EVENTS:
            self._announce_step(data["id"] if event == ev.BUILD_START else data["build_data"]["id"])

    def _announce_step(self, step_id: str) -> None:
        """Tell the tenant's runs feed that a step started or ended (the list's progress)."""
        step = self.steps.get(step_id)
        entry = feed.change(
            self.run_id,
            user_id=self.user_id,
            flow_id=self.flow_id,
            progress=self.progress,
            step={"id": step_id, "state": step["state"] if step else None},
        )
        self.bus.announce(self.tenant_id, entry)

    def _sorted(self, data: dict[str, Any]) -> None:
        for vid in data["to_run"]:
            self.steps.setdefault(
                vid,
                {
                    "id": vid,
                    "component": self.components.get(vid),
                    "state": "pending",
                    "start": None,
                    "end": None,
                    "outputs": None,
                    "error": None,
                },
            )
        self.planned = len(self.steps)

    def _start(self, data: dict[str, Any]) -> None:
        step = self.steps.get(data["id"])
        if step is not None:
            step["state"] = "running"
            step["start"] = _now()

    def _end_vertex(self, data: dict[str, Any]) -> None:
        build = data["build_data"]
        vid = build["id"]
        step = self.steps.get(vid)
        if step is not None:
            if step["state"] not in ("completed", "failed"):
                self.done += 1
            step["state"] = "completed" if build["valid"] else "failed"
            step["end"] = _now()
            # Capped here already: live progress writes the steps while the run goes.
            step["outputs"], _ = cap(build["data"]["outputs"], self.caps.record_bytes)
            step["error"] = None if build["valid"] else build["params"]
        for inactive in build["inactivated_vertices"]:
            skipped = self.steps.get(inactive)
            if skipped is not None and skipped["state"] == "pending":
                skipped["state"] = "inactive"
                self.done += 1
        if not self.keep_monitor:
            return
        owner = {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "flow_id": self.flow_id,
            "run_id": self.run_id,
        }
        self.records.append(
            self._row(
                VertexBuild,
                ("params", "data", "artifacts"),
                {
                    "id": vid,
                    "valid": build["valid"],
                    "params": build["params"],
                    "data": build["data"],
                    "artifacts": build["data"].get("artifacts") or {},
                    **owner,
                },
            )
        )
        self.records.append(
            self._row(
                Transaction,
                ("outputs", "error"),
                {
                    "vertex_id": vid,
                    "target_id": ",".join(build["next_vertices_ids"]) or None,
                    "inputs": {},
                    "outputs": build["data"]["results"],
                    "status": "success" if build["valid"] else "error",
                    "error": None if build["valid"] else build["params"],
                    **owner,
                },
            )
        )

    def _message(self, data: dict[str, Any]) -> None:
        if not self.keep_monitor:
            return
        self.records.append(
            self._row(
                MessageRecord,
                ("text", "files", "properties"),
                {
                    "id": _uuid_or_none(data.get("id")),
                    "tenant_id": self.tenant_id,
                    "user_id": self.user_id,
                    "flow_id": self.flow_id,
                    "run_id": self.run_id,
                    "session_id": data.get("session_id") or "",
                    "sender": data.get("sender") or "Machine",
                    "sender_name": data.get("sender_name") or "",
                    "text": data.get("text") or "",
                    "files": data.get("files") or [],
                    "properties": data.get("properties") or {},
                    "component_id": data.get("component_id"),
                },
            )
        )

    def _row(self, model: type[Base], fields: tuple[str, ...], values: dict[str, Any]) -> NewRow:
        """A monitor record with `fields` capped together; a cut message says so."""
        if cap_fields(values, fields, self.caps.record_bytes) and "properties" in values:
            values["properties"] = {**values["properties"], MARK: True}
        return NewRow(model, values)

    def _log(self, data: dict[str, Any]) -> None:
        self.logs.append(data)

    def _waiting(self, data: dict[str, Any]) -> None:
        step = self.steps.get(data["id"])
        if step is not None:
            step["state"] = "waiting"
        if self.on_waiting is not None:
            self.on_waiting(data["id"], data.get("prompt") or "", data.get("kind") or "input")

    def step_list(self) -> list[dict[str, Any]]:
        return list(self.steps.values())


_STEP_EVENTS = frozenset({ev.BUILD_START, ev.END_VERTEX})
_HANDLERS: dict[str, Callable[[RunRecorder, dict[str, Any]], None]] = {
    ev.VERTICES_SORTED: RunRecorder._sorted,
    ev.BUILD_START: RunRecorder._start,
    ev.END_VERTEX: RunRecorder._end_vertex,
    ev.ADD_MESSAGE: RunRecorder._message,
    ev.LOG: RunRecorder._log,
    ev.WAITING: RunRecorder._waiting,
}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _uuid_or_none(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value if isinstance(value, str) and len(value) == 36 else None
