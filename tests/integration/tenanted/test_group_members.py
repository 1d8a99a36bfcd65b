"""A user group's members: who leads it (Patch User Group Member) and the leaders' filter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.tenancy import TenantWorld

pytestmark = pytest.mark.asyncio(loop_scope="module")

MEMBERS = "/api/v1/user-groups/members"


async def _uid(client: httpx.AsyncClient) -> int:
    uid: int = (await client.get("/api/v1/users/whoami")).json()["id"]
    return uid


async def _group_of_two(tenant: TenantWorld) -> tuple[int, list[dict[str, Any]]]:
    group = await tenant.admin.post(
        "/api/v1/user-groups", json={"tenant_id": tenant.id, "group_name": "crew"}
    )
    assert group.status_code == 201, group.text
    gid = group.json()["group_id"]
    uids = [await _uid(await tenant.member("viewer", name=n)) for n in ("ann", "bob")]
    added = await tenant.admin.post(
        MEMBERS, json={"tenant_id": tenant.id, "group_id": gid, "uids": uids}
    )
    assert added.status_code == 201, added.text
    members: list[dict[str, Any]] = added.json()
    return gid, members


async def test_a_member_is_made_leader_and_back(tenant: TenantWorld) -> None:
    gid, (ann, bob) = await _group_of_two(tenant)
    assert ann["is_leader"] is False
    led = await tenant.admin.patch(f"{MEMBERS}/{ann['id']}", json={"is_leader": True})
    assert led.status_code == 200, led.text
    row = led.json()
    assert (row["id"], row["group_id"], row["uid"], row["is_leader"]) == (
        ann["id"],
        gid,
        ann["uid"],
        True,
    )
    assert row["username"] == ann["username"]
    assert row["c_uid"] == ann["c_uid"]
    leaders = await tenant.admin.get(MEMBERS, params={"group-id": gid, "Is-Leader": "true"})
    assert [m["id"] for m in leaders.json()] == [ann["id"]]
    others = await tenant.admin.get(MEMBERS, params={"group-id": gid, "Is-Leader": "false"})
    assert [m["id"] for m in others.json()] == [bob["id"]]
    by_lead = await tenant.admin.get(
        MEMBERS, params={"group-id": gid, "sort_by": "is_leader", "sort_order": "desc"}
    )
    assert [m["id"] for m in by_lead.json()] == [ann["id"], bob["id"]]
    back = await tenant.admin.patch(f"{MEMBERS}/{ann['id']}/", json={"is_leader": False})
    assert back.status_code == 200
    assert back.json()["is_leader"] is False


async def test_is_leader_is_required_and_boolean(tenant: TenantWorld) -> None:
    _, (ann, _bob) = await _group_of_two(tenant)
    for body in ({}, {"is_leader": "yes"}, {"is_leader": None}):
        refused = await tenant.admin.patch(f"{MEMBERS}/{ann['id']}", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert "is_leader" in refused.text
    missing = await tenant.admin.patch(f"{MEMBERS}/999999", json={"is_leader": True})
    assert missing.status_code == 404
    assert "member_id" in missing.text


async def test_only_holders_of_orgs_modify_lead(tenant: TenantWorld) -> None:
    _, (ann, _bob) = await _group_of_two(tenant)
    viewer = await tenant.member("viewer", name="peer")
    refused = await viewer.patch(f"{MEMBERS}/{ann['id']}", json={"is_leader": True})
    assert refused.status_code == 403
    assert "orgs" in refused.json()["message"]
    assert "MODIFY" in refused.json()["message"]
