"""Permission modules, privileges, roles and role privileges, and what they grant."""

from __future__ import annotations

import httpx
from tests.integration.api.test_tenants import _bind, _tenant


async def test_modules_and_their_privileges(client: httpx.AsyncClient) -> None:
    modules = (await client.get("/api/v1/permissions/modules")).json()
    ids = [m["module_id"] for m in modules]
    assert {"flows", "runs", "tenants", "mcp", "models"} <= set(ids)
    assert ids == sorted(ids)
    found = await client.get("/api/v1/permissions/modules", params={"search": "Flow"})
    assert [m["module_id"] for m in found.json()] == ["flows"]

    privs = (await client.get("/api/v1/permissions/modules/flows/privs")).json()
    assert {p["priv_opr_type"] for p in privs} == {"READ", "WRITE", "MODIFY", "DELETE"}
    assert all(p["is_sys_priv"] for p in privs)

    made = await client.post(
        "/api/v1/permissions/modules/flows/privs",
        json={"priv_id": "flows:EXPORT", "priv_name": "Export", "is_sys_priv": False},
    )
    assert made.status_code == 201, made.text
    assert made.json()["priv_opr_type"] == "READ"
    custom = await client.get(
        "/api/v1/permissions/modules/flows/privs", params={"is_sys_priv": "false"}
    )
    assert [p["priv_id"] for p in custom.json()] == ["flows:EXPORT"]
    patched = await client.patch(
        "/api/v1/permissions/modules/flows/privs/flows:EXPORT", json={"priv_opr_type": "MODIFY"}
    )
    assert patched.json()["priv_opr_type"] == "MODIFY"
    assert (
        await client.delete("/api/v1/permissions/modules/flows/privs/flows:READ")
    ).status_code == 409
    assert (
        await client.delete("/api/v1/permissions/modules/flows/privs/flows:EXPORT")
    ).status_code == 204
    assert (
        await client.get("/api/v1/permissions/modules/runs/privs/flows:READ")
    ).status_code == 404

    # A system module stays, with its privileges: routes declare what they need in it.
    kept = await client.delete("/api/v1/permissions/modules/flows")
    assert kept.status_code == 409, kept.text
    assert kept.json()["field"] == "module_id"
    assert (await client.get("/api/v1/permissions/modules/flows")).status_code == 200

    tree = (await client.get("/api/v1/permissions/tree")).json()
    flows = next(node for node in tree if node["module_id"] == "flows")
    assert len(flows["privs"]) == 4


async def test_a_custom_role_grants_what_it_holds(client: httpx.AsyncClient, make_user) -> None:  # type: ignore[no-untyped-def]
    frank = await make_user("frank")
    acme = await _tenant(client, "acme")
    in_acme = {"Tenant-Id": acme}
    role = await client.post("/api/v1/roles/", json={"role_name": "Reader"}, headers=in_acme)
    assert role.status_code == 201, role.text
    role_id = role.json()["role_id"]
    assert role.json()["is_sys_role"] is False
    granted = await client.post(
        f"/api/v1/roles/{role_id}/privs",
        json={"module_id": "flows", "priv_id": "flows:READ"},
        headers=in_acme,
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["module_name"] == "Flows"
    await _bind(client, acme, "frank", role_id)

    assert (await frank.get("/api/v1/flows/", headers=in_acme)).status_code == 200
    refused = await frank.post("/api/v1/flows/", json={"name": "x"}, headers=in_acme)
    assert refused.status_code == 403
    assert refused.json()["operation"] == "WRITE"

    privs = (await client.get(f"/api/v1/roles/{role_id}/privs", headers=in_acme)).json()
    assert [p["priv_id"] for p in privs] == ["flows:READ"]
    tree = (await client.get("/api/v1/roles/priv-tree", headers=in_acme)).json()
    assert {"tenant_admin", "developer", "operator", "viewer", role_id} <= {
        r["role_id"] for r in tree
    }

    # Revoking the privilege takes effect on the next request.
    gone = await client.delete(f"/api/v1/roles/{role_id}/privs/flows/flows:READ", headers=in_acme)
    assert gone.status_code == 204
    assert (await frank.get("/api/v1/flows/", headers=in_acme)).status_code == 403

    # A tenant's roles are its own: another tenant does not see them.
    home_roles = {r["role_id"] for r in (await client.get("/api/v1/roles/")).json()}
    assert role_id not in home_roles
    assert (await client.get(f"/api/v1/roles/{role_id}")).status_code == 404


async def test_system_roles_cannot_be_changed(client: httpx.AsyncClient) -> None:
    assert (await client.patch("/api/v1/roles/viewer", json={"role_name": "x"})).status_code == 409
    assert (await client.delete("/api/v1/roles/developer")).status_code == 409
    grant = await client.post(
        "/api/v1/roles/viewer/privs", json={"module_id": "flows", "priv_id": "flows:WRITE"}
    )
    assert grant.status_code == 409
    taken = await client.post("/api/v1/roles/", json={"role_id": "viewer", "role_name": "v"})
    assert taken.status_code == 409
    assert taken.json()["field"] == "role_id"


async def test_only_platform_superusers_change_the_catalog(
    client: httpx.AsyncClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    grace = await make_user("grace")
    acme = await _tenant(client, "acme")
    await _bind(client, acme, "grace", "tenant_admin")
    in_acme = {"Tenant-Id": acme}
    assert (await grace.get("/api/v1/permissions/modules", headers=in_acme)).status_code == 200
    refused = await grace.post(
        "/api/v1/permissions/modules/flows/privs",
        json={"priv_id": "flows:X", "priv_name": "X", "is_sys_priv": False},
        headers=in_acme,
    )
    assert refused.status_code == 403
    mine = await grace.post("/api/v1/roles/", json={"role_name": "Ops"}, headers=in_acme)
    assert mine.status_code == 201
