"""The org and user group user searches (the seed's Organization group): members of every
org or group of the tenant, searched and sorted. Matched before the orgs router, whose
`/orgs/{org_id}` and `/user-groups/{group_id}` would take these paths."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.db.models import Org, OrgMember, User, UserGroup, UserGroupMember
from flowdeck.resources.declaration import Resource
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep
from flowdeck.schemas.common import SortOrder
from flowdeck.schemas.orgs import GroupUserRead, OrgUserRead

router = guarded_router(prefix="/api/v1", tags=["Organization"])

Search = Annotated[str | None, Query(max_length=200)]
GroupUserSort = Literal["group_id", "group_name", "uid", "username", "nickname", "is_leader"]
OrgUserSort = Literal[
    "uid", "username", "nickname", "org_id", "org_level", "position", "job", "is_leader"
]

# Declared, not mounted (nothing is written here): the generic layer searches and sorts.
GROUP_USERS = Resource(
    label="group user",
    path="/user-groups/user-search",
    module=Module.ORGS,
    model=UserGroupMember,
    read=GroupUserRead,
    create=None,
    update=None,
    id_field="member_id",
    id_type=int,
    sort={
        "group_id": "group_id",
        "group_name": UserGroup.group_name,
        "uid": "uid",
        "username": User.username,
        "nickname": User.nickname,
        "is_leader": "is_leader",
    },
    default_sort="group_id",
    search=(User.username, User.nickname, UserGroup.group_name),
    joins=(
        (User, User.id == UserGroupMember.uid),
        (UserGroup, UserGroup.group_id == UserGroupMember.group_id),
    ),
)


@both(router, "GET", "/user-groups/user-search", response_model=list[GroupUserRead])
@requires(Module.ORGS, Op.READ)
async def read_group_user_search(
    ctx: ContextDep,
    search: Search = None,
    sort_by: Annotated[GroupUserSort, Query()] = "group_id",
    sort_order: SortOrder = "asc",
) -> list[UserGroupMember]:
    """Members of the tenant's user groups whose name, nickname or group matches."""
    rows, _ = await ResourceRepository(ctx, GROUP_USERS).page(search, sort_by, sort_order == "desc")
    return rows


ORG_USERS = Resource(
    label="org user",
    path="/orgs/user-search",
    module=Module.ORGS,
    model=OrgMember,
    read=OrgUserRead,
    create=None,
    update=None,
    id_field="member_id",
    id_type=int,
    sort={
        "uid": "uid",
        "username": User.username,
        "nickname": User.nickname,
        "org_id": "org_id",
        "org_level": Org.org_level,
        "position": "position",
        "job": "job",
        "is_leader": "is_leader",
    },
    default_sort="uid",
    search=(User.username, User.nickname, "position", "job", Org.org_name),
    joins=((User, User.id == OrgMember.uid), (Org, Org.org_id == OrgMember.org_id)),
)


@both(router, "GET", "/orgs/user-search", response_model=list[OrgUserRead])
@requires(Module.ORGS, Op.READ)
async def read_org_user_search(
    ctx: ContextDep,
    search: Search = None,
    sort_by: Annotated[OrgUserSort, Query()] = "uid",
    sort_order: SortOrder = "asc",
) -> list[OrgMember]:
    """Members of the tenant's orgs whose name, nickname, position, job or org matches."""
    rows, _ = await ResourceRepository(ctx, ORG_USERS).page(search, sort_by, sort_order == "desc")
    return rows
