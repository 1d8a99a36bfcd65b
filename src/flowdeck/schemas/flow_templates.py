"""Flow templates with the seed's field names (FlowTemplateCreate, FlowTemplateRead, ...)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import AliasChoices, ConfigDict, Field, StrictBool

from flowdeck.db.base import Reach
from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id
from flowdeck.schemas.flows import UtcDatetime

_CREATED = AliasChoices("created_at", "create_at")


class FlowTemplateCreate(Schema):
    """A template made from a flow: the flow's graph and looks, under a name of its own."""

    name: str = Field(min_length=1, max_length=255)
    note: str | None = None
    scope: Reach = Reach.TENANT
    business_id: Id | None = None  # the business of a business template (0: none)


class FlowTemplateUpdate(Schema):
    """`business_id` makes it a business template (0 or null: the tenant's again), `is_self`
    a personal one (false: the tenant's, or its business's)."""

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    flow_skill: str | None = None
    flow_type: str | None = Field(None, max_length=32)
    icon: str | None = Field(None, max_length=255)
    icon_bg_color: str | None = Field(None, max_length=32)
    gradient: str | None = Field(None, max_length=255)
    data: dict[str, Any] | None = None
    tags: list[str] | None = None
    business_id: Id | None = None
    is_self: StrictBool | None = None


class FlowTemplateRead(Schema):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    name: str
    description: str | None = None
    flow_skill: str | None = None
    icon: str | None = None
    icon_bg_color: str | None = None
    gradient: str | None = None
    data: dict[str, Any] | None = None
    tags: list[Any] = Field(default_factory=list)
    flow_type: str = ""
    id: UUID
    tenant_id: UUID
    business_id: int | None = None
    is_self: bool = False
    user_id: int | None = None
    creator_name: str | None = None
    create_at: UtcDatetime = Field(None, validation_alias=_CREATED)
    updated_at: UtcDatetime = None
    # Beyond the seed's fields: how far it is shared, and the flow it was made from.
    scope: Reach = Reach.TENANT
    source_flow_id: str | None = None


class FlowFromTemplate(Schema):
    """A new flow from a template: its name (the template's by default) and where it goes."""

    model_config = ConfigDict(populate_by_name=True)

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    project_id: str | None = Field(
        None, validation_alias=AliasChoices("project_id", "folder_id"), max_length=36
    )
    business_id: Id | None = None
