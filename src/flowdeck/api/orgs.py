"""Organisations and user groups, and their members (the seed's Organization group)."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import select

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.db.models import Org, OrgMember, User, UserGroup, UserGroupMember
from flowdeck.db.models.orgs import LEVEL_COLUMNS, MAX_ORG_LEVEL
from flowdeck.errors import InvalidInputError, InvalidStateError, NotFoundError
from flowdeck.resources.declaration import Context, Hooks, Resource
from flowdeck.resources.hooks import access_changed
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep, ListFilter, mount
from flowdeck.schemas.common import Candidates, Count, Id, QueryBool
from flowdeck.schemas.orgs import (
    GroupMemberRead,
    GroupMembersAdd,
    GroupMemberUpdate,
    OrgCreate,
    OrgMemberRead,
    OrgMembersAdd,
    OrgMemberUpdate,
    OrgNode,
    OrgRead,
    OrgUpdate,
    UserGroupCreate,
    UserGroupRead,
    UserGroupUpdate,
)
from flowdeck.services.people import candidates, in_acting_tenant, tenant_people

router = guarded_router(prefix="/api/v1", tags=["Organization"])

Search = Annotated[str | None, Query(max_length=200)]
GroupId = Annotated[Id, Query(alias="group-id")]
OrgId = Annotated[Id, Query(alias="org-id")]


async def _in_tenant(ctx: Context, values: dict[str, Any], row: Any) -> dict[str, Any]:
    if row is None:
        values["tenant_id"] = in_acting_tenant(ctx.principal.tenant_id, values)
    return values


def _is_enable(_ctx: Context, value: Any) -> Any:
    return None if value is None else UserGroup.is_enable.is_(value)


def _is_leader(_ctx: Context, value: Any) -> Any:
    return None if value is None else UserGroupMember.is_leader.is_(value)


def _member_of(column: Any) -> Any:
    return lambda _ctx, value: column == value


# --- user groups ----------------------------------------------------------------------------

GROUP_MEMBERS = Resource(
    label="group member",
    path="/user-groups/members",
    module=Module.ORGS,
    model=UserGroupMember,
    read=GroupMemberRead,
    create=None,
    update=GroupMemberUpdate,
    id_field="member_id",
    id_type=int,
    sort={
        "id": "id",
        "uid": "uid",
        "username": User.username,
        "nickname": User.nickname,
        "is_leader": "is_leader",
    },
    default_sort="id",
    search=(User.username, User.nickname),
    joins=((User, User.id == UserGroupMember.uid),),
    hooks=Hooks(after_change=access_changed),
)


async def _scoped_one(ctx: Context, model: Any, key: Any, field: str) -> Any:
    """A row of the tenant acted in, by primary key; 404 naming `field` otherwise."""
    repo: ResourceRepository[Any] = ResourceRepository(ctx, GROUPS if model is UserGroup else ORGS)
    try:
        return await repo.get(key)
    except NotFoundError:
        raise NotFoundError(f"{field} {key} not found", field=field) from None


def _people(ctx: Context) -> Any:
    """Whom the caller may make a member: anyone for platform superusers, else the tenant's."""
    if ctx.principal.user.is_superuser:
        return User.id.is_not(None)
    return tenant_people(ctx.principal.tenant_id)


async def _tenant_users(ctx: Context, uids: list[int]) -> list[int]:
    if not uids:
        raise InvalidInputError("name at least one user", field="uids")
    pool = _people(ctx)
    found = set(
        (await ctx.session.execute(select(User.id).where(User.id.in_(uids), pool))).scalars()
    )
    missing = sorted(set(uids) - found)
    if missing:
        raise NotFoundError(f"no users {missing} in this tenant", field="uids")
    return sorted(found)


async def _add_members(
    ctx: Context, model: Any, parent: str, body: Any, values: dict[str, Any]
) -> list[Any]:
    """Make the body's users members of its group or org (those already in stay as they are);
    the members named, as now stored."""
    tenant = in_acting_tenant(ctx.principal.tenant_id, {"tenant_id": body.tenant_id})
    uids = await _tenant_users(ctx, list(body.uids))
    parent_id = getattr(body, parent)
    have = select(model.uid).where(getattr(model, parent) == parent_id)
    present = set((await ctx.session.execute(have)).scalars())
    who = ctx.principal.user.id
    for uid in uids:
        if uid not in present:
            row = model(tenant_id=tenant, uid=uid, c_uid=who, m_uid=who, **values)
            setattr(row, parent, parent_id)
            ctx.session.add(row)
    await access_changed(ctx)
    named = select(model).where(getattr(model, parent) == parent_id, model.uid.in_(uids))
    return list((await ctx.session.execute(named.order_by(model.uid))).scalars())


@both(router, "GET", "/user-groups/members/user-candidates", response_model=Candidates)
@requires(Module.ORGS, Op.READ)
async def read_group_member_candidates(
    ctx: ContextDep,
    group_id: GroupId,
    search: Search = None,
    skip: Count = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
) -> Candidates:
    """Users of the tenant who are not yet members of the group."""
    await _scoped_one(ctx, UserGroup, group_id, "group-id")
    members = select(UserGroupMember.uid).where(UserGroupMember.group_id == group_id)
    return await candidates(ctx.session, _people(ctx), members, search, skip, limit)


@both(router, "POST", "/user-groups/members", response_model=list[GroupMemberRead], status_code=201)
@requires(Module.ORGS, Op.WRITE)
async def add_group_members(body: GroupMembersAdd, ctx: ContextDep) -> list[UserGroupMember]:
    """Add users of the tenant to a group (those already in it are left as they are)."""
    await _scoped_one(ctx, UserGroup, body.group_id, "group_id")
    return await _add_members(ctx, UserGroupMember, "group_id", body, {})


mount(
    router,
    GROUP_MEMBERS,
    {
        "group_id": ListFilter(
            GroupId, inspect.Parameter.empty, _member_of(UserGroupMember.group_id)
        ),
        "is_leader": ListFilter(
            Annotated[QueryBool | None, Query(alias="Is-Leader")], None, _is_leader
        ),
    },
)

GROUPS = Resource(
    label="user group",
    path="/user-groups",
    module=Module.ORGS,
    model=UserGroup,
    read=UserGroupRead,
    create=UserGroupCreate,
    update=UserGroupUpdate,
    id_field="group_id",
    id_attr="group_id",
    id_type=int,
    sort={"group_id": "group_id", "group_name": "group_name", "is_enable": "is_enable"},
    default_sort="group_id",
    search=("group_name",),
    hooks=Hooks(before_write=_in_tenant, after_change=access_changed),
)
mount(
    router,
    GROUPS,
    {
        "is_enable": ListFilter(
            Annotated[QueryBool | None, Query(alias="Is-Enable")], None, _is_enable
        )
    },
)


# --- organisations --------------------------------------------------------------------------


async def _place_org(ctx: Context, values: dict[str, Any], row: Any) -> dict[str, Any]:
    """A new org's level and path (its ancestors and itself, root first) below its parent."""
    if row is not None:
        return values
    values["tenant_id"] = in_acting_tenant(ctx.principal.tenant_id, values)
    parent_id = values.pop("parent_org_id", None) or 0
    path = [0] * MAX_ORG_LEVEL
    level = 1
    if parent_id:
        parent = await _scoped_one(ctx, Org, parent_id, "parent_org_id")
        if parent.org_level >= MAX_ORG_LEVEL:
            raise InvalidInputError(
                f"orgs nest {MAX_ORG_LEVEL} levels deep at most", field="parent_org_id"
            )
        path = [getattr(parent, column) for column in LEVEL_COLUMNS]
        level = parent.org_level + 1
    return {
        **values,
        "parent_org_id": parent_id,
        "org_level": level,
        **dict(zip(LEVEL_COLUMNS, path, strict=True)),
    }


async def _set_own_level(ctx: Context, row: Any) -> None:
    # The org's own id fills its level's column once the id exists.
    setattr(row, LEVEL_COLUMNS[row.org_level - 1], row.org_id)
    await ctx.session.flush()


async def _no_children(ctx: Context, row: Any) -> None:
    child = await ctx.session.execute(select(Org.org_id).where(Org.parent_org_id == row.org_id))
    if child.first() is not None:
        raise InvalidStateError("remove or move the orgs below it first", field="org_id")


ORG_MEMBERS = Resource(
    label="org member",
    path="/orgs/members",
    module=Module.ORGS,
    model=OrgMember,
    read=OrgMemberRead,
    create=None,
    update=OrgMemberUpdate,
    id_field="member_id",
    id_type=int,
    sort={
        "uid": "uid",
        "username": User.username,
        "nickname": User.nickname,
        "position": "position",
        "job": "job",
        "is_leader": "is_leader",
    },
    default_sort="uid",
    search=(User.username, User.nickname, "position", "job"),
    joins=((User, User.id == OrgMember.uid),),
    hooks=Hooks(after_change=access_changed),
)
ORGS = Resource(
    label="org",
    path="/orgs",
    module=Module.ORGS,
    model=Org,
    read=OrgRead,
    create=OrgCreate,
    update=OrgUpdate,
    id_field="org_id",
    id_attr="org_id",
    id_type=int,
    sort={"org_id": "org_id", "org_name": "org_name", "org_level": "org_level"},
    default_sort="org_id",
    search=("org_name", "org_code"),
    hooks=Hooks(
        before_write=_place_org,
        before_delete=_no_children,
        after_create=_set_own_level,
        after_change=access_changed,
    ),
)


@both(router, "GET", "/orgs/tree", response_model=list[OrgNode])
@requires(Module.ORGS, Op.READ)
async def read_org_tree(ctx: ContextDep) -> list[OrgNode]:
    """The tenant's orgs as a tree, read in one query."""
    rows, _ = await ResourceRepository(ctx, ORGS).page(None, "org_level", False)
    nodes = {row.org_id: OrgNode.model_validate(row) for row in rows}
    roots: list[OrgNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_org_id)
        (parent.children if parent is not None else roots).append(node)
    return roots


@both(router, "GET", "/orgs/members/user-candidates", response_model=Candidates)
@requires(Module.ORGS, Op.READ)
async def read_org_member_candidates(
    ctx: ContextDep,
    org_id: OrgId,
    search: Search = None,
    skip: Count = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Candidates:
    """Users of the tenant who are not yet members of the org."""
    await _scoped_one(ctx, Org, org_id, "org-id")
    members = select(OrgMember.uid).where(OrgMember.org_id == org_id)
    return await candidates(ctx.session, _people(ctx), members, search, skip, limit)


@both(router, "POST", "/orgs/members", response_model=list[OrgMemberRead], status_code=201)
@requires(Module.ORGS, Op.WRITE)
async def add_org_members(body: OrgMembersAdd, ctx: ContextDep) -> list[OrgMember]:
    """Add users of the tenant to an org with a position and a job."""
    await _scoped_one(ctx, Org, body.org_id, "org_id")
    role = {"position": body.position, "job": body.job, "is_leader": body.is_leader}
    return await _add_members(ctx, OrgMember, "org_id", body, role)


mount(
    router,
    ORG_MEMBERS,
    {"org_id": ListFilter(OrgId, inspect.Parameter.empty, _member_of(OrgMember.org_id))},
)
mount(router, ORGS)
