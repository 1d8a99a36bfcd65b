"""Privileges come from the roles bound to a user in a tenant, and one check enforces them."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, select
from tests.integration.api.flow_docs import chat_graph

from flowdeck.access.catalog import DEVELOPER, PLATFORM_ONLY, TENANT_ADMIN, VIEWER
from flowdeck.access.principal import principal_cache
from flowdeck.db.models import ModulePriv, Role, RolePriv, TenantUserRole, User


async def rebind(app: FastAPI, username: str, *roles: str) -> None:
    """Replace the user's roles in their tenant, as an administrator's change would."""
    services = app.state.services
    async with services.db.session() as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        await session.execute(delete(TenantUserRole).where(TenantUserRole.uid == user.id))
        for role in roles:
            session.add(TenantUserRole(tenant_id=user.tenant_id, uid=user.id, role_id=role))
    await principal_cache(services).changed()


async def test_system_catalog_exists_from_the_first_start(app: FastAPI) -> None:
    async with app.state.services.db.session() as session:
        roles = {r.role_id: r for r in (await session.execute(select(Role))).scalars()}
        privs = list((await session.execute(select(ModulePriv))).scalars())
        admin_privs = (
            await session.execute(select(RolePriv).where(RolePriv.role_id == TENANT_ADMIN))
        ).all()
        bound = (await session.execute(select(TenantUserRole))).scalars().all()
    assert {TENANT_ADMIN, DEVELOPER, "operator", VIEWER} <= set(roles)
    assert all(role.is_sys_role for role in roles.values())
    assert {p.priv_opr_type for p in privs} == {"READ", "WRITE", "MODIFY", "DELETE"}
    assert {p.module_id for p in privs} >= {"flows", "runs", "projects", "files", "mcp"}
    assert len(admin_privs) == len(privs) - len(PLATFORM_ONLY)
    assert [(b.role_id) for b in bound] == [TENANT_ADMIN]  # the first superuser


async def test_a_new_user_is_a_developer_and_a_viewer_only_reads(
    app: FastAPI, client: httpx.AsyncClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    carol = await make_user("carol")
    made = await carol.post("/api/v1/flows/", json={"name": "c1", "data": chat_graph()})
    assert made.status_code == 201, made.text
    flow_id = made.json()["id"]

    await rebind(app, "carol", VIEWER)
    assert (await carol.get("/api/v1/flows/")).status_code == 200
    assert (await carol.get(f"/api/v1/flows/{flow_id}")).status_code == 200
    refused = {
        "create": await carol.post("/api/v1/flows/", json={"name": "c2"}),
        "update": await carol.patch(f"/api/v1/flows/{flow_id}", json={"name": "c3"}),
        "delete": await carol.delete(f"/api/v1/flows/{flow_id}"),
        "run": await carol.post(f"/api/v1/run/{flow_id}", json={"input_value": "x"}),
        "build": await carol.post(f"/api/v1/build/{flow_id}/flow", json={}),
    }
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 403)
    body = refused["update"].json()
    assert (body["module"], body["operation"]) == ("flows", "MODIFY")
    assert "MODIFY" in body["message"]
    assert refused["run"].json()["module"] == "runs"
    # Nothing was changed by the refused calls.
    assert (await carol.get(f"/api/v1/flows/{flow_id}")).json()["name"] == "c1"


async def test_removing_a_binding_revokes_at_once(app: FastAPI, make_user) -> None:  # type: ignore[no-untyped-def]
    dave = await make_user("dave")
    assert (await dave.get("/api/v1/flows/")).status_code == 200
    await rebind(app, "dave")
    refused = await dave.get("/api/v1/flows/")
    assert refused.status_code == 403
    assert refused.json()["field"] == "Tenant-Id"  # no role left in the tenant
    await rebind(app, "dave", DEVELOPER)
    assert (await dave.get("/api/v1/flows/")).status_code == 200


async def test_the_check_runs_before_the_body_is_read(app: FastAPI, make_user) -> None:  # type: ignore[no-untyped-def]
    erin = await make_user("erin")
    await rebind(app, "erin", VIEWER)
    # A body that would fail validation: the missing privilege is what the caller hears.
    resp = await erin.post(
        "/api/v1/flows/", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 403
