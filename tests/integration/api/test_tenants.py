"""Tenants and tenant role bindings: the seed's routes, and requests acting in one tenant."""

from __future__ import annotations

import uuid

import httpx
from tests.integration.api.flow_docs import chat_graph


async def _tenant(client: httpx.AsyncClient, name: str) -> str:
    made = await client.post("/api/v1/tenants/", json={"tenant_name": name, "note": "n"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["tenant_name"] == name
    assert body["is_sys"] is False
    assert body["c_uid"] == body["m_uid"]
    tenant_id: str = body["tenant_id"]
    return tenant_id


async def _bind(client: httpx.AsyncClient, tenant_id: str, username: str, role: str) -> int:
    made = await client.post(
        "/api/v1/tenants/user-roles",
        json={"tenant_id": tenant_id, "role_id": role, "username": username},
        headers={"Tenant-Id": tenant_id},
    )
    assert made.status_code == 201, made.text
    assert made.json()["username"] == username
    assert made.json()["role_name"]
    relation: int = made.json()["id"]
    return relation


async def test_the_system_tenant_exists_and_tenants_have_crud(client: httpx.AsyncClient) -> None:
    tenants = (await client.get("/api/v1/tenants/", params={"is_all": "true"})).json()
    system = [t for t in tenants if t["is_sys"]]
    assert len(system) == 1
    assert uuid.UUID(system[0]["tenant_id"])

    acme = await _tenant(client, "acme")
    await _tenant(client, "beta")
    names = [t["tenant_name"] for t in (await client.get("/api/v1/tenants")).json()]
    assert names == sorted(names)
    desc = await client.get(
        "/api/v1/tenants/", params={"sort_by": "tenant_name", "sort_order": "desc"}
    )
    assert [t["tenant_name"] for t in desc.json()] == sorted(names, reverse=True)
    assert (await client.get("/api/v1/tenants/", params={"sort_by": "nope"})).status_code == 422

    patched = await client.patch(f"/api/v1/tenants/{acme}", json={"note": "renamed"})
    assert patched.json()["note"] == "renamed"
    assert (await client.get(f"/api/v1/tenants/{acme}")).json()["note"] == "renamed"
    assert (await client.get("/api/v1/tenants/not-a-uuid")).status_code == 422
    assert (await client.delete(f"/api/v1/tenants/{system[0]['tenant_id']}")).status_code == 409
    assert (await client.delete(f"/api/v1/tenants/{acme}")).status_code == 204
    assert (await client.get(f"/api/v1/tenants/{acme}")).status_code == 404


async def test_tenant_times_carry_their_zone(client: httpx.AsyncClient) -> None:
    made = (await client.post("/api/v1/tenants/", json={"tenant_name": "tz"})).json()
    read = (await client.get(f"/api/v1/tenants/{made['tenant_id']}")).json()
    for body in (made, read):
        assert body["ctime"].endswith(("Z", "+00:00")), body["ctime"]
        assert body["utime"].endswith(("Z", "+00:00")), body["utime"]


async def test_a_request_acts_in_one_tenant(client: httpx.AsyncClient, make_user) -> None:  # type: ignore[no-untyped-def]
    bob = await make_user("bob")
    home = (await bob.get("/api/v1/users/whoami")).json()["tenant_id"]
    mine = await bob.post("/api/v1/flows/", json={"name": "home-flow", "data": chat_graph()})
    assert mine.status_code == 201

    acme = await _tenant(client, "acme")
    relation = await _bind(client, acme, "bob", "developer")
    in_acme = {"Tenant-Id": acme}
    made = await bob.post("/api/v1/flows/", json={"name": "acme-flow"}, headers=in_acme)
    assert made.status_code == 201, made.text
    assert made.json()["tenant_id"] == acme
    # The same name is free in each tenant: names are unique within a tenant.
    again = await bob.post("/api/v1/flows/", json={"name": "home-flow"}, headers=in_acme)
    assert again.json()["name"] == "home-flow"

    acme_flows = (await bob.get("/api/v1/flows/", headers=in_acme)).json()
    home_flows = (await bob.get("/api/v1/flows/")).json()
    assert {f["tenant_id"] for f in acme_flows} == {acme}
    assert {f["tenant_id"] for f in home_flows} == {home}
    # Another tenant's flow is 404 on every verb.
    other = made.json()["id"]
    assert (await bob.get(f"/api/v1/flows/{other}")).status_code == 404
    assert (await bob.patch(f"/api/v1/flows/{other}", json={"name": "x"})).status_code == 404
    assert (await bob.delete(f"/api/v1/flows/{other}")).status_code == 404
    assert (await bob.post(f"/api/v1/run/{other}", json={})).status_code == 404

    nowhere = await _tenant(client, "nowhere")
    refused = await bob.get("/api/v1/flows/", headers={"Tenant-Id": nowhere})
    assert refused.status_code == 403
    assert refused.json()["field"] == "Tenant-Id"
    unknown = await bob.get("/api/v1/flows/", headers={"Tenant-Id": str(uuid.uuid4())})
    assert unknown.status_code == 403  # the same answer: existence is not revealed
    bad = await bob.get("/api/v1/flows/", headers={"Tenant-Id": "acme"})
    assert bad.status_code in (400, 422)
    assert bad.json()["field"] == "Tenant-Id"

    # Removing the binding takes effect on the next request.
    gone = await client.delete(f"/api/v1/tenants/user-roles/{relation}", headers=in_acme)
    assert gone.status_code == 204
    assert (await bob.get("/api/v1/flows/", headers=in_acme)).status_code == 403


async def test_tenant_user_roles_list_search_and_batch_remove(
    client: httpx.AsyncClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    await make_user("carol")
    await make_user("dave")
    acme = await _tenant(client, "acme")
    in_acme = {"Tenant-Id": acme}
    first = await _bind(client, acme, "carol", "viewer")
    second = await _bind(client, acme, "dave", "operator")
    listed = await client.get(
        "/api/v1/tenants/user-roles", params={"sort_by": "username"}, headers=in_acme
    )
    assert [r["username"] for r in listed.json()] == ["carol", "dave"]
    assert {r["tenant_name"] for r in listed.json()} == {"acme"}
    found = await client.get(
        "/api/v1/tenants/user-roles", params={"search": "dav"}, headers=in_acme
    )
    assert [r["id"] for r in found.json()] == [second]

    candidates = await client.get("/api/v1/tenants/user-candidates", headers=in_acme)
    names = {u["username"] for u in candidates.json()["users"]}
    assert "carol" not in names
    assert candidates.json()["total_count"] == len(candidates.json()["users"])

    removed = await client.post(
        "/api/v1/tenants/user-roles/batch-remove",
        json={"ids": [first, second, 999]},
        headers=in_acme,
    )
    assert removed.json() == {"deleted_count": 2}
    assert (await client.get("/api/v1/tenants/user-roles", headers=in_acme)).json() == []


async def test_a_tenant_administrator_administers_only_their_tenant(
    client: httpx.AsyncClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    erin = await make_user("erin")
    acme = await _tenant(client, "acme")
    beta = await _tenant(client, "beta")
    await _bind(client, acme, "erin", "tenant_admin")
    in_acme = {"Tenant-Id": acme}
    assert (
        await erin.post("/api/v1/tenants/", json={"tenant_name": "mine"}, headers=in_acme)
    ).status_code == 403
    ok = await erin.patch(f"/api/v1/tenants/{acme}", json={"note": "ours"}, headers=in_acme)
    assert ok.status_code == 200, ok.text
    assert (
        await erin.patch(f"/api/v1/tenants/{beta}", json={"note": "x"}, headers=in_acme)
    ).status_code == 404
    assert [
        t["tenant_id"] for t in (await erin.get("/api/v1/tenants/", headers=in_acme)).json()
    ] == [acme]
    assert (await erin.delete(f"/api/v1/tenants/{acme}", headers=in_acme)).status_code == 403
