"""Organisations, user groups and their members, with the seed's field names."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field, StrictBool

from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id
from flowdeck.schemas.configs import Audit


class UserGroupCreate(Schema):
    tenant_id: UUID
    group_name: str = Field(min_length=1, max_length=64)
    is_enable: StrictBool = True
    note: str | None = Field(None, max_length=2000)


class UserGroupUpdate(Schema):
    group_name: str | None = Field(None, min_length=1, max_length=64)
    is_enable: StrictBool | None = None
    note: str | None = Field(None, max_length=2000)


class UserGroupRead(Audit):
    group_id: int
    group_name: str
    tenant_id: UUID
    is_enable: bool
    note: str | None


class OrgCreate(Schema):
    tenant_id: UUID
    org_name: str = Field(min_length=1, max_length=64)
    org_code: str | None = Field(None, max_length=64)
    parent_org_id: Id | None = None
    is_enable: StrictBool = True
    note: str | None = Field(None, max_length=2000)


class OrgUpdate(Schema):
    org_name: str | None = Field(None, min_length=1, max_length=64)
    org_code: str | None = Field(None, max_length=64)
    is_enable: StrictBool | None = None
    note: str | None = Field(None, max_length=2000)


class OrgRead(Audit):
    org_id: int
    org_name: str
    tenant_id: UUID
    org_code: str | None
    org_level: int
    one_org_id: int
    two_org_id: int
    three_org_id: int
    four_org_id: int
    five_org_id: int
    six_org_id: int
    parent_org_id: int
    is_enable: bool
    note: str | None


class OrgNode(OrgRead):
    children: list[OrgNode] = Field(default_factory=list)


class MembersAdd(Schema):
    tenant_id: UUID
    uids: list[Id] = Field(default_factory=list, max_length=1000)


class GroupMembersAdd(MembersAdd):
    group_id: Id


class OrgMembersAdd(MembersAdd):
    org_id: Id
    position: str = Field(min_length=1, max_length=64)
    job: str = Field(min_length=1, max_length=64)
    is_leader: StrictBool = False


class OrgMemberUpdate(Schema):
    position: str | None = Field(None, min_length=1, max_length=64)
    job: str | None = Field(None, min_length=1, max_length=64)
    is_leader: StrictBool | None = None


class GroupMemberUpdate(Schema):
    is_leader: StrictBool


class GroupMemberRead(Audit):
    id: int
    tenant_id: UUID
    group_id: int
    uid: int
    username: str
    nickname: str | None
    is_leader: bool


class GroupUserRead(GroupMemberRead):
    """A member of one of the tenant's groups, in the group user search."""

    group_name: str


class OrgMemberRead(Audit):
    id: int
    tenant_id: UUID
    org_id: int
    uid: int
    username: str
    nickname: str | None
    position: str
    job: str
    is_leader: bool


class OrgUserRead(OrgMemberRead):
    """A member of one of the tenant's orgs, in the org user search."""

    org_name: str
    org_level: int
