"""The control dialect: flows as configurations, their deployment status, and batch commands."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from flowdeck.schemas.base import Schema
from flowdeck.schemas.flows import FlowRead, FlowUpdate


class Command(StrEnum):
    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"


# The seed's `status` line of a command response.
COMMAND_MESSAGES = {
    Command.START: "Flows started",
    Command.STOP: "Flows stopped",
    Command.PAUSE: "Flows paused",
    Command.RESUME: "Flows resumed",
}
SOFT_STOP, HARD_STOP = 0, 1

# Keys of a configuration that are not stored as extra fields: the flow's own (read-only or
# writable) fields, and the dialect's names for its id and status.
FLOW_KEYS = frozenset(FlowRead.model_fields) | frozenset(FlowUpdate.model_fields)
RESERVED_KEYS = FLOW_KEYS | {"flow_id", "status", "folder_id", "created_at", "config"}


def split_extras(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields of a configuration that the Flow model lacks (kept in Flow.config)."""
    return {k: v for k, v in doc.items() if k not in RESERVED_KEYS}


def configuration(read: FlowRead, extras: dict[str, Any]) -> dict[str, Any]:
    """A flow as the control dialect shows it: its fields, `flow_id`, `status`, its extras."""
    body = read.model_dump(mode="json")
    return {
        "flow_id": read.id,
        "status": read.deployment_status,
        **{k: v for k, v in extras.items() if k not in RESERVED_KEYS},
        **body,
    }


class FlowCommand(Schema):
    """`PATCH /flows/commands`: a command for the listed flows (all the caller's when omitted)."""

    model_config = ConfigDict(extra="ignore")

    command: str
    flow_ids: list[str] | None = None
    type: int | None = Field(None, description="stop only: 0 soft (default), 1 hard")


class FlowCommandDetail(Schema):
    """What one flow became; `error` says why a flow was not changed."""

    flow_id: str
    status: str
    error: str | None = None


class CommandResult(Schema):
    status: str
    details: list[FlowCommandDetail]


class RunCounts(Schema):
    """Unfinished runs of a flow by state."""

    queued: int = 0
    running: int = 0
    paused: int = 0
    waiting: int = 0


class FlowStatus(Schema):
    flow_id: str
    name: str
    slug: str | None = None
    status: str
    runs: RunCounts
