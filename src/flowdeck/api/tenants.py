"""Tenants, and the roles bound to users in a tenant (the seed's Tenants group)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from sqlalchemy import Select, select

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.db.models import (
    Org,
    Role,
    Tenant,
    TenantGroupRole,
    TenantOrgRole,
    TenantUserRole,
    User,
    UserGroup,
)
from flowdeck.errors import InvalidInputError, InvalidStateError, NotFoundError
from flowdeck.resources.declaration import Context, Hooks, Resource
from flowdeck.resources.hooks import access_changed
from flowdeck.resources.routes import ContextDep, ListFilter, mount
from flowdeck.schemas.common import (
    Candidates,
    Count,
    GroupCandidate,
    GroupCandidates,
    OrgCandidate,
    OrgCandidates,
)
from flowdeck.schemas.tenancy import (
    TenantCreate,
    TenantGroupRoleCreate,
    TenantGroupRoleRead,
    TenantOrgRoleCreate,
    TenantOrgRoleRead,
    TenantRead,
    TenantUpdate,
    TenantUserRoleCreate,
    TenantUserRoleRead,
)
from flowdeck.services.people import (
    candidates,
    in_acting_tenant,
    role_in_tenant,
    subject_candidates,
)

router = guarded_router(prefix="/api/v1/tenants", tags=["Tenants"])


def _platform(ctx: Context) -> bool:
    return ctx.principal.user.is_superuser


# --- role bindings -------------------------------------------------------------------------


def _bindings_visible(ctx: Context, stmt: Select[Any]) -> Select[Any]:
    # The scope (TENANT) already limits bindings to the tenant the request acts in.
    return stmt


async def _role_seen(ctx: Context, role_id: str) -> str:
    return await role_in_tenant(ctx.session, ctx.principal.tenant_id, role_id)


async def _check_binding(ctx: Context, values: dict[str, Any], _row: Any) -> dict[str, Any]:
    tenant_id = in_acting_tenant(ctx.principal.tenant_id, values)
    uid, username = values.pop("uid", None), values.pop("username", None)
    if uid is None and not username:
        raise InvalidInputError("give the user's uid or username", field="uid")
    who = User.id == uid if uid is not None else User.username == username
    user = (await ctx.session.execute(select(User).where(who))).scalar_one_or_none()
    if user is None or not _may_see_user(ctx, user):
        raise NotFoundError("no such user", field="uid" if uid is not None else "username")
    role_id = await _role_seen(ctx, values["role_id"])
    return {"role_id": role_id, "uid": user.id, "tenant_id": tenant_id}


def _subject_check(model: Any, key: str, name: str) -> Any:
    """The before_write of a group or org binding: its subject named by id or name."""

    async def check(ctx: Context, values: dict[str, Any], _row: Any) -> dict[str, Any]:
        tenant_id = in_acting_tenant(ctx.principal.tenant_id, values)
        subject_id, subject_name = values.pop(key, None), values.pop(name, None)
        if subject_id is None and not subject_name:
            raise InvalidInputError(f"give the {key} or {name}", field=key)
        which = (
            getattr(model, key) == subject_id
            if subject_id is not None
            else getattr(model, name) == subject_name
        )
        found = (
            await ctx.session.execute(
                select(getattr(model, key)).where(which, model.tenant_id == tenant_id)
            )
        ).scalar_one_or_none()
        if found is None:
            raise NotFoundError(
                f"no such {key[:-3]}", field=key if subject_id is not None else name
            )
        role_id = await _role_seen(ctx, values["role_id"])
        return {"role_id": role_id, key: found, "tenant_id": tenant_id}

    return check


def _subject_bindings(
    model: Any, subject: Any, key: str, name: str, label: str, read: Any, create: Any
) -> Resource[Any]:
    return Resource(
        label=f"tenant {label} role",
        path=f"/{label}-roles",
        module=Module.ROLES,
        model=model,
        read=read,
        create=create,
        update=None,
        id_field="relation_id",
        id_type=int,
        sort={
            "id": "id",
            "tenant_name": Tenant.name,
            name: getattr(subject, name),
            "role_id": "role_id",
            "role_name": Role.role_name,
        },
        default_sort="id",
        search=(getattr(subject, name), Role.role_name),
        joins=(
            (subject, getattr(subject, key) == getattr(model, key)),
            (Role, Role.role_id == model.role_id),
            (Tenant, Tenant.id == model.tenant_id),
        ),
        hooks=Hooks(before_write=_subject_check(subject, key, name), after_change=access_changed),
        batch_remove=True,
    )


def _may_see_user(ctx: Context, user: User) -> bool:
    """Platform superusers see every user; a tenant's administrators, their tenant's."""
    return _platform(ctx) or user.tenant_id == ctx.principal.tenant_id


BINDINGS = Resource(
    label="tenant user role",
    path="/user-roles",
    module=Module.ROLES,
    model=TenantUserRole,
    read=TenantUserRoleRead,
    create=TenantUserRoleCreate,
    update=None,
    id_field="relation_id",
    id_type=int,
    sort={
        "id": "id",
        "tenant_name": Tenant.name,
        "username": User.username,
        "nickname": User.nickname,
        "role_id": "role_id",
        "role_name": Role.role_name,
    },
    default_sort="id",
    search=(User.username, User.nickname, Role.role_name),
    joins=(
        (User, User.id == TenantUserRole.uid),
        (Role, Role.role_id == TenantUserRole.role_id),
        (Tenant, Tenant.id == TenantUserRole.tenant_id),
    ),
    hooks=Hooks(
        visible=_bindings_visible, before_write=_check_binding, after_change=access_changed
    ),
    batch_remove=True,
)


@router.get("/user-candidates", response_model=Candidates)
@router.get("/user-candidates/", response_model=Candidates, include_in_schema=False)
@requires(Module.ROLES, Op.READ)
async def read_user_candidates(
    ctx: ContextDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
    skip: Count = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> Candidates:
    """Users who hold no role yet in the tenant the request acts in (platform superusers may
    pick any user; a tenant's administrators, the users whose default tenant it is)."""
    tenant = ctx.principal.tenant_id
    bound = select(TenantUserRole.uid).where(TenantUserRole.tenant_id == tenant)
    pool = User.id.is_not(None) if _platform(ctx) else User.tenant_id == tenant
    return await candidates(ctx.session, pool, bound, search, skip, limit)


TenantIdQuery = Annotated[UUID | None, Query()]
Search = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _named_tenant(ctx: Context, tenant_id: UUID | None) -> str:
    # The seed's tenant_id query parameter names the tenant the request acts in, if given.
    if tenant_id is None:
        return ctx.principal.tenant_id
    return in_acting_tenant(ctx.principal.tenant_id, {"tenant_id": tenant_id})


@both(router, "GET", "/group-candidates", response_model=GroupCandidates)
@requires(Module.ROLES, Op.READ)
async def read_group_candidates(
    ctx: ContextDep,
    tenant_id: TenantIdQuery = None,
    search: Search = None,
    skip: Count = 0,
    limit: Limit = 10,
) -> GroupCandidates:
    """The tenant's user groups that hold no role in it yet."""
    tenant = _named_tenant(ctx, tenant_id)
    bound = select(TenantGroupRole.group_id).where(TenantGroupRole.tenant_id == tenant)
    rows, total = await subject_candidates(
        ctx.session, UserGroup.group_id, UserGroup.group_name, tenant, bound, search, skip, limit
    )
    users = [GroupCandidate(group_id=g.group_id, group_name=g.group_name) for g in rows]
    return GroupCandidates(total_count=total, users=users)


@both(router, "GET", "/org-candidates", response_model=OrgCandidates)
@requires(Module.ROLES, Op.READ)
async def read_org_candidates(
    ctx: ContextDep,
    tenant_id: TenantIdQuery = None,
    search: Search = None,
    skip: Count = 0,
    limit: Limit = 10,
) -> OrgCandidates:
    """The tenant's orgs that hold no role in it yet."""
    tenant = _named_tenant(ctx, tenant_id)
    bound = select(TenantOrgRole.org_id).where(TenantOrgRole.tenant_id == tenant)
    rows, total = await subject_candidates(
        ctx.session, Org.org_id, Org.org_name, tenant, bound, search, skip, limit
    )
    users = [
        OrgCandidate(org_id=o.org_id, org_name=o.org_name, org_level=o.org_level) for o in rows
    ]
    return OrgCandidates(total_count=total, users=users)


mount(router, BINDINGS)
mount(
    router,
    _subject_bindings(
        TenantGroupRole,
        UserGroup,
        "group_id",
        "group_name",
        "group",
        TenantGroupRoleRead,
        TenantGroupRoleCreate,
    ),
)
mount(
    router,
    _subject_bindings(
        TenantOrgRole, Org, "org_id", "org_name", "org", TenantOrgRoleRead, TenantOrgRoleCreate
    ),
)


# --- tenants -------------------------------------------------------------------------------


def _tenants_visible(ctx: Context, stmt: Select[Any]) -> Select[Any]:
    # A tenant's administrators see and change their own tenant; superusers, every tenant.
    return stmt if _platform(ctx) else stmt.where(Tenant.id == ctx.principal.tenant_id)


async def _check_tenant(ctx: Context, values: dict[str, Any], row: Any) -> dict[str, Any]:
    if values.get("is_sys") and not _platform(ctx):
        raise InvalidInputError("only platform superusers mark a tenant as system", field="is_sys")
    if row is None:
        tenant_id = values.pop("tenant_id", None)
        if tenant_id is not None:
            values["id"] = str(tenant_id)
        values.setdefault("settings", {})
    return values


async def _keep_system_tenant(ctx: Context, row: Any) -> None:
    if row.is_sys:
        raise InvalidStateError("the system tenant cannot be removed", field="tenant_id")


def _only_mine(ctx: Context, is_all: Any) -> Any:
    """Without is_all, the tenants where the caller holds a role (superusers: all tenants)."""
    if is_all or _platform(ctx):
        return None
    mine = select(TenantUserRole.tenant_id).where(TenantUserRole.uid == ctx.principal.user.id)
    return Tenant.id.in_(mine)


TENANTS = Resource(
    label="tenant",
    path="",
    module=Module.TENANTS,
    model=Tenant,
    read=TenantRead,
    create=TenantCreate,
    update=TenantUpdate,
    id_field="tenant_id",
    id_type=UUID,
    sort={"tenant_id": "id", "tenant_name": "name", "is_sys": "is_sys", "is_active": "is_active"},
    default_sort="tenant_name",
    search=("name",),
    columns={"tenant_name": "name", "note": "description"},
    hooks=Hooks(
        visible=_tenants_visible,
        before_write=_check_tenant,
        before_delete=_keep_system_tenant,
        after_change=access_changed,
    ),
)
mount(router, TENANTS, {"is_all": ListFilter(bool, False, _only_mine)})
