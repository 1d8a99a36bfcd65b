"""Monitor records as Langflow's monitor API reads and writes them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import ConfigDict, Field, StrictBool, computed_field

from flowdeck.schemas.base import Schema
from flowdeck.schemas.flows import Page, UtcDatetime

__all__ = [
    "MessageRead",
    "MessageUpdate",
    "Page",
    "TransactionRead",
    "VertexBuildMap",
    "VertexBuildRead",
]


class MessageRead(Schema):
    """One chat message (Langflow's MessageRead, plus the run and component that sent it)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    flow_id: str | None
    tenant_id: UUID
    run_id: str | None
    component_id: str | None
    timestamp: UtcDatetime
    sender: str
    sender_name: str
    session_id: str
    text: str
    files: list[Any]
    error: bool
    edit: bool
    properties: dict[str, Any]
    category: str
    # Langflow's rich content; flowdeck's components send plain text only.
    content_blocks: list[Any] = []


class SessionCreate(Schema):
    """A new chat session: its id (generated when absent), flow and display name."""

    session_id: str | None = Field(None, min_length=1, max_length=255)
    flow_id: UUID | None = None
    name: str | None = Field(None, max_length=255)


class SessionRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    session_id: str
    flow_id: str | None
    name: str | None
    created_at: UtcDatetime


class MessageUpdate(Schema):
    """The fields a message update may change; null or absent leaves a field as it is."""

    # Lengths follow the columns, so a long value is a 422 rather than a database error.
    text: str | None = None
    sender: str | None = Field(None, min_length=1, max_length=32)
    sender_name: str | None = Field(None, max_length=255)
    session_id: str | None = Field(None, min_length=1, max_length=255)
    files: list[str] | None = None
    edit: StrictBool | None = None
    error: StrictBool | None = None
    properties: dict[str, Any] | None = None


class VertexBuildRead(Schema):
    """One build of one vertex (Langflow's VertexBuildTable)."""

    model_config = ConfigDict(from_attributes=True)

    build_id: str
    id: str
    flow_id: str | None
    run_id: str | None
    timestamp: UtcDatetime
    valid: bool
    params: str | None
    data: dict[str, Any]
    artifacts: dict[str, Any]


class VertexBuildMap(Schema):
    """Langflow's `{"vertex_builds": {vertex_id: [builds, oldest first]}}`."""

    vertex_builds: dict[str, list[VertexBuildRead]]

    @classmethod
    def of(cls, builds: list[VertexBuildRead]) -> VertexBuildMap:
        grouped: dict[str, list[VertexBuildRead]] = {}
        for build in builds:
            grouped.setdefault(build.id, []).append(build)
        return cls(vertex_builds=grouped)


class TransactionRead(Schema):
    """One vertex's hand-over to the next (Langflow's TransactionReadResponse)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    flow_id: str | None
    run_id: str | None
    timestamp: UtcDatetime
    vertex_id: str
    target_id: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    status: str
    error: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def transaction_id(self) -> str:
        """Langflow serialises the id under this name."""
        return self.id
