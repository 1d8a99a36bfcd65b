"""Write the catalog's system modules, privileges and roles into the database at start.

Only what is missing or changed is written, so a start on an up-to-date database reads four
small tables and writes nothing. A system role's privileges follow the catalog; roles and
privileges that administrators add are left alone.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.access.catalog import ALL_PRIVILEGES, MODULE_NAMES, SYSTEM_ROLES, TENANT_ADMIN
from flowdeck.db.models import ModulePriv, PermissionModule, Role, RolePriv, TenantUserRole


async def sync_catalog(session: AsyncSession) -> None:
    modules = set((await session.execute(select(PermissionModule.module_id))).scalars())
    for module, name in MODULE_NAMES.items():
        if str(module) not in modules:
            session.add(PermissionModule(module_id=str(module), module_name=name, is_sys=True))
    await session.flush()
    privs = {
        tuple(r) for r in await session.execute(select(ModulePriv.module_id, ModulePriv.priv_id))
    }
    for p in sorted(ALL_PRIVILEGES, key=lambda p: p.priv_id):
        if (str(p.module), p.priv_id) not in privs:
            session.add(
                ModulePriv(
                    module_id=str(p.module),
                    priv_id=p.priv_id,
                    priv_name=f"{p.op.title()} {MODULE_NAMES[p.module].lower()}",
                    priv_opr_type=str(p.op),
                    is_sys_priv=True,
                )
            )
    roles = set((await session.execute(select(Role.role_id))).scalars())
    for role_id, (name, _) in SYSTEM_ROLES.items():
        if role_id not in roles:
            session.add(Role(role_id=role_id, role_name=name, is_sys_role=True))
    await session.flush()
    held: dict[str, set[tuple[str, str]]] = {}
    rows = await session.execute(
        select(RolePriv.role_id, RolePriv.module_id, RolePriv.priv_id).where(
            RolePriv.role_id.in_(list(SYSTEM_ROLES))
        )
    )
    for role_id, module_id, priv_id in rows:
        held.setdefault(role_id, set()).add((module_id, priv_id))
    for role_id, (_, wanted_privs) in SYSTEM_ROLES.items():
        wanted = {(str(p.module), p.priv_id) for p in wanted_privs}
        have = held.get(role_id, set())
        for module_id, priv_id in have - wanted:
            await session.execute(
                delete(RolePriv).where(
                    RolePriv.role_id == role_id,
                    RolePriv.module_id == module_id,
                    RolePriv.priv_id == priv_id,
                )
            )
        for module_id, priv_id in sorted(wanted - have):
            session.add(RolePriv(role_id=role_id, module_id=module_id, priv_id=priv_id))
    await session.flush()


async def bind_role(session: AsyncSession, tenant_id: str, uid: int, role_id: str) -> None:
    """Give `uid` the role in the tenant, unless they hold it already."""
    exists = await session.execute(
        select(TenantUserRole.id).where(
            TenantUserRole.tenant_id == tenant_id,
            TenantUserRole.uid == uid,
            TenantUserRole.role_id == role_id,
        )
    )
    if exists.first() is None:
        session.add(TenantUserRole(tenant_id=tenant_id, uid=uid, role_id=role_id))
        await session.flush()


__all__ = ["TENANT_ADMIN", "bind_role", "sync_catalog"]
