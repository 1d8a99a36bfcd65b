"""Flows, flow versions and projects as the API reads and writes them (Langflow's field names)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    computed_field,
    field_validator,
)

from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id

T = TypeVar("T")


def as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes (an imported flow's, say) are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UtcDatetime = Annotated[datetime | None, AfterValidator(as_utc)]
_PROJECT = AliasChoices("project_id", "folder_id")
_CREATED = AliasChoices("created_at", "create_at")


class AccessType(StrEnum):
    PRIVATE = "PRIVATE"
    PUBLIC = "PUBLIC"
    RESTRICTED = "RESTRICTED"


class FlowFields(Schema):
    """The fields a client may set on a flow; unknown fields (a whole FlowRead) are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    description: str | None = None
    icon: str | None = Field(None, max_length=255)
    icon_bg_color: str | None = Field(None, max_length=32)
    gradient: str | None = Field(None, max_length=255)
    data: dict[str, Any] | None = None
    is_component: StrictBool | None = None
    webhook: StrictBool | None = None
    endpoint_name: str | None = Field(None, max_length=255)
    tags: list[str] | None = None
    locked: StrictBool | None = None
    mcp_enabled: StrictBool | None = None
    action_name: str | None = Field(None, max_length=255)
    action_description: str | None = None
    access_type: AccessType | None = None
    project_id: str | None = Field(None, validation_alias=_PROJECT)
    business_id: Id | None = None  # the business the flow belongs to (of the same tenant)
    flow_type: str | None = Field(None, max_length=32)
    slug: str | None = Field(None, max_length=200)

    @field_validator("project_id", "endpoint_name", "slug", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        """Clients send "" for "no value" as often as null."""
        return None if value == "" else value


class FlowCreate(FlowFields):
    name: str = Field(min_length=1, max_length=255)


class FlowUpdate(FlowFields):
    name: str | None = Field(None, min_length=1, max_length=255)
    last_known_updated_at: datetime | None = None


class FlowBatch(Schema):
    flows: list[FlowCreate]


class FlowRead(Schema):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: str
    name: str
    description: str | None = None
    icon: str | None = None
    icon_bg_color: str | None = None
    gradient: str | None = None
    data: dict[str, Any] | None = None
    is_component: bool = False
    updated_at: UtcDatetime = None
    create_at: UtcDatetime = Field(None, validation_alias=_CREATED)
    webhook: bool = False
    endpoint_name: str | None = None
    tags: list[Any] = Field(default_factory=list)
    locked: bool = False
    mcp_enabled: bool = False
    action_name: str | None = None
    action_description: str | None = None
    access_type: AccessType = AccessType.PRIVATE
    user_id: int | None = None
    tenant_id: UUID | None = None
    business_id: int | None = None
    org_id: int | None = None
    project_id: str | None = Field(None, validation_alias=_PROJECT)
    slug: str | None = None
    flow_type: str = "automation"
    is_online: bool = False
    online_version_id: int | None = None
    online_version: str | None = None
    deployment_status: str = "running"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def folder_id(self) -> str | None:
        return self.project_id


class GraphData(Schema):
    nodes: list[dict[str, Any]] = Field(default_factory=list)
    edges: list[dict[str, Any]] = Field(default_factory=list)
    viewport: dict[str, Any] | None = None


class GraphDump(Schema):
    """A flow as Langflow's starter projects answer it."""

    data: GraphData
    name: str
    description: str | None = None
    endpoint_name: str | None = None
    is_component: bool = False


class FlowHeader(Schema):
    """The few fields a flow list needs (`header_flows=true`); data only for components."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: str
    name: str
    slug: str | None = None
    description: str | None = None
    is_component: bool = False
    endpoint_name: str | None = None
    data: dict[str, Any] | None = None
    access_type: AccessType = AccessType.PRIVATE
    tags: list[Any] = Field(default_factory=list)
    mcp_enabled: bool = False
    action_name: str | None = None
    action_description: str | None = None
    locked: bool = False
    is_online: bool = False
    updated_at: UtcDatetime = None
    project_id: str | None = Field(None, validation_alias=_PROJECT)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def folder_id(self) -> str | None:
        return self.project_id


class Page(BaseModel, Generic[T]):
    """Langflow's page of results."""

    items: list[T]
    total: int
    page: int
    size: int
    pages: int

    @classmethod
    def of(cls, items: list[T], total: int, page: int, size: int) -> Page[T]:
        return cls(
            items=items,
            total=total,
            page=page,
            size=size,
            pages=(total + size - 1) // size if size else 0,
        )


class FlowVersionCreate(Schema):
    version: str = Field(min_length=1, max_length=64)
    note: str | None = None


class FlowVersionRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: int
    flow_id: str
    tenant_id: UUID | None = None
    version: str
    note: str | None = None
    name: str
    description: str | None = None
    data: dict[str, Any] | None = None
    user_id: int | None = Field(None, validation_alias=AliasChoices("created_by", "user_id"))
    create_at: UtcDatetime = Field(None, validation_alias=_CREATED)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flow_version(self) -> str:
        return self.version

    @computed_field  # type: ignore[prop-decorator]
    @property
    def version_note(self) -> str | None:
        return self.note


class ProjectCreate(Schema):
    model_config = ConfigDict(extra="ignore")

    name: str = Field("", max_length=255)
    description: str | None = None
    parent_id: str | None = None
    business_id: Id | None = None
    flows_list: list[str] | None = None
    components_list: list[str] | None = None


class ProjectUpdate(Schema):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    parent_id: str | None = None
    business_id: Id | None = None
    flows: list[str] | None = None
    components: list[str] | None = None


class ProjectRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str | None = None
    parent_id: str | None = None
    tenant_id: UUID | None = None
    user_id: int | None = None
    business_id: int | None = None
    create_at: UtcDatetime = Field(None, validation_alias=_CREATED)
    updated_at: UtcDatetime = None


class ProjectWithFlows(ProjectRead):
    flows: list[FlowRead] = Field(default_factory=list)


class ProjectWithPage(Schema):
    """A project and one page of its flows (`page` and `size` given)."""

    project: ProjectRead
    folder: ProjectRead
    flows: Page[FlowRead]


class FlowToValidate(Schema):
    """A flow's graph to check without saving it (the console checks edits as they are made)."""

    data: dict[str, Any]


class GraphProblem(Schema):
    node_id: str | None
    field: str | None
    message: str


class FlowProblems(Schema):
    """Every problem of the graph, each naming its node (and field); none when valid."""

    valid: bool
    errors: list[GraphProblem]
