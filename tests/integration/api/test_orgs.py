"""Organisations and user groups, and the roles their members hold through them."""

from __future__ import annotations

import httpx
from tests.integration.api.test_tenants import _tenant


async def _uid(client: httpx.AsyncClient) -> int:
    uid: int = (await client.get("/api/v1/users/whoami")).json()["id"]
    return uid


async def test_a_group_role_reaches_its_enabled_members(
    client: httpx.AsyncClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    hank = await make_user("hank")
    acme = await _tenant(client, "acme")
    in_acme = {"Tenant-Id": acme}
    group = await client.post(
        "/api/v1/user-groups/", json={"tenant_id": acme, "group_name": "readers"}, headers=in_acme
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["group_id"]
    wrong = await client.post(
        "/api/v1/user-groups/",
        json={"tenant_id": acme, "group_name": "x"},  # acting elsewhere
    )
    assert wrong.status_code == 400
    assert wrong.json()["field"] == "tenant_id"

    assert (await hank.get("/api/v1/flows/", headers=in_acme)).status_code == 403
    added = await client.post(
        "/api/v1/user-groups/members",
        json={"tenant_id": acme, "group_id": group_id, "uids": [await _uid(hank)]},
        headers=in_acme,
    )
    assert added.status_code == 201, added.text
    assert [m["username"] for m in added.json()] == ["hank"]
    bound = await client.post(
        "/api/v1/tenants/group-roles",
        json={"tenant_id": acme, "role_id": "viewer", "group_name": "readers"},
        headers=in_acme,
    )
    assert bound.status_code == 201, bound.text
    assert bound.json()["group_name"] == "readers"

    assert (await hank.get("/api/v1/flows/", headers=in_acme)).status_code == 200
    assert (
        await hank.post("/api/v1/flows/", json={"name": "x"}, headers=in_acme)
    ).status_code == 403

    members = await client.get(
        "/api/v1/user-groups/members", params={"group-id": group_id}, headers=in_acme
    )
    assert [m["username"] for m in members.json()] == ["hank"]
    listed = await client.get("/api/v1/tenants/group-roles", headers=in_acme)
    assert [r["group_name"] for r in listed.json()] == ["readers"]

    disabled = await client.patch(
        f"/api/v1/user-groups/{group_id}", json={"is_enable": False}, headers=in_acme
    )
    assert disabled.json()["is_enable"] is False
    assert (await hank.get("/api/v1/flows/", headers=in_acme)).status_code == 403
    enabled = await client.get(
        "/api/v1/user-groups/", params={"Is-Enable": "true"}, headers=in_acme
    )
    assert enabled.json() == []


async def test_an_org_role_reaches_members_of_orgs_below(
    client: httpx.AsyncClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    ivan = await make_user("ivan")
    acme = await _tenant(client, "acme")
    in_acme = {"Tenant-Id": acme}

    async def org(name: str, parent: int | None = None) -> dict[str, object]:
        body = {"tenant_id": acme, "org_name": name, "parent_org_id": parent}
        made = await client.post("/api/v1/orgs/", json=body, headers=in_acme)
        assert made.status_code == 201, made.text
        result: dict[str, object] = made.json()
        return result

    hq = await org("HQ")
    eng = await org("Eng", int(str(hq["org_id"])))
    team = await org("Team", int(str(eng["org_id"])))
    assert (hq["org_level"], eng["org_level"], team["org_level"]) == (1, 2, 3)
    assert team["one_org_id"] == hq["org_id"]
    assert team["two_org_id"] == eng["org_id"]
    assert team["three_org_id"] == team["org_id"]

    tree = (await client.get("/api/v1/orgs/tree", headers=in_acme)).json()
    assert [n["org_name"] for n in tree] == ["HQ"]
    assert tree[0]["children"][0]["children"][0]["org_name"] == "Team"

    added = await client.post(
        "/api/v1/orgs/members",
        json={
            "tenant_id": acme,
            "org_id": team["org_id"],
            "uids": [await _uid(ivan)],
            "position": "engineer",
            "job": "backend",
        },
        headers=in_acme,
    )
    assert added.status_code == 201, added.text
    member_id = added.json()[0]["id"]
    bound = await client.post(
        "/api/v1/tenants/org-roles",
        json={"tenant_id": acme, "role_id": "developer", "org_id": hq["org_id"]},
        headers=in_acme,
    )
    assert bound.status_code == 201, bound.text
    made = await ivan.post("/api/v1/flows/", json={"name": "via-org"}, headers=in_acme)
    assert made.status_code == 201, made.text

    patched = await client.patch(
        f"/api/v1/orgs/members/{member_id}", json={"is_leader": True}, headers=in_acme
    )
    assert patched.json()["is_leader"] is True
    candidates = await client.get(
        "/api/v1/orgs/members/user-candidates", params={"org-id": team["org_id"]}, headers=in_acme
    )
    assert "ivan" not in {u["username"] for u in candidates.json()["users"]}

    assert (await client.delete(f"/api/v1/orgs/{hq['org_id']}", headers=in_acme)).status_code == 409
    gone = await client.delete(f"/api/v1/orgs/members/{member_id}", headers=in_acme)
    assert gone.status_code == 204
    assert (await ivan.get("/api/v1/flows/", headers=in_acme)).status_code == 403


async def test_orgs_nest_six_levels_deep(client: httpx.AsyncClient) -> None:
    tenant = (await client.get("/api/v1/users/whoami")).json()["tenant_id"]
    parent = None
    for level in range(1, 7):
        body = {"tenant_id": tenant, "org_name": f"L{level}", "parent_org_id": parent}
        made = await client.post("/api/v1/orgs/", json=body)
        assert made.json()["org_level"] == level
        parent = made.json()["org_id"]
    deeper = await client.post(
        "/api/v1/orgs/", json={"tenant_id": tenant, "org_name": "L7", "parent_org_id": parent}
    )
    assert deeper.status_code == 400
    assert deeper.json()["field"] == "parent_org_id"
