"""Tenant group and org candidates, and the org and user group user searches."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.tenancy import TenantWorld, new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _made(resp: httpx.Response) -> Any:
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _uid(client: httpx.AsyncClient) -> int:
    uid: int = (await client.get("/api/v1/users/whoami")).json()["id"]
    return uid


async def test_group_and_org_candidates_are_those_holding_no_role(tenant: TenantWorld) -> None:
    admin, tid = tenant.admin, tenant.id
    bound, free = [
        (
            await _made(
                await admin.post("/api/v1/user-groups", json={"tenant_id": tid, "group_name": n})
            )
        )
        for n in ("bound-group", "free-group")
    ]
    await _made(
        await admin.post(
            "/api/v1/tenants/group-roles",
            json={"tenant_id": tid, "role_id": "viewer", "group_id": bound["group_id"]},
        )
    )
    groups = await admin.get("/api/v1/tenants/group-candidates")
    assert groups.status_code == 200, groups.text
    assert groups.json() == {
        "total_count": 1,
        "users": [{"group_id": free["group_id"], "group_name": "free-group"}],
    }
    hq = await _made(await admin.post("/api/v1/orgs", json={"tenant_id": tid, "org_name": "HQ"}))
    ops = await _made(
        await admin.post(
            "/api/v1/orgs",
            json={"tenant_id": tid, "org_name": "Ops", "parent_org_id": hq["org_id"]},
        )
    )
    await _made(
        await admin.post(
            "/api/v1/tenants/org-roles",
            json={"tenant_id": tid, "role_id": "viewer", "org_id": hq["org_id"]},
        )
    )
    orgs = (await admin.get("/api/v1/tenants/org-candidates", params={"search": "o"})).json()
    assert orgs == {
        "total_count": 1,
        "users": [{"org_id": ops["org_id"], "org_name": "Ops", "org_level": 2}],
    }
    paged = await admin.get("/api/v1/tenants/org-candidates", params={"skip": 1})
    assert paged.json() == {"total_count": 1, "users": []}
    named = await admin.get("/api/v1/tenants/group-candidates", params={"tenant_id": tid})
    assert named.json()["total_count"] == 1
    # The tenant_id, when given, is the tenant the request acts in.
    elsewhere = await admin.get(
        "/api/v1/tenants/group-candidates",
        params={"tenant_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert elsewhere.status_code == 400
    assert "tenant_id" in elsewhere.text


async def test_org_and_group_user_searches(
    tenant: TenantWorld, shared_app: Any, platform: httpx.AsyncClient
) -> None:
    admin, tid = tenant.admin, tenant.id
    carol = await tenant.member("viewer", name="carol")
    carol_name, carol_id = tenant.last_name, await _uid(carol)
    dave = await tenant.member("viewer", name="dave")
    dave_name, dave_id = tenant.last_name, await _uid(dave)
    hq = await _made(await admin.post("/api/v1/orgs", json={"tenant_id": tid, "org_name": "HQ"}))
    lab = await _made(
        await admin.post(
            "/api/v1/orgs",
            json={"tenant_id": tid, "org_name": "Lab", "parent_org_id": hq["org_id"]},
        )
    )
    for org, uid, job in ((hq, carol_id, "boss"), (lab, dave_id, "chemist")):
        await _made(
            await admin.post(
                "/api/v1/orgs/members",
                json={
                    "tenant_id": tid,
                    "org_id": org["org_id"],
                    "uids": [uid],
                    "position": "p",
                    "job": job,
                },
            )
        )
    found = await admin.get("/api/v1/orgs/user-search", params={"search": "chem"})
    assert found.status_code == 200, found.text
    (row,) = found.json()
    assert (row["username"], row["org_name"], row["org_level"], row["job"]) == (
        dave_name,
        "Lab",
        2,
        "chemist",
    )
    by_level = await admin.get(
        "/api/v1/orgs/user-search", params={"sort_by": "org_level", "sort_order": "desc"}
    )
    assert [r["username"] for r in by_level.json()] == [dave_name, carol_name]
    assert (await admin.get("/api/v1/orgs/user-search", params={"sort_by": "x"})).status_code == 422

    group = await _made(
        await admin.post("/api/v1/user-groups", json={"tenant_id": tid, "group_name": "Readers"})
    )
    await _made(
        await admin.post(
            "/api/v1/user-groups/members",
            json={"tenant_id": tid, "group_id": group["group_id"], "uids": [carol_id, dave_id]},
        )
    )
    users = await admin.get(
        "/api/v1/user-groups/user-search", params={"search": "Readers", "sort_by": "username"}
    )
    assert users.status_code == 200, users.text
    assert [(u["username"], u["group_name"], u["is_leader"]) for u in users.json()] == [
        (carol_name, "Readers", False),
        (dave_name, "Readers", False),
    ]
    # Another tenant's administrator finds none of them.
    b = await new_tenant(shared_app, platform, "b")
    for path in ("/api/v1/orgs/user-search", "/api/v1/user-groups/user-search"):
        theirs = await b.admin.get(path)
        assert theirs.status_code == 200
        assert carol_name not in theirs.text
        assert dave_name not in theirs.text
    for client in b.clients:
        await client.aclose()
