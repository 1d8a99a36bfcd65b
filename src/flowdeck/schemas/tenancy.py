"""Tenants and the roles bound to users in them, with the seed's field names."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict, Field, StrictBool

from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id


class TenantCreate(Schema):
    tenant_name: str = Field(min_length=1, max_length=64)
    is_sys: StrictBool = False
    is_active: StrictBool = True
    note: str | None = Field(None, max_length=2000)
    tenant_id: UUID | None = None


class TenantUpdate(Schema):
    tenant_name: str | None = Field(None, min_length=1, max_length=64)
    is_sys: StrictBool | None = None
    is_active: StrictBool | None = None
    note: str | None = Field(None, max_length=2000)


class TenantRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    tenant_name: str = Field(validation_alias="name")
    is_sys: bool
    is_active: bool
    note: str | None = Field(validation_alias="description")
    tenant_id: UUID = Field(validation_alias="id")
    c_uid: int | None
    m_uid: int | None
    ctime: datetime = Field(validation_alias="created_at")
    utime: datetime = Field(validation_alias="updated_at")


class TenantUserRoleCreate(Schema):
    tenant_id: UUID
    role_id: str = Field(min_length=1, max_length=32)
    uid: Id | None = None
    username: str | None = Field(None, min_length=1, max_length=150)


class TenantUserRoleRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: UUID
    tenant_name: str
    uid: int
    username: str
    nickname: str | None
    role_id: str
    role_name: str


class TenantGroupRoleCreate(Schema):
    tenant_id: UUID
    role_id: str = Field(min_length=1, max_length=32)
    group_id: Id | None = None
    group_name: str | None = Field(None, min_length=1, max_length=64)


class TenantGroupRoleRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: UUID
    tenant_name: str
    group_id: int
    group_name: str
    role_id: str
    role_name: str


class TenantOrgRoleCreate(Schema):
    tenant_id: UUID
    role_id: str = Field(min_length=1, max_length=32)
    org_id: Id | None = None
    org_name: str | None = Field(None, min_length=1, max_length=64)


class TenantOrgRoleRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: UUID
    tenant_name: str
    org_id: int
    org_name: str
    role_id: str
    role_name: str


class TenantChoice(Schema):
    """A tenant the caller may act in (name it in the Tenant-Id header)."""

    tenant_id: UUID
    tenant_name: str
    is_default: bool
