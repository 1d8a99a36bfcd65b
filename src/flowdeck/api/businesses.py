"""Businesses: a three-level tree per tenant, the roles bound to users on each, and the
flows, projects and MCP servers that belong to one (the seed's Business group)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from sqlalchemy import Select, select

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.db.models import Business, BusinessUserRole, Role, User
from flowdeck.errors import InvalidStateError
from flowdeck.resources.declaration import Context, Hooks, Resource
from flowdeck.resources.hooks import access_changed
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep, ListFilter, mount
from flowdeck.schemas.businesses import (
    BusinessCreate,
    BusinessNode,
    BusinessRead,
    BusinessResource,
    BusinessUpdate,
    BusinessUserRoleRead,
    BusinessUserRolesUpsert,
    ResourceType,
)
from flowdeck.schemas.common import Candidates, Count, DeletedCount, Id, QueryBool, SortOrder
from flowdeck.services import businesses
from flowdeck.services.business_resources import belonging_to
from flowdeck.services.people import (
    candidates,
    in_acting_tenant,
    person,
    role_in_tenant,
    tenant_people,
)

router = guarded_router(prefix="/api/v1/businesses", tags=["Business"])

Search = Annotated[str | None, Query(max_length=200)]


def _visible(ctx: Context, stmt: Select[Any]) -> Select[Any]:
    """A caller whose privilege comes from business roles alone sees those businesses and
    the ones below them; one holding it in the tenant sees the tenant's."""
    principal = ctx.principal
    acting = principal.acting
    if acting is None or principal.tenant_wide or acting in principal.privileges:
        return stmt
    return stmt.where(Business.business_id.in_(principal.businesses_for(acting)))


async def _place(ctx: Context, values: dict[str, Any], row: Any) -> dict[str, Any]:
    tenant = ctx.principal.tenant_id
    if row is None or values.get("tenant_id") is not None:
        values["tenant_id"] = in_acting_tenant(tenant, values)
    else:
        values.pop("tenant_id", None)
    return await businesses.place(ctx.session, tenant, values, row)


async def _set_own_level(ctx: Context, row: Any) -> None:
    # The business's own id fills its level's column once the id exists.
    await businesses.fill_own_level(ctx.session, row)


async def _no_children(ctx: Context, row: Any) -> None:
    if await businesses.has_children(ctx.session, row):
        raise InvalidStateError("remove the businesses below it first", field="business_id")


BUSINESSES = Resource(
    label="business",
    path="",
    module=Module.BUSINESSES,
    model=Business,
    read=BusinessRead,
    create=BusinessCreate,
    update=BusinessUpdate,
    id_field="business_id",
    id_attr="business_id",
    id_type=int,
    sort={
        "business_id": "business_id",
        "business_name": "business_name",
        "business_level": "business_level",
    },
    default_sort="business_id",
    search=("business_name",),
    hooks=Hooks(
        visible=_visible,
        before_write=_place,
        before_delete=_no_children,
        after_create=_set_own_level,
        after_change=access_changed,
    ),
)

USER_ROLES = Resource(
    label="business user role",
    path="/{business_id}/user-roles",
    module=Module.BUSINESSES,
    model=BusinessUserRole,
    read=BusinessUserRoleRead,
    create=None,
    update=None,
    id_field="relation_id",
    id_type=int,
    sort={
        "uid": "uid",
        "username": User.username,
        "nickname": User.nickname,
        "role_id": "role_id",
        "role_name": Role.role_name,
    },
    default_sort="uid",
    search=(User.username, User.nickname, Role.role_name),
    joins=(
        (User, User.id == BusinessUserRole.uid),
        (Role, Role.role_id == BusinessUserRole.role_id),
    ),
    parent_field="business_id",
    parent_attr="business_id",
    parent_model=Business,
    parent_type=int,
    parent_visible=_visible,
    hooks=Hooks(after_change=access_changed),
    batch_remove=True,
)


def _level(_ctx: Context, level: Any) -> Any:
    return Business.business_level == level if level else None


def _equals(column: Any) -> Any:
    return lambda _ctx, value: None if value is None else column == value


LevelQuery = Annotated[int, Query(ge=0, le=3)]
FILTERS = {
    "level": ListFilter(LevelQuery, 0, _level),
    "is_enable": ListFilter(
        Annotated[QueryBool | None, Query(alias="Is-Enable")], None, _equals(Business.is_enable)
    ),
    "first_business_id": ListFilter(
        Annotated[Id | None, Query(alias="First-Business-Id")],
        None,
        _equals(Business.first_business_id),
    ),
    "second_business_id": ListFilter(
        Annotated[Id | None, Query(alias="Second-Business-Id")],
        None,
        _equals(Business.second_business_id),
    ),
}


@both(router, "GET", "/tree", response_model=list[BusinessNode])
@requires(Module.BUSINESSES, Op.READ)
async def read_business_tree(
    ctx: ContextDep,
    level: LevelQuery = 0,
    is_enable: Annotated[QueryBool | None, Query(alias="Is-Enable")] = None,
    first_business_id: Annotated[Id | None, Query(alias="First-Business-Id")] = None,
    second_business_id: Annotated[Id | None, Query(alias="Second-Business-Id")] = None,
) -> list[BusinessNode]:
    """The businesses as a tree, read in one query; a business whose parent is filtered
    out (or not visible) is a root of the answer."""
    given = {
        "level": level,
        "is_enable": is_enable,
        "first_business_id": first_business_id,
        "second_business_id": second_business_id,
    }
    conditions = tuple(
        c for key, f in FILTERS.items() if (c := f.applied(ctx, given[key])) is not None
    )
    repo = ResourceRepository(ctx, BUSINESSES)
    rows, _ = await repo.page(None, "business_level", False, filters=conditions)
    nodes = {row.business_id: BusinessNode.model_validate(row) for row in rows}
    roots: list[BusinessNode] = []
    for row in rows:
        parent = nodes.get(row.parent_business_id)
        (parent.children if parent is not None else roots).append(nodes[row.business_id])
    return roots


mount(router, BUSINESSES, FILTERS)


async def _business(ctx: Context, business_id: int) -> Business:
    found: Business = await ResourceRepository(ctx, BUSINESSES).get(business_id)
    return found


@both(router, "GET", "/{business_id}/user-candidates", response_model=Candidates)
@requires(Module.BUSINESSES, Op.READ)
async def read_business_user_candidates(
    ctx: ContextDep,
    business_id: Id,
    search: Search = None,
    skip: Count = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> Candidates:
    """Users of the tenant who hold no role on the business yet."""
    await _business(ctx, business_id)
    bound = select(BusinessUserRole.uid).where(BusinessUserRole.business_id == business_id)
    pool = tenant_people(ctx.principal.tenant_id)
    return await candidates(ctx.session, pool, bound, search, skip, limit)


@both(router, "POST", "/{business_id}/user-roles", response_model=list[BusinessUserRoleRead])
@requires(Module.BUSINESSES, Op.WRITE)
async def upsert_business_user_roles(
    ctx: ContextDep, business_id: Id, body: BusinessUserRolesUpsert
) -> list[BusinessUserRole]:
    """The user's roles on the business become the roles named (others are removed)."""
    business = await _business(ctx, business_id)
    tenant = ctx.principal.tenant_id
    user = await person(ctx.session, tenant_people(tenant), body.uid, body.username)
    roles = [await role_in_tenant(ctx.session, tenant, role_id) for role_id in body.role_ids]
    rows = await businesses.set_roles(
        ctx.session, tenant, business.business_id, user.id, roles, ctx.principal.user.id
    )
    await access_changed(ctx)
    return rows


@both(router, "DELETE", "/{business_id}/users/{uid}", response_model=DeletedCount)
@requires(Module.BUSINESSES, Op.DELETE)
async def remove_business_user(ctx: ContextDep, business_id: Id, uid: Id) -> DeletedCount:
    """Every role the user holds on the business, removed."""
    await _business(ctx, business_id)
    count = await businesses.remove_user(ctx.session, business_id, uid)
    await access_changed(ctx)
    return DeletedCount(deleted_count=count)


mount(router, USER_ROLES)


@both(router, "GET", "/{business_id}/resources", response_model=list[BusinessResource])
@requires(Module.BUSINESSES, Op.READ)
async def read_business_resources(
    ctx: ContextDep,
    business_id: Id,
    resource_type: Annotated[ResourceType, Query(alias="resource-type")] = ResourceType.FLOW,
    search: Search = None,
    sort_by: Annotated[Literal["id", "name"], Query(alias="sort-by")] = "id",
    sort_order: Annotated[SortOrder, Query(alias="sort-order")] = "asc",
) -> list[BusinessResource]:
    """What belongs to the business, of one kind, among what the caller may read."""
    await _business(ctx, business_id)
    return await belonging_to(
        ctx.session, ctx.principal, business_id, resource_type, search, sort_by, sort_order
    )
