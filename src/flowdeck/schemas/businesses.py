"""Businesses, the roles bound to users on them, and what belongs to them (the seed's names)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field, StrictBool

from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id
from flowdeck.schemas.configs import Audit

Level = Annotated[int, Field(ge=1, le=3)]
BusinessRef = Annotated[int, Field(ge=0, le=2**31 - 1)]  # 0: no business at that level


class BusinessCreate(Schema):
    tenant_id: UUID
    business_name: str = Field(min_length=1, max_length=64)
    business_level: Level
    first_business_id: BusinessRef = 0
    second_business_id: BusinessRef = 0
    third_business_id: BusinessRef = 0
    is_enable: StrictBool = True
    note: str | None = Field(None, max_length=2000)


class BusinessUpdate(Schema):
    tenant_id: UUID | None = None
    business_name: str | None = Field(None, min_length=1, max_length=64)
    business_level: Level | None = None
    first_business_id: BusinessRef | None = None
    second_business_id: BusinessRef | None = None
    third_business_id: BusinessRef | None = None
    is_enable: StrictBool | None = None
    note: str | None = Field(None, max_length=2000)


class BusinessRead(Audit):
    tenant_id: UUID
    business_name: str
    business_level: int
    first_business_id: int
    second_business_id: int
    third_business_id: int
    is_enable: bool
    note: str | None
    business_id: int


class BusinessNode(BusinessRead):
    children: list[BusinessNode] = Field(default_factory=list)


class BusinessUserRolesUpsert(Schema):
    """The roles a user holds on a business, all of them: roles not named are removed."""

    uid: Id | None = None
    username: str | None = Field(None, min_length=1, max_length=150)
    role_ids: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        min_length=1, max_length=100
    )


class BusinessUserRoleRead(Audit):
    id: int
    tenant_id: UUID
    business_id: int
    uid: int
    username: str
    nickname: str | None
    role_id: str
    role_name: str


class ResourceType(StrEnum):
    FLOW = "flow"
    PROJECT = "project"
    VARIABLE = "variable"
    COMPONENT = "component"
    SKILL = "skill"
    MCP = "mcp"
    PLUGIN = "plugin"
    KNOWLEDGE_BASE = "knowledge_base"


class BusinessResource(Schema):
    """One thing that belongs to a business: a flow, a project, an MCP server, ..."""

    resource_type: ResourceType
    id: str
    name: str
    description: str | None
    business_id: int
    user_id: int | None
    created_at: datetime | None
    updated_at: datetime | None
