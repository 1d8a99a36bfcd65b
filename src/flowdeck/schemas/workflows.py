"""v2 workflows (Langflow's `/api/v2/workflows`): run requests, job status, stop."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    model_validator,
)

from flowdeck.schemas.base import Schema


class JobStatus(StrEnum):
    """The seed's job vocabulary; a job is a run, whose states map onto these."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


def _job_id(value: Any) -> str:
    if value is None or value == "":
        raise ValueError("job_id is required")
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError("Invalid job_id, must be a UUID") from None


JobId = Annotated[
    str, BeforeValidator(_job_id), WithJsonSchema({"type": "string", "format": "uuid"})
]


class ErrorDetail(Schema):
    error: str
    code: str | None = None
    details: dict[str, Any] | None = None


class ComponentOutput(Schema):
    """What one terminal component of the flow produced."""

    type: str
    component_id: str
    status: JobStatus
    content: Any | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class WorkflowExecutionRequest(Schema):
    """Run a flow; `inputs` are flat: `{"component_id.param": value}`."""

    model_config = ConfigDict(extra="forbid")

    background: StrictBool = False
    stream: StrictBool = False
    flow_id: str = Field(min_length=1)
    inputs: dict[str, Any] | None = Field(
        None, description="Component-specific inputs in flat format: 'component_id.param': value"
    )

    @model_validator(mode="after")
    def _one_mode(self) -> WorkflowExecutionRequest:
        if self.background and self.stream:
            raise ValueError("'background' and 'stream' cannot both be true")
        return self


class WorkflowExecutionResponse(Schema):
    """A job's status and, once it has ended, its outputs or errors."""

    flow_id: str
    job_id: str | None = None
    object: Literal["response"] = "response"
    created_timestamp: str
    status: JobStatus
    errors: list[ErrorDetail] = Field(default_factory=list)
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, ComponentOutput] = Field(default_factory=dict)


class WorkflowJobResponse(Schema):
    """The answer to a background run: where to poll and how to stop it."""

    job_id: str
    flow_id: str
    object: Literal["job"] = "job"
    created_timestamp: str
    status: JobStatus
    links: dict[str, str] = Field(default_factory=dict)
    errors: list[ErrorDetail] = Field(default_factory=list)


class WorkflowStopRequest(Schema):
    job_id: JobId


class WorkflowStopResponse(Schema):
    job_id: str
    message: str | None = None
