"""The executions (polling) dialect: runs as executions of a template, with a simple state."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool, model_validator

from flowdeck.db.models import Run
from flowdeck.runs.states import RunState
from flowdeck.schemas.base import Schema
from flowdeck.schemas.flows import UtcDatetime
from flowdeck.services.run_views import RunFilter, is_held, output_values, run_args

METADATA = "metadata"  # the Run.meta key holding an execution's custom metadata


class ExecutionState(StrEnum):
    CREATED = "created"  # recorded, not started until asked
    STARTING = "starting"  # started, waiting for a worker
    RUNNING = "running"
    COMPLETED = "completed"
    ABORTED = "aborted"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (ExecutionState.COMPLETED, ExecutionState.ABORTED, ExecutionState.FAILED)


_STATE_OF = {
    RunState.RUNNING: ExecutionState.RUNNING,
    RunState.PAUSED: ExecutionState.RUNNING,
    RunState.WAITING: ExecutionState.RUNNING,
    RunState.COMPLETED: ExecutionState.COMPLETED,
    RunState.FAILED: ExecutionState.FAILED,
    RunState.CANCELLED: ExecutionState.ABORTED,
}
_FILTER_OF = {
    ExecutionState.CREATED: RunFilter(states=(RunState.QUEUED,), held=True),
    ExecutionState.STARTING: RunFilter(states=(RunState.QUEUED,), held=False),
    ExecutionState.RUNNING: RunFilter(states=(RunState.RUNNING, RunState.PAUSED, RunState.WAITING)),
    ExecutionState.COMPLETED: RunFilter(states=(RunState.COMPLETED,)),
    ExecutionState.ABORTED: RunFilter(states=(RunState.CANCELLED,)),
    ExecutionState.FAILED: RunFilter(states=(RunState.FAILED,)),
}


def state_of(run: Run) -> ExecutionState:
    if run.state == RunState.QUEUED:
        return ExecutionState.CREATED if is_held(run) else ExecutionState.STARTING
    return _STATE_OF[RunState(run.state)]


def run_filter(template: str | None, state: ExecutionState | None) -> RunFilter:
    """The runs a listing asks for: of one template (flow id), in one state."""
    base = _FILTER_OF[state] if state is not None else RunFilter()
    return RunFilter(flow_id=template, states=base.states, held=base.held)


class ExecutionCreate(Schema):
    """POST body: run `template` (a flow id, endpoint name or slug) with `parameters`."""

    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1, max_length=255)
    parameters: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    start: StrictBool = Field(True, description="false: stay `created` until PATCH {action: start}")


class ExecutionPatch(Schema):
    """PATCH body: an action (start a created execution, abort one) and/or new metadata."""

    model_config = ConfigDict(
        extra="forbid",
        # What `_something` checks, for the OpenAPI document.
        json_schema_extra={
            "anyOf": [
                {"required": ["action"], "properties": {"action": {"enum": ["start", "abort"]}}},
                {"required": ["metadata"], "properties": {"metadata": {"type": "object"}}},
            ]
        },
    )

    action: Literal["start", "abort"] | None = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _something(self) -> ExecutionPatch:
        if self.action is None and self.metadata is None:
            raise ValueError("give an action (start or abort) or metadata")
        return self


class ExecutionRead(Schema):
    id: str
    template: str | None
    state: ExecutionState
    progress: float
    created_at: UtcDatetime
    started_at: UtcDatetime
    finished_at: UtcDatetime
    parameters: dict[str, Any]
    metadata: dict[str, Any]
    error: str | None

    @classmethod
    def from_run(cls, run: Run) -> ExecutionRead:
        meta = (run.meta or {}).get(METADATA)
        return cls(
            id=run.id,
            template=run.flow_id,
            state=state_of(run),
            progress=run.progress or 0.0,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            parameters=run_args(run),
            metadata=meta if isinstance(meta, dict) else {},
            error=run.error,
        )


class ExecutionOutputs(Schema):
    id: str
    state: ExecutionState
    outputs: dict[str, Any]

    @classmethod
    def from_run(cls, run: Run) -> ExecutionOutputs:
        return cls(id=run.id, state=state_of(run), outputs=output_values(run))
