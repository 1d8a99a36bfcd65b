"""Businesses: three levels and the tree, user roles on a business, candidates, what belongs
to a business, and business roles granting privileges on that business's rows alone."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.integration.api.test_runs import ECHO
from tests.tenancy import TenantWorld, new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")

URL = "/api/v1/businesses"


async def _business(
    world: TenantWorld, level: int = 1, *path: int, name: str = "", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenant_id": world.id,
        "business_name": name or f"b-{uuid.uuid4().hex[:6]}",
        "business_level": level,
        **dict(zip(("first_business_id", "second_business_id"), path, strict=False)),
        **extra,
    }
    made = await world.admin.post(URL, json=body)
    assert made.status_code == 201, made.text
    row: dict[str, Any] = made.json()
    return row


async def _flow(client: httpx.AsyncClient, business_id: int | None, name: str) -> str:
    made = await client.post(
        "/api/v1/flows/", json={"name": name, "data": ECHO, "business_id": business_id}
    )
    assert made.status_code == 201, made.text
    flow_id: str = made.json()["id"]
    return flow_id


async def _uid(client: httpx.AsyncClient) -> int:
    uid: int = (await client.get("/api/v1/users/whoami")).json()["id"]
    return uid


async def test_levels_name_their_ancestors_and_hold_their_own_id(tenant: TenantWorld) -> None:
    top = await _business(tenant)
    tid = top["business_id"]
    assert (top["business_level"], top["first_business_id"], top["second_business_id"]) == (
        1,
        tid,
        0,
    )
    assert top["is_enable"] is True
    assert top["c_uid"] == top["m_uid"] is not None
    mid = await _business(tenant, 2, tid)
    low = await _business(tenant, 3, tid, mid["business_id"])
    assert (low["first_business_id"], low["second_business_id"], low["third_business_id"]) == (
        tid,
        mid["business_id"],
        low["business_id"],
    )
    bad = {
        "first_business_id": {"business_level": 2},  # names no parent
        "second_business_id": {"business_level": 1, "second_business_id": 5},  # below its level
        "business_level": {"business_level": 4},
    }
    for field, extra in bad.items():
        refused = await tenant.admin.post(
            URL, json={"tenant_id": tenant.id, "business_name": "x", **extra}
        )
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.text, (field, refused.text)
    # The parent must be a business of the level above, on the path given.
    wrong = await tenant.admin.post(
        URL,
        json={
            "tenant_id": tenant.id,
            "business_name": "x",
            "business_level": 3,
            "first_business_id": mid["business_id"],
            "second_business_id": mid["business_id"],
        },
    )
    assert wrong.status_code == 422, wrong.text
    assert "second_business_id" in wrong.text
    missing = await tenant.admin.post(
        URL,
        json={
            "tenant_id": tenant.id,
            "business_name": "x",
            "business_level": 2,
            "first_business_id": 2_000_000_000,
        },
    )
    assert missing.status_code == 404
    assert "first_business_id" in missing.text
    # A business with businesses below it is neither moved nor removed.
    moved = await tenant.admin.patch(
        f"{URL}/{mid['business_id']}", json={"business_level": 1, "first_business_id": 0}
    )
    assert moved.status_code == 409, moved.text
    assert (await tenant.admin.delete(f"{URL}/{tid}")).status_code == 409
    # A leaf moves: to the first level, its own id in first_business_id.
    leaf = await tenant.admin.patch(
        f"{URL}/{low['business_id']}",
        json={"business_level": 1, "first_business_id": 0, "second_business_id": 0},
    )
    assert leaf.status_code == 200, leaf.text
    assert (leaf.json()["first_business_id"], leaf.json()["third_business_id"]) == (
        low["business_id"],
        0,
    )
    renamed = await tenant.admin.patch(f"{URL}/{tid}", json={"business_name": "Top"})
    assert renamed.json()["business_name"] == "Top"
    assert renamed.json()["first_business_id"] == tid


async def test_the_tree_and_the_filters(tenant: TenantWorld) -> None:
    a = (await _business(tenant, name="a"))["business_id"]
    b = (await _business(tenant, name="b", is_enable=False))["business_id"]
    a1 = (await _business(tenant, 2, a, name="a1"))["business_id"]
    a11 = (await _business(tenant, 3, a, a1, name="a11"))["business_id"]
    tree = await tenant.admin.get(f"{URL}/tree")
    assert tree.status_code == 200, tree.text
    roots = {node["business_id"]: node for node in tree.json()}
    assert set(roots) == {a, b}
    (child,) = roots[a]["children"]
    assert child["business_id"] == a1
    assert [n["business_id"] for n in child["children"]] == [a11]

    async def ids(path: str, **params: Any) -> list[int]:
        listed = await tenant.admin.get(path, params=params)
        assert listed.status_code == 200, listed.text
        return [n["business_id"] for n in listed.json()]

    assert await ids(URL, level=2) == [a1]
    assert await ids(URL, **{"Is-Enable": "false"}) == [b]
    assert sorted(await ids(URL, **{"First-Business-Id": a})) == [a, a1, a11]
    assert await ids(URL, **{"Second-Business-Id": a1}) == [a1, a11]
    assert await ids(f"{URL}/tree", level=3) == [a11]
    assert (await tenant.admin.get(URL, params={"level": 4})).status_code == 422


async def test_user_roles_candidates_and_removal(tenant: TenantWorld) -> None:
    biz = (await _business(tenant))["business_id"]
    await tenant.member(None, name="ann")
    ann = tenant.last_name
    await tenant.member(None, name="bob")
    bob = tenant.last_name
    roles = f"{URL}/{biz}/user-roles"
    before = (await tenant.admin.get(f"{URL}/{biz}/user-candidates", params={"limit": 1000})).json()
    assert {ann, bob} <= {u["username"] for u in before["users"]}
    assert before["total_count"] == len(before["users"])

    both = await tenant.admin.post(
        roles, json={"username": ann, "role_ids": ["viewer", "developer"]}
    )
    assert both.status_code == 200, both.text
    assert sorted(r["role_id"] for r in both.json()) == ["developer", "viewer"]
    assert {r["username"] for r in both.json()} == {ann}
    # Upserting replaces the user's roles on the business with the ones named.
    one = await tenant.admin.post(roles, json={"username": ann, "role_ids": ["viewer"]})
    assert [r["role_id"] for r in one.json()] == ["viewer"]
    await tenant.admin.post(roles, json={"username": bob, "role_ids": ["viewer", "developer"]})

    after = (await tenant.admin.get(f"{URL}/{biz}/user-candidates", params={"search": ann})).json()
    assert after == {"total_count": 0, "users": []}
    listed = await tenant.admin.get(roles, params={"sort_by": "username", "sort_order": "desc"})
    assert [r["username"] for r in listed.json()] == [bob, bob, ann]
    found = await tenant.admin.get(roles, params={"search": ann})
    assert [r["username"] for r in found.json()] == [ann]
    assert (await tenant.admin.get(roles, params={"sort_by": "ctime"})).status_code == 422

    refused = {
        "role_ids": {"username": ann, "role_ids": []},
        "role_id": {"username": ann, "role_ids": ["no-such-role"]},
        "uid": {"role_ids": ["viewer"]},
        "username": {"username": "nobody-here", "role_ids": ["viewer"]},
    }
    for field, body in refused.items():
        resp = await tenant.admin.post(roles, json=body)
        assert resp.status_code in (400, 404, 422), (field, resp.text)
        assert field in resp.text, (field, resp.text)

    relation = found.json()[0]["id"]
    assert (await tenant.admin.delete(f"{roles}/{relation}")).status_code == 204
    bobs = [r["id"] for r in (await tenant.admin.get(roles, params={"search": bob})).json()]
    removed = await tenant.admin.post(f"{roles}/batch-remove", json={"ids": bobs[:1]})
    assert removed.json() == {"deleted_count": 1}
    bob_uid = (await tenant.admin.get(roles)).json()[0]["uid"]
    gone = await tenant.admin.delete(f"{URL}/{biz}/users/{bob_uid}")
    assert gone.json() == {"deleted_count": 1}
    assert (await tenant.admin.get(roles)).json() == []
    again = await tenant.admin.delete(f"{URL}/{biz}/users/{bob_uid}")
    assert again.json() == {"deleted_count": 0}


async def test_resources_of_a_business(tenant: TenantWorld) -> None:
    biz = (await _business(tenant))["business_id"]
    other = (await _business(tenant))["business_id"]
    first = await _flow(tenant.admin, biz, "alpha")
    second = await _flow(tenant.admin, biz, "beta")
    await _flow(tenant.admin, other, "gamma")
    await _flow(tenant.admin, None, "delta")
    project = await tenant.admin.post("/api/v1/projects/", json={"name": "p", "business_id": biz})
    assert project.status_code == 201, project.text
    assert project.json()["business_id"] == biz
    res = f"{URL}/{biz}/resources"
    flows = (await tenant.admin.get(res)).json()
    assert {f["id"] for f in flows} == {first, second}
    assert {f["resource_type"] for f in flows} == {"flow"}
    by_name = await tenant.admin.get(res, params={"sort-by": "name", "sort-order": "desc"})
    assert [f["name"] for f in by_name.json()] == ["beta", "alpha"]
    assert [f["name"] for f in (await tenant.admin.get(res, params={"search": "alp"})).json()] == [
        "alpha"
    ]
    projects = await tenant.admin.get(res, params={"resource-type": "project"})
    assert [p["id"] for p in projects.json()] == [project.json()["id"]]
    assert (await tenant.admin.get(res, params={"resource-type": "skill"})).json() == []
    assert (await tenant.admin.get(res, params={"resource-type": "spell"})).status_code == 422
    assert (await tenant.admin.get(res, params={"sort-by": "size"})).status_code == 422
    # A flow taken out of the business no longer belongs to it.
    out = await tenant.admin.patch(f"/api/v1/flows/{first}", json={"business_id": None})
    assert out.status_code == 200, out.text
    assert {f["id"] for f in (await tenant.admin.get(res)).json()} == {second}
    nowhere = await tenant.admin.post(
        "/api/v1/flows/", json={"name": "x", "data": ECHO, "business_id": 2_000_000_000}
    )
    assert nowhere.status_code == 404
    assert "business_id" in nowhere.text


async def test_business_roles_grant_on_that_business_flows_only(tenant: TenantWorld) -> None:
    parent = (await _business(tenant))["business_id"]
    child = (await _business(tenant, 2, parent))["business_id"]
    other = (await _business(tenant))["business_id"]
    in_parent = await _flow(tenant.admin, parent, "in-parent")
    in_child = await _flow(tenant.admin, child, "in-child")
    in_other = await _flow(tenant.admin, other, "in-other")
    loose = await _flow(tenant.admin, None, "loose")
    worker = await tenant.member(None, name="worker")
    name = tenant.last_name
    # No role in the tenant at all: refused there.
    assert (await worker.get(f"/api/v1/flows/{in_parent}")).status_code == 403

    roles = f"{URL}/{parent}/user-roles"
    bound = await tenant.admin.post(roles, json={"username": name, "role_ids": ["viewer"]})
    assert bound.status_code == 200, bound.text
    for flow_id in (in_parent, in_child):  # the business's flows and its sub-businesses'
        assert (await worker.get(f"/api/v1/flows/{flow_id}")).status_code == 200
    for flow_id in (in_other, loose):
        assert (await worker.get(f"/api/v1/flows/{flow_id}")).status_code == 404
    # Viewer grants READ: changing the business's flow is refused, naming what is missing.
    change = await worker.patch(f"/api/v1/flows/{in_parent}", json={"description": "d"})
    assert change.status_code == 403
    assert "flows" in change.text
    # Nothing on the tenant's administration comes with a role bound on a business.
    assert (await worker.get(URL)).status_code == 403

    await tenant.admin.post(roles, json={"username": name, "role_ids": ["developer"]})
    change = await worker.patch(f"/api/v1/flows/{in_child}", json={"description": "d"})
    assert change.status_code == 200, change.text
    other_change = await worker.patch(f"/api/v1/flows/{in_other}", json={"description": "d"})
    assert other_change.status_code == 404
    # WRITE held through the business only: what they make stays inside that business.
    graph = {"nodes": [{"id": "in", "type": "ChatInput"}], "edges": []}
    for outside in (None, other):
        made = await worker.post(
            "/api/v1/flows/", json={"name": "mine", "data": graph, "business_id": outside}
        )
        assert made.status_code == 403, made.text
        assert made.json()["field"] == "business_id"
    made = await worker.post(
        "/api/v1/flows/", json={"name": "mine", "data": graph, "business_id": child}
    )
    assert made.status_code == 201, made.text
    moved = await worker.patch(f"/api/v1/flows/{in_child}", json={"business_id": None})
    assert moved.status_code == 403
    project = await worker.post("/api/v1/projects/", json={"name": "p", "business_id": parent})
    assert project.status_code == 201, project.text
    assert (await worker.post("/api/v1/projects/", json={"name": "q"})).status_code == 403
    # A disabled business grants nothing, from the next request on.
    await tenant.admin.patch(f"{URL}/{parent}", json={"is_enable": False})
    assert (await worker.get(f"/api/v1/flows/{in_parent}")).status_code == 403
    await tenant.admin.patch(f"{URL}/{parent}", json={"is_enable": True})
    assert (await worker.get(f"/api/v1/flows/{in_parent}")).status_code == 200
    # Removing the user from the business revokes at once.
    uid = await _uid(worker)
    assert (await tenant.admin.delete(f"{URL}/{parent}/users/{uid}")).json() == {"deleted_count": 1}
    assert (await worker.get(f"/api/v1/flows/{in_parent}")).status_code == 403


async def test_a_business_role_holder_with_business_read_sees_its_subtree(
    tenant: TenantWorld,
) -> None:
    parent = (await _business(tenant))["business_id"]
    child = (await _business(tenant, 2, parent))["business_id"]
    other = (await _business(tenant))["business_id"]
    lead = await tenant.member(None, name="lead")
    await tenant.admin.post(
        f"{URL}/{parent}/user-roles",
        json={"username": tenant.last_name, "role_ids": ["tenant_admin"]},
    )
    listed = await lead.get(URL)
    assert listed.status_code == 200, listed.text
    assert sorted(b["business_id"] for b in listed.json()) == [parent, child]
    assert (await lead.get(f"{URL}/{other}")).status_code == 404
    assert [n["business_id"] for n in (await lead.get(f"{URL}/tree")).json()] == [parent]
    # The user roles of a business are listed only below a business the caller sees.
    await tenant.admin.post(
        f"{URL}/{other}/user-roles", json={"username": tenant.admin_name, "role_ids": ["viewer"]}
    )
    for hidden in (
        await lead.get(f"{URL}/{other}/user-roles"),
        await lead.post(f"{URL}/{other}/user-roles/batch-remove", json={"ids": [1]}),
    ):
        assert hidden.status_code == 404, hidden.text
        assert "business_id" in hidden.text
    assert tenant.admin_name in (await tenant.admin.get(f"{URL}/{other}/user-roles")).text
    for seen in (parent, child):
        assert (await lead.get(f"{URL}/{seen}/user-roles")).status_code == 200


async def test_another_tenants_business_is_not_found(
    tenant: TenantWorld, shared_app: Any, platform: httpx.AsyncClient
) -> None:
    biz = (await _business(tenant))["business_id"]
    flow = await _flow(tenant.admin, biz, "mine")
    b = await new_tenant(shared_app, platform, "b")
    for method, path, body in (
        ("GET", f"{URL}/{biz}", None),
        ("PATCH", f"{URL}/{biz}", {"note": "n"}),
        ("DELETE", f"{URL}/{biz}", None),
        ("GET", f"{URL}/{biz}/user-candidates", None),
        ("GET", f"{URL}/{biz}/user-roles", None),
        ("POST", f"{URL}/{biz}/user-roles", {"username": b.admin_name, "role_ids": ["viewer"]}),
        ("DELETE", f"{URL}/{biz}/users/1", None),
        ("GET", f"{URL}/{biz}/resources", None),
    ):
        resp = await b.admin.request(method, path, json=body)
        assert resp.status_code == 404, (method, path, resp.text)
    assert biz not in [n["business_id"] for n in (await b.admin.get(f"{URL}/tree")).json()]
    # Nor may another tenant's flow be put into this tenant's business, or the reverse.
    theirs = await b.admin.post(
        "/api/v1/flows/", json={"name": "x", "data": ECHO, "business_id": biz}
    )
    assert theirs.status_code == 404, theirs.text
    parent = await b.admin.post(
        URL,
        json={
            "tenant_id": b.id,
            "business_name": "x",
            "business_level": 2,
            "first_business_id": biz,
        },
    )
    assert parent.status_code == 404, parent.text
    assert (await tenant.admin.get(f"/api/v1/flows/{flow}")).status_code == 200
    for client in b.clients:
        await client.aclose()
