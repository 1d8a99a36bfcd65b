"""What a run produced, and Langflow's RunResponse built from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flowdeck.engine.types import Message, now_iso, to_jsonable, to_text

if TYPE_CHECKING:
    from flowdeck.engine.graph import Graph


class VertexState(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    INACTIVE = "inactive"  # skipped: a branch not taken, or behind a failed step
    CANCELLED = "cancelled"


class RunStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class VertexResult:
    id: str
    type_name: str
    display_name: str
    state: VertexState
    outputs: dict[str, Any] = field(default_factory=dict)
    messages: Sequence[Message] = ()
    logs: Sequence[dict[str, Any]] = ()
    error: str | None = None
    started_at: float = 0.0
    duration: float = 0.0

    def output_payload(self) -> dict[str, Any]:
        """Langflow's `outputs` map: `{name: {"message": value, "type": kind}}`."""
        out: dict[str, Any] = {}
        for name, value in self.outputs.items():
            if isinstance(value, Message):
                out[name] = {"message": value.text, "type": "text"}
            elif isinstance(value, str):
                out[name] = {"message": value, "type": "text"}
            else:
                out[name] = {"message": to_jsonable(value), "type": "object"}
        return out

    def build_data(self, run_id: str, ready: list[str], inactivated: list[str]) -> dict[str, Any]:
        """Langflow's `end_vertex` event for this step: what it gave and what it made ready."""
        valid = self.state is VertexState.COMPLETED
        data: dict[str, Any] = {
            "results": {k: to_jsonable(v) for k, v in self.outputs.items()},
            "outputs": self.output_payload(),
            "logs": {name: self.logs for name in self.outputs} if self.logs else {},
            "message": to_jsonable(self.messages[-1]) if self.messages else None,
            "artifacts": {},
            "timedelta": self.duration,
            "duration": f"{self.duration * 1000:.0f} ms",
            "used_frozen_result": False,
        }
        return {
            "id": self.id,
            "valid": valid,
            "params": self.error if not valid else None,
            "next_vertices_ids": ready,
            "top_level_vertices": ready,
            "inactivated_vertices": inactivated,
            "run_id": run_id,
            "timestamp": now_iso(),
            "data": data,
        }

    def result_data(self) -> dict[str, Any]:
        """Langflow's ResultData for one component."""
        results = {name: to_jsonable(v) for name, v in self.outputs.items()}
        messages = [
            {
                "message": m.text,
                "sender": m.sender,
                "sender_name": m.sender_name,
                "session_id": m.session_id,
                "stream_url": None,
                "component_id": self.id,
                "files": m.files,
                "type": "text",
            }
            for m in self.messages
        ]
        artifacts: dict[str, Any] = {}
        if self.messages:
            last = self.messages[-1]
            artifacts = {
                "message": last.text,
                "sender": last.sender,
                "sender_name": last.sender_name,
                "files": last.files,
                "type": "text",
            }
        return {
            "results": results,
            "artifacts": artifacts,
            "outputs": self.output_payload(),
            "logs": {name: self.logs for name in self.outputs} if self.logs else {},
            "messages": messages,
            "timedelta": round(self.duration, 6),
            "duration": f"{self.duration * 1000:.0f} ms",
            "component_display_name": self.display_name,
            "component_id": self.id,
            "used_frozen_result": False,
            "error": self.error,
            "state": self.state.value,
        }

    def text(self) -> str:
        """The main output as text (the first one declared that has a value)."""
        for value in self.outputs.values():
            return to_text(value)
        return ""


@dataclass(slots=True)
class RunResult:
    run_id: str
    session_id: str
    status: RunStatus
    vertices: dict[str, VertexResult]
    duration: float
    error: str | None = None
    error_vertex: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.COMPLETED

    def select(
        self,
        graph: Graph,
        *,
        output_type: str = "chat",
        output_component: str | None = None,
        outputs: list[str] | None = None,
    ) -> list[VertexResult]:
        """The results a caller asked for, in graph order (Langflow's rules)."""
        if outputs:
            wanted = set(outputs)
        elif output_component:
            wanted = {output_component}
        else:
            kinds = {"chat", "text"} if output_type in ("any", "debug") else {output_type}
            wanted = {vid for vid, v in graph.vertices.items() if v.component.output_kind in kinds}
            if not wanted:
                wanted = {vid for vid, v in graph.vertices.items() if not v.out_edges}
        return [
            self.vertices[vid]
            for vid in graph.order
            if vid in wanted
            and vid in self.vertices
            and self.vertices[vid].state is not VertexState.INACTIVE
        ]

    def run_response(
        self, graph: Graph, inputs: dict[str, Any], **selection: Any
    ) -> dict[str, Any]:
        """Langflow's RunResponse: `{session_id, outputs: [{inputs, outputs: [ResultData]}]}`."""
        chosen = self.select(graph, **selection)
        return {
            "session_id": self.session_id,
            "outputs": [{"inputs": inputs, "outputs": [r.result_data() for r in chosen]}],
        }
