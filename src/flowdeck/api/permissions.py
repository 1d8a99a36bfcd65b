"""Permission modules and their privileges, roles and role privileges (the seed's Permission)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Response
from sqlalchemy import Select, delete, or_, select

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.db.models import ModulePriv, PermissionModule, Role, RolePriv
from flowdeck.errors import ConflictError, InvalidStateError, NotFoundError
from flowdeck.resources.declaration import Context, Hooks, Resource
from flowdeck.resources.hooks import access_changed
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep, ListFilter, mount
from flowdeck.schemas.common import SortOrder
from flowdeck.schemas.permissions import (
    ModulePrivCreate,
    ModulePrivRead,
    ModulePrivUpdate,
    ModuleRead,
    RoleCreate,
    RolePrivCreate,
    RolePrivRead,
    RoleRead,
    RoleUpdate,
)

router = guarded_router(prefix="/api/v1", tags=["Permission"])

Search = Annotated[str | None, Query(max_length=200)]


# --- modules and their privileges (platform superusers change them) -----------------------


async def _keep_system_priv(_ctx: Context, row: Any) -> None:
    if row.is_sys_priv:
        raise InvalidStateError(f"{row.priv_id} is a system privilege", field="priv_id")


async def _keep_system_module(_ctx: Context, row: Any) -> None:
    # Routes declare their privileges in the system modules: without one, nobody could
    # be granted what its routes need.
    if row.is_sys:
        raise InvalidStateError(f"{row.module_id} is a system module", field="module_id")


MODULES = Resource(
    label="permission module",
    path="/permissions/modules",
    module=Module.PERMISSIONS,
    model=PermissionModule,
    read=ModuleRead,
    create=None,
    update=None,
    id_field="module_id",
    id_attr="module_id",
    sort={"module_id": "module_id", "module_name": "module_name"},
    default_sort="module_id",
    search=("module_id", "module_name"),
    # Its privileges go with it (cascade): principals holding them are read again.
    hooks=Hooks(before_delete=_keep_system_module, after_change=access_changed),
)
PRIVS = Resource(
    label="privilege",
    path="/permissions/modules/{module_id}/privs",
    module=Module.PERMISSIONS,
    model=ModulePriv,
    read=ModulePrivRead,
    create=ModulePrivCreate,
    update=ModulePrivUpdate,
    id_field="priv_id",
    id_attr="priv_id",
    parent_field="module_id",
    parent_attr="module_id",
    parent_model=PermissionModule,
    sort={
        "priv_id": "priv_id",
        "priv_name": "priv_name",
        "priv_opr_type": "priv_opr_type",
        "is_sys_priv": "is_sys_priv",
    },
    default_sort="priv_id",
    search=("priv_id", "priv_name"),
    hooks=Hooks(before_delete=_keep_system_priv, after_change=access_changed),
)


@both(router, "GET", "/permissions/tree")
@requires(Module.PERMISSIONS, Op.READ)
async def read_module_priv_tree(
    ctx: ContextDep, search: Search = None, sort_order: SortOrder = "asc"
) -> list[dict[str, Any]]:
    """Every module with its privileges (one query), optionally those matching `search`."""
    stmt = select(PermissionModule, ModulePriv).outerjoin(
        ModulePriv, ModulePriv.module_id == PermissionModule.module_id
    )
    if search:
        pattern = f"%{search}%"
        stmt = stmt.where(
            or_(
                PermissionModule.module_name.ilike(pattern),
                ModulePriv.priv_name.ilike(pattern),
                ModulePriv.priv_id.ilike(pattern),
            )
        )
    desc = sort_order == "desc"
    order = PermissionModule.module_id.desc() if desc else PermissionModule.module_id
    stmt = stmt.order_by(order, ModulePriv.priv_id)
    tree: dict[str, dict[str, Any]] = {}
    for module, priv in await ctx.session.execute(stmt):
        node = tree.setdefault(
            module.module_id, {**ModuleRead.model_validate(module).model_dump(), "privs": []}
        )
        if priv is not None:
            node["privs"].append(ModulePrivRead.model_validate(priv).model_dump())
    return list(tree.values())


mount(router, MODULES)
mount(
    router,
    PRIVS,
    {
        "is_sys_priv": ListFilter(
            bool | None, None, lambda _c, v: None if v is None else ModulePriv.is_sys_priv.is_(v)
        )
    },
)


# --- roles ----------------------------------------------------------------------------------


def _roles_visible(ctx: Context, stmt: Select[Any]) -> Select[Any]:
    # System roles are seen in every tenant; other roles in the tenant that made them.
    return stmt.where(or_(Role.tenant_id.is_(None), Role.tenant_id == ctx.principal.tenant_id))


async def _new_role(ctx: Context, values: dict[str, Any], row: Any) -> dict[str, Any]:
    if row is not None:
        if row.is_sys_role:
            raise InvalidStateError(f"{row.role_id} is a system role", field="role_id")
        return values
    role_id = values.get("role_id") or uuid.uuid4().hex
    if await ctx.session.get(Role, role_id) is not None:
        raise ConflictError(f"role id {role_id!r} is taken", field="role_id")
    return {
        **values,
        "role_id": role_id,
        "tenant_id": ctx.principal.tenant_id,
        "is_sys_role": False,
    }


async def _keep_system_role(_ctx: Context, row: Any) -> None:
    if row.is_sys_role:
        raise InvalidStateError(f"{row.role_id} is a system role", field="role_id")


ROLES = Resource(
    label="role",
    path="/roles",
    module=Module.ROLES,
    model=Role,
    read=RoleRead,
    create=RoleCreate,
    update=RoleUpdate,
    id_field="role_id",
    id_attr="role_id",
    sort={"role_id": "role_id", "role_name": "role_name", "is_sys_role": "is_sys_role"},
    default_sort="role_name",
    search=("role_id", "role_name"),
    hooks=Hooks(
        visible=_roles_visible,
        before_write=_new_role,
        before_delete=_keep_system_role,
        after_change=access_changed,
    ),
)


def _role_priv_read(
    role_id: str, module: PermissionModule, priv: ModulePriv, rp: RolePriv
) -> RolePrivRead:
    return RolePrivRead(
        role_id=role_id,
        module_id=module.module_id,
        module_name=module.module_name,
        priv_id=priv.priv_id,
        priv_name=priv.priv_name,
        is_sys_priv=priv.is_sys_priv,
        priv_opr_type=priv.priv_opr_type,
        c_uid=rp.c_uid,
        ctime=rp.ctime,
    )


def _role_privs_query(search: str | None) -> Any:
    stmt = (
        select(RolePriv, ModulePriv, PermissionModule)
        .join(
            ModulePriv,
            (ModulePriv.module_id == RolePriv.module_id) & (ModulePriv.priv_id == RolePriv.priv_id),
        )
        .join(PermissionModule, PermissionModule.module_id == RolePriv.module_id)
    )
    if search:
        pattern = f"%{search}%"
        stmt = stmt.where(
            or_(
                PermissionModule.module_name.ilike(pattern),
                ModulePriv.priv_name.ilike(pattern),
                ModulePriv.priv_id.ilike(pattern),
            )
        )
    return stmt


async def _role(ctx: Context, role_id: str, changing: bool = False) -> Role:
    role: Role = await ResourceRepository(ctx, ROLES).get(role_id)
    if changing and role.is_sys_role:
        raise InvalidStateError(
            f"{role_id} is a system role: its privileges follow the catalog", field="role_id"
        )
    return role


@both(router, "GET", "/roles/priv-tree")
@requires(Module.ROLES, Op.READ)
async def read_role_priv_tree(
    ctx: ContextDep, search: Search = None, sort_order: SortOrder = "asc"
) -> list[dict[str, Any]]:
    """Every role the caller may see, with its privileges (one query)."""
    roles = _roles_visible(ctx, select(Role))
    order = Role.role_name.desc() if sort_order == "desc" else Role.role_name
    tree: dict[str, dict[str, Any]] = {
        role.role_id: {**RoleRead.model_validate(role).model_dump(), "privs": []}
        for role in (await ctx.session.execute(roles.order_by(order, Role.role_id))).scalars()
    }
    stmt = _role_privs_query(search).where(RolePriv.role_id.in_(list(tree)))
    stmt = stmt.order_by(RolePriv.module_id, RolePriv.priv_id)
    for rp, priv, module in await ctx.session.execute(stmt):
        tree[rp.role_id]["privs"].append(_role_priv_read(rp.role_id, module, priv, rp).model_dump())
    return list(tree.values())


mount(router, ROLES)


@both(router, "GET", "/roles/{role_id}/privs", response_model=list[RolePrivRead])
@requires(Module.ROLES, Op.READ)
async def read_role_privs(
    role_id: str, ctx: ContextDep, search: Search = None, sort_order: SortOrder = "asc"
) -> list[RolePrivRead]:
    await _role(ctx, role_id)
    stmt = _role_privs_query(search).where(RolePriv.role_id == role_id)
    cols = (RolePriv.module_id, RolePriv.priv_id)
    stmt = stmt.order_by(*(c.desc() if sort_order == "desc" else c for c in cols))
    rows = await ctx.session.execute(stmt)
    return [_role_priv_read(role_id, module, priv, rp) for rp, priv, module in rows]


@both(router, "POST", "/roles/{role_id}/privs", response_model=RolePrivRead, status_code=201)
@requires(Module.ROLES, Op.MODIFY)
async def add_role_priv(role_id: str, body: RolePrivCreate, ctx: ContextDep) -> RolePrivRead:
    await _role(ctx, role_id, changing=True)
    priv = await ctx.session.get(ModulePriv, (body.module_id, body.priv_id))
    module = await ctx.session.get(PermissionModule, body.module_id)
    if priv is None or module is None:
        raise NotFoundError(f"no privilege {body.priv_id} in {body.module_id}", field="priv_id")
    if await ctx.session.get(RolePriv, (role_id, body.module_id, body.priv_id)) is not None:
        raise ConflictError(f"the role holds {body.priv_id} already", field="priv_id")
    row = RolePriv(role_id=role_id, module_id=body.module_id, priv_id=body.priv_id)
    row.c_uid = ctx.principal.user.id
    ctx.session.add(row)
    await access_changed(ctx)
    await ctx.session.refresh(row)
    return _role_priv_read(role_id, module, priv, row)


@both(router, "DELETE", "/roles/{role_id}/privs/{module_id}/{priv_id}", status_code=204)
@requires(Module.ROLES, Op.MODIFY)
async def remove_role_priv(role_id: str, module_id: str, priv_id: str, ctx: ContextDep) -> Response:
    await _role(ctx, role_id, changing=True)
    result: Any = await ctx.session.execute(
        delete(RolePriv).where(
            RolePriv.role_id == role_id,
            RolePriv.module_id == module_id,
            RolePriv.priv_id == priv_id,
        )
    )
    if not result.rowcount:
        raise NotFoundError(f"the role does not hold {priv_id}", field="priv_id")
    await access_changed(ctx)
    return Response(status_code=204)
