"""The flow-runs dialect (`/api/v1/flow-runs`): runs as camelCase records with phases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from flowdeck.db.models import Run
from flowdeck.runs.states import RunState
from flowdeck.schemas.base import Schema
from flowdeck.schemas.flows import UtcDatetime, as_utc
from flowdeck.services.run_views import RunPage, output_values, run_args

ID_PATTERN = r"^([a-z0-9_.-]+)$"
T = TypeVar("T")


class Phase(StrEnum):
    """A run's phase; one per run state (`queued` is `pending`, `completed` is `succeeded`)."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ActionPhase(StrEnum):
    """A step's phase: a run phase, or `skipped` for a branch that was not taken."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class FlowType(StrEnum):
    AUTOMATION = "automation"
    SELF_SERVICE_ACTION = "selfServiceAction"
    SCORECARD = "scorecard"
    REFERENCE = "reference"


PHASE_OF = {
    RunState.QUEUED: Phase.PENDING,
    RunState.RUNNING: Phase.RUNNING,
    RunState.PAUSED: Phase.PAUSED,
    RunState.WAITING: Phase.WAITING,
    RunState.COMPLETED: Phase.SUCCEEDED,
    RunState.FAILED: Phase.FAILED,
    RunState.CANCELLED: Phase.CANCELLED,
}
STATE_OF = {phase: state for state, phase in PHASE_OF.items()}
_STEP_PHASE = {
    "pending": ActionPhase.PENDING,
    "running": ActionPhase.RUNNING,
    "waiting": ActionPhase.WAITING,
    "completed": ActionPhase.SUCCEEDED,
    "failed": ActionPhase.FAILED,
    "inactive": ActionPhase.SKIPPED,
    "cancelled": ActionPhase.CANCELLED,
}


class Camel(Schema):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Tag(Camel):
    key: str
    value: str | None = None


class TagIn(Tag):
    key: str = Field(min_length=1, max_length=255)
    value: str | None = Field(None, max_length=4096)


class Action(Camel):
    id: str
    phase: ActionPhase
    start_time: UtcDatetime = None
    end_time: UtcDatetime = None


class LogEntry(Camel):
    timestamp: UtcDatetime = None
    message: str
    level: str = "info"
    action: str | None = None


class _FlowRunRef(Camel):
    id: str | None = Field(None, pattern=ID_PATTERN, max_length=36)
    flow_id: str = Field(pattern=ID_PATTERN, max_length=255)


class FlowRunCreate(_FlowRunRef):
    """POST body: a run of `flowId` (id, endpoint name or slug) with `args`."""

    model_config = ConfigDict(extra="forbid")

    flow_type: FlowType | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    tags: list[TagIn] = Field(default_factory=list)


class FlowRunUpsert(_FlowRunRef):
    """PUT body: the whole record; server-kept fields (times, actions, logs...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    flow_type: FlowType
    args: dict[str, Any] | None = None
    tags: list[TagIn] | None = None
    phase: Phase | None = None


class FlowRunRead(Camel):
    id: str
    flow_id: str | None
    flow_type: str
    args: dict[str, Any]
    phase: Phase | None
    start_time: UtcDatetime
    end_time: UtcDatetime
    actions: list[Action]
    outputs: dict[str, Any]
    logs: list[LogEntry]
    tags: list[Tag]
    created_at: UtcDatetime
    created_by: int | None
    updated_at: UtcDatetime
    updated_by: int | None
    reviewed_by: int | None
    reviewed_at: UtcDatetime

    @classmethod
    def from_run(cls, run: Run) -> FlowRunRead:
        state = RunState(run.state)
        return cls(
            id=run.id,
            flow_id=run.flow_id,
            flow_type=run.flow_type,
            args=run_args(run),
            phase=PHASE_OF[state],
            start_time=run.started_at,
            end_time=run.finished_at,
            actions=[_action(step, state) for step in run.steps or [] if isinstance(step, dict)],
            outputs=output_values(run),
            logs=_logs(run),
            tags=[_tag(t) for t in run.tags or []],
            created_at=run.created_at,
            created_by=run.user_id,
            updated_at=run.updated_at,
            updated_by=run.updated_by,
            reviewed_by=run.reviewed_by,
            reviewed_at=run.reviewed_at,
        )


class CursorPage(BaseModel, Generic[T]):
    """A cursor page as the flow-runs seed has it (the executions listing uses it too)."""

    items: list[T]
    total: int
    current_page: str | None
    current_page_backwards: str | None
    previous_page: str | None
    next_page: str | None

    @classmethod
    def of(cls, page: RunPage, convert: Callable[[Run], T]) -> CursorPage[T]:
        return cls(
            items=[convert(r) for r in page.items],
            total=page.total,
            current_page=page.current_page,
            current_page_backwards=page.current_page_backwards,
            previous_page=page.previous_page,
            next_page=page.next_page,
        )


def _action(step: dict[str, Any], run_state: RunState) -> Action:
    phase = _STEP_PHASE.get(str(step.get("state")), ActionPhase.PENDING)
    unfinished = phase in (ActionPhase.PENDING, ActionPhase.RUNNING, ActionPhase.WAITING)
    if run_state.terminal and unfinished:
        # The run ended around this step: it will never finish.
        phase = ActionPhase.CANCELLED
    return Action(
        id=str(step.get("id")),
        phase=phase,
        start_time=_when(step.get("start")),
        end_time=_when(step.get("end")),
    )


def _logs(run: Run) -> list[LogEntry]:
    logs = [
        LogEntry(
            timestamp=_when(entry.get("timestamp")),
            message=str(entry.get("message", "")),
            level=str(entry.get("level") or "info"),
            action=entry.get("step"),
        )
        for entry in run.logs or []
        if isinstance(entry, dict)
    ]
    if run.error:
        # Why a run failed or was cancelled is part of its log.
        logs.append(LogEntry(timestamp=run.finished_at, message=run.error, level="error"))
    return logs


def _tag(raw: Any) -> Tag:
    if isinstance(raw, dict):
        value = raw.get("value")
        return Tag(key=str(raw.get("key", "")), value=None if value is None else str(value))
    return Tag(key=str(raw))


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str) and value:
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None
