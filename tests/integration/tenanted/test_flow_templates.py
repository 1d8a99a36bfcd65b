"""Flow templates: made from a flow, read, changed, deleted, listed, a flow made of one; and
who sees and writes a template of each scope (system, tenant, business, personal)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.integration.api.test_runs import ECHO
from tests.tenancy import TenantWorld, new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")

URL = "/api/v1/flow_templates"


async def _flow(client: httpx.AsyncClient, **extra: Any) -> str:
    body = {"name": f"f-{uuid.uuid4().hex[:6]}", "data": ECHO, **extra}
    made = await client.post("/api/v1/flows/", json=body)
    assert made.status_code == 201, made.text
    flow_id: str = made.json()["id"]
    return flow_id


async def _template(client: httpx.AsyncClient, flow_id: str, **body: Any) -> dict[str, Any]:
    made = await client.post(f"/api/v1/flows/{flow_id}/templates/", json={"name": "T", **body})
    assert made.status_code == 201, made.text
    row: dict[str, Any] = made.json()
    return row


async def _business(world: TenantWorld, level: int = 1, parent: int = 0) -> int:
    body: dict[str, Any] = {
        "tenant_id": world.id,
        "business_name": f"b-{uuid.uuid4().hex[:6]}",
        "business_level": level,
    }
    if parent:
        body["first_business_id"] = parent
    made = await world.admin.post("/api/v1/businesses", json=body)
    assert made.status_code == 201, made.text
    business_id: int = made.json()["business_id"]
    return business_id


def _ids(resp: httpx.Response) -> set[str]:
    assert resp.status_code == 200, resp.text
    return {row["id"] for row in resp.json()}


async def test_a_template_of_a_flow_and_a_flow_of_the_template(tenant: TenantWorld) -> None:
    admin = tenant.admin
    flow_id = await _flow(admin, icon="Bot", gradient="g", tags=["x"], description="d")
    made = await _template(admin, flow_id, note="for starters")
    assert made["scope"] == "tenant"
    assert made["is_self"] is False
    assert made["business_id"] is None
    assert made["tenant_id"] == tenant.id
    assert made["creator_name"] == tenant.admin_name
    assert (made["description"], made["icon"], made["gradient"], made["tags"]) == (
        "for starters",
        "Bot",
        "g",
        ["x"],
    )
    assert made["source_flow_id"] == flow_id
    assert [n["id"] for n in made["data"]["nodes"]] == ["in", "out"]
    assert made["create_at"] is not None
    item = f"{URL}/{made['id']}"
    assert (await admin.get(item)).json()["name"] == "T"
    assert made["id"] in _ids(await admin.get(f"{URL}/", params={"flow_id": flow_id}))
    assert _ids(await admin.get(URL, params={"flow_id": str(uuid.uuid4())})) == set()
    changed = await admin.patch(item, json={"name": "T2", "flow_skill": "greets", "icon": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["flow_skill"], changed.json()["icon"]) == (
        "T2",
        "greets",
        None,
    )
    kept = await admin.patch(item, json={"name": None, "tags": None})
    assert (kept.json()["name"], kept.json()["tags"]) == ("T2", ["x"])

    flow = await admin.post(f"{item}/flows", json={"name": "from-template"})
    assert flow.status_code == 201, flow.text
    assert flow.json()["name"] == "from-template"
    assert flow.json()["description"] == "for starters"
    assert [n["id"] for n in flow.json()["data"]["nodes"]] == ["in", "out"]
    named = await admin.post(f"{item}/flows")
    assert named.status_code == 201, named.text
    assert named.json()["name"] == "T2"

    gone = await admin.delete(item)
    assert gone.status_code == 204
    assert (await admin.get(item)).status_code == 404
    assert (await admin.post(f"{item}/flows", json={})).status_code == 404


async def test_bad_input_names_the_field(tenant: TenantWorld) -> None:
    admin = tenant.admin
    flow_id = await _flow(admin)
    for body, field in (
        ({}, "name"),
        ({"name": "x", "scope": "world"}, "scope"),
        ({"name": "x", "scope": "business"}, "business_id"),
        ({"name": "x", "business_id": 5}, "business_id"),
        ({"name": "x", "scope": "business", "business_id": 2_000_000_000}, "business_id"),
    ):
        refused = await admin.post(f"/api/v1/flows/{flow_id}/templates", json=body)
        assert refused.status_code in (404, 422), (body, refused.text)
        assert field in refused.text, (body, refused.text)
    missing = await admin.post(f"/api/v1/flows/{uuid.uuid4()}/templates", json={"name": "x"})
    assert missing.status_code == 404
    assert "flow" in missing.text
    bad_sort = await admin.get(URL, params={"sort_by": "owner"})
    assert bad_sort.status_code == 422
    assert "sort_by" in bad_sort.text


async def test_secrets_stay_out_of_a_template(tenant: TenantWorld) -> None:
    graph = {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {
                "id": "llm",
                "type": "OpenAIChat",
                "params": {"base_url": "http://127.0.0.1:9/v1", "api_key": "sk-hidden"},
            },
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "llm.input_value"},
            {"from": "llm.message", "to": "out.input_value"},
        ],
    }
    made = await _template(tenant.admin, await _flow(tenant.admin, data=graph))
    assert "sk-hidden" not in str(made["data"])
    assert "sk-hidden" not in (await tenant.admin.get(f"{URL}/{made['id']}")).text


async def test_tenant_and_personal_templates(tenant: TenantWorld) -> None:
    dev = await tenant.member("developer", name="dev")
    peer = await tenant.member("developer", name="peer")
    viewer = await tenant.member("viewer", name="viewer")
    shared = await _template(tenant.admin, await _flow(tenant.admin))
    mine = await _template(dev, await _flow(dev), scope="personal")
    assert mine["is_self"] is True
    # The tenant's template: everyone acting in the tenant sees it; a viewer writes nothing.
    for client in (dev, peer, viewer):
        assert shared["id"] in _ids(await client.get(URL))
    refused = await viewer.patch(f"{URL}/{shared['id']}", json={"name": "v"})
    assert refused.status_code == 403
    assert "flows" in refused.text
    # A personal template: its owner alone, not even the tenant's administrator.
    assert mine["id"] in _ids(await dev.get(URL, params={"scope": "personal"}))
    for client in (peer, tenant.admin):
        assert mine["id"] not in _ids(await client.get(URL))
        assert (await client.get(f"{URL}/{mine['id']}")).status_code == 404
        assert (await client.delete(f"{URL}/{mine['id']}")).status_code == 404
    # Shared with the tenant, then the owner's again.
    opened = await dev.patch(f"{URL}/{mine['id']}", json={"is_self": False})
    assert (opened.json()["scope"], opened.json()["is_self"]) == ("tenant", False)
    assert (await peer.get(f"{URL}/{mine['id']}")).status_code == 200
    closed = await dev.patch(f"{URL}/{mine['id']}", json={"is_self": True})
    assert closed.json()["scope"] == "personal"
    assert (await peer.get(f"{URL}/{mine['id']}")).status_code == 404


async def test_system_templates_are_everyones_and_the_platforms_to_write(
    tenant: TenantWorld, shared_app: Any, platform: httpx.AsyncClient
) -> None:
    refused = await tenant.admin.post(
        f"/api/v1/flows/{await _flow(tenant.admin)}/templates",
        json={"name": "mine", "scope": "system"},
    )
    assert refused.status_code == 403
    assert "scope" in refused.text
    system = await _template(platform, await _flow(platform), scope="system", name="Starter")
    other = await new_tenant(shared_app, platform, "other")
    viewer = await tenant.member("viewer", name="v")
    for client, answer in ((tenant.admin, 201), (other.admin, 201), (viewer, 403)):
        assert system["id"] in _ids(await client.get(URL, params={"scope": "system"}))
        made = await client.post(f"{URL}/{system['id']}/flows", json={})
        assert made.status_code == answer, made.text
    item = f"{URL}/{system['id']}"
    for method, body in (("PATCH", {"name": "x"}), ("DELETE", None)):
        denied = await other.admin.request(method, item, json=body)
        assert denied.status_code == 403, denied.text
    nowhere = await platform.patch(item, json={"is_self": True})
    assert nowhere.status_code == 422
    assert "is_self" in nowhere.text
    assert (await platform.delete(item)).status_code == 204
    for client in other.clients:
        await client.aclose()


async def test_business_templates_follow_the_business_tree(tenant: TenantWorld) -> None:
    parent = await _business(tenant)
    child = await _business(tenant, 2, parent)
    other = await _business(tenant)
    flow_id = await _flow(tenant.admin, business_id=parent)
    in_child = await _template(tenant.admin, flow_id, scope="business", business_id=child)
    in_other = await _template(tenant.admin, flow_id, scope="business", business_id=other)
    assert (in_child["business_id"], in_child["scope"]) == (child, "business")
    worker = await tenant.member(None, name="worker")
    bound = await tenant.admin.post(
        f"/api/v1/businesses/{parent}/user-roles",
        json={"username": tenant.last_name, "role_ids": ["developer"]},
    )
    assert bound.status_code == 200, bound.text
    developer = await tenant.member("developer", name="outsider")
    # A role on the parent business: its templates and those of the businesses below it.
    seen = _ids(await worker.get(URL))
    assert in_child["id"] in seen
    assert in_other["id"] not in seen
    assert (await worker.get(f"{URL}/{in_other['id']}")).status_code == 404
    # A developer of the tenant holding no role on those businesses sees none of them.
    assert {in_child["id"], in_other["id"]} & _ids(await developer.get(URL)) == set()
    # A privilege held on businesses alone writes templates there, nowhere else.
    made = await worker.post(
        f"/api/v1/flows/{flow_id}/templates",
        json={"name": "w", "scope": "business", "business_id": child},
    )
    assert made.status_code == 201, made.text
    for body in (
        {"name": "w", "scope": "tenant"},
        {"name": "w", "scope": "business", "business_id": other},
    ):
        refused = await worker.post(f"/api/v1/flows/{flow_id}/templates", json=body)
        assert refused.status_code == 403, (body, refused.text)
    to_tenant = await worker.patch(f"{URL}/{in_child['id']}", json={"business_id": 0})
    assert to_tenant.status_code == 403
    moved = await worker.patch(f"{URL}/{in_child['id']}", json={"business_id": parent})
    assert moved.status_code == 200, moved.text
    assert moved.json()["business_id"] == parent
    # The tenant's administrator makes it the tenant's again.
    back = await tenant.admin.patch(f"{URL}/{in_child['id']}", json={"business_id": None})
    assert (back.json()["scope"], back.json()["business_id"]) == ("tenant", None)
    assert (await worker.delete(f"{URL}/{made.json()['id']}")).status_code == 204
