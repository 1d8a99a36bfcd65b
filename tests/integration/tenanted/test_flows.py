"""The flows resource at Langflow's paths: CRUD, listing, validation, concurrency, isolation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.api.flow_docs import chat_graph, create, edge, flow, node
from tests.tenancy import TenantWorld, new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")

FLOWS = "/api/v1/flows/"


async def test_create_and_read(client: httpx.AsyncClient) -> None:
    made = await create(client, "Greeter", description="says hello", tags=["demo"])
    assert made["name"] == "Greeter"
    assert made["slug"] == "greeter"
    assert made["access_type"] == "PRIVATE"
    assert made["folder_id"] is None
    assert made["project_id"] is None
    assert made["is_online"] is False
    assert made["deployment_status"] == "running"
    assert made["tags"] == ["demo"]
    assert made["user_id"] is not None
    assert made["data"]["nodes"][1]["data"]["type"] == "CombineText"
    for path in (f"{FLOWS}{made['id']}", f"{FLOWS}{made['id']}/"):
        read = await client.get(path)
        assert read.status_code == 200
        assert read.json() == made
    # Langflow clients use both forms of every path.
    no_slash = await client.post("/api/v1/flows", json=flow("Second"))
    assert no_slash.status_code == 201
    assert {f["name"] for f in (await client.get("/api/v1/flows")).json()} == {"Greeter", "Second"}


async def test_taken_names_get_a_number_and_slugs_stay_unique(client: httpx.AsyncClient) -> None:
    names = [(await create(client, "Same"))["name"] for _ in range(3)]
    assert names == ["Same", "Same (1)", "Same (2)"]
    slugs = {f["slug"] for f in (await client.get(FLOWS)).json()}
    assert slugs == {"same", "same-1", "same-2"}
    renamed = await client.patch(
        f"{FLOWS}{(await create(client, 'Other'))['id']}", json={"name": "Same"}
    )
    assert renamed.status_code == 409
    assert renamed.json()["field"] == "name"


async def test_invalid_graph_is_422_naming_node_and_field(client: httpx.AsyncClient) -> None:
    graph = chat_graph()
    graph["edges"].append(edge("in", "message", "out", "no_such_field"))
    resp = await client.post(FLOWS, json={"name": "Broken", "data": graph})
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert {"node_id": "out", "field": "no_such_field"} in [
        {"node_id": e["node_id"], "field": e["field"]} for e in errors
    ]
    unknown = {"nodes": [node("x1", "NoSuchComponent")], "edges": []}
    resp = await client.post(FLOWS, json={"name": "Unknown", "data": unknown})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["node_id"] == "x1"
    assert "NoSuchComponent" in resp.json()["errors"][0]["message"]
    assert (await client.get(FLOWS)).json() == []
    # An update is checked the same way, and the stored graph stays as it was.
    made = await create(client, "Fine")
    bad = await client.patch(f"{FLOWS}{made['id']}", json={"data": unknown})
    assert bad.status_code == 422
    assert (await client.get(f"{FLOWS}{made['id']}")).json()["data"] == made["data"]


async def test_endpoint_name_rules(client: httpx.AsyncClient, make_user) -> None:  # type: ignore[no-untyped-def]
    bad = await client.post(FLOWS, json=flow("Bad", endpoint_name="has space"))
    assert bad.status_code == 400
    assert bad.json()["field"] == "endpoint_name"
    first = await create(client, "First", endpoint_name="my-endpoint_1")
    assert first["endpoint_name"] == "my-endpoint_1"
    # Unique in the tenant, whoever owns the other flow.
    alice = await make_user("alice")
    clash = await alice.post(FLOWS, json=flow("Mine", endpoint_name="my-endpoint_1"))
    assert clash.status_code == 409
    assert clash.json()["field"] == "endpoint_name"
    second = await create(client, "Second")
    moved = await client.patch(f"{FLOWS}{second['id']}", json={"endpoint_name": "my-endpoint_1"})
    assert moved.status_code == 409
    cleared = await client.patch(f"{FLOWS}{first['id']}", json={"endpoint_name": None})
    assert cleared.json()["endpoint_name"] is None
    taken_now = await client.patch(
        f"{FLOWS}{second['id']}", json={"endpoint_name": "my-endpoint_1"}
    )
    assert taken_now.status_code == 200
    assert taken_now.json()["endpoint_name"] == "my-endpoint_1"


async def test_stale_update_is_409_and_writes_nothing(client: httpx.AsyncClient) -> None:
    made = await create(client, "Edited")
    seen = made["updated_at"]
    first = await client.patch(
        f"{FLOWS}{made['id']}", json={"data": chat_graph("Hi"), "last_known_updated_at": seen}
    )
    assert first.status_code == 200, first.text
    assert first.json()["updated_at"] != seen
    stale = await client.patch(
        f"{FLOWS}{made['id']}",
        json={"name": "Lost", "data": chat_graph("Bye"), "last_known_updated_at": seen},
    )
    assert stale.status_code == 409
    assert stale.json()["field"] == "last_known_updated_at"
    stored = (await client.get(f"{FLOWS}{made['id']}")).json()
    assert stored["name"] == "Edited"
    assert stored["data"] == chat_graph("Hi")
    assert stored["updated_at"] == first.json()["updated_at"]
    # A browser keeps milliseconds only: the same stamp at that precision is fresh.
    millis = datetime.fromisoformat(stored["updated_at"]).isoformat(timespec="milliseconds")
    fresh = await client.patch(
        f"{FLOWS}{made['id']}", json={"description": "ok", "last_known_updated_at": millis}
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["description"] == "ok"


async def test_concurrent_saves_from_one_copy_lose_nothing(client: httpx.AsyncClient) -> None:
    made = await create(client, "Raced")
    path = f"{FLOWS}{made['id']}"

    async def save(greeting: str) -> httpx.Response:
        body = {"data": chat_graph(greeting), "last_known_updated_at": made["updated_at"]}
        return await client.patch(path, json=body)

    results = await asyncio.gather(*(save(f"Hi {i}") for i in range(4)))
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    winner = next(r for r in results if r.status_code == 200).json()
    stored = (await client.get(path)).json()
    assert stored["data"] == winner["data"]
    assert stored["updated_at"] == winner["updated_at"]


async def test_locked_flow_refuses_changes_until_unlocked(client: httpx.AsyncClient) -> None:
    made = await create(client, "Frozen", locked=True)
    refused = await client.patch(f"{FLOWS}{made['id']}", json={"name": "Thawed"})
    assert refused.status_code == 409
    assert "locked" in refused.json()["detail"]
    # Sending the stored flow back unchanged is no change at all.
    same = await client.patch(f"{FLOWS}{made['id']}", json=made)
    assert same.status_code == 200
    assert same.json()["updated_at"] == made["updated_at"]
    unlocked = await client.patch(f"{FLOWS}{made['id']}", json={"locked": False, "name": "Thawed"})
    assert unlocked.status_code == 200
    assert unlocked.json()["name"] == "Thawed"
    assert unlocked.json()["locked"] is False


async def test_list_filters_keyword_and_pages(client: httpx.AsyncClient) -> None:
    for i in range(5):
        await create(client, f"Flow {i}", description="weather" if i == 3 else None)
    component = await client.post(
        FLOWS,
        json={
            "name": "My Component",
            "is_component": True,
            "data": {"nodes": [node("c", "Custom")]},
        },
    )
    assert component.status_code == 201  # components are not checked as runnable flows
    everything = (await client.get(FLOWS)).json()
    assert len(everything) == 6
    only = (await client.get(FLOWS, params={"components_only": True})).json()
    assert [f["name"] for f in only] == ["My Component"]
    by_name = (await client.get(FLOWS, params={"keyword": "flow 2"})).json()
    assert [f["name"] for f in by_name] == ["Flow 2"]
    by_description = (await client.get(FLOWS, params={"keyword": "WEATHER"})).json()
    assert [f["name"] for f in by_description] == ["Flow 3"]
    page = (
        await client.get(
            FLOWS, params={"page": 1, "size": 4, "sort_by": "name", "sort_order": "asc"}
        )
    ).json()
    assert (page["total"], page["page"], page["size"], page["pages"]) == (6, 1, 4, 2)
    assert [f["name"] for f in page["items"]] == [f"Flow {i}" for i in range(4)]
    last = (
        await client.get(
            FLOWS, params={"page": 2, "size": 4, "sort_by": "name", "sort_order": "asc"}
        )
    ).json()
    assert [f["name"] for f in last["items"]] == ["Flow 4", "My Component"]
    paged = (await client.get(FLOWS, params={"get_all": False})).json()
    assert (paged["total"], paged["size"]) == (6, 50)
    headers = (await client.get(FLOWS, params={"header_flows": True})).json()
    assert len(headers) == 6
    flat = next(h for h in headers if h["name"] == "Flow 0")
    assert flat["data"] is None
    assert "folder_id" in flat
    assert "webhook" not in flat
    assert next(h for h in headers if h["is_component"])["data"]["nodes"][0]["id"] == "c"
    bad_sort = await client.get(FLOWS, params={"sort_by": "secret"})
    assert bad_sort.status_code == 400
    assert (await client.get(FLOWS, params={"size": 500, "page": 1})).status_code == 422


async def test_delete_one_and_many(client: httpx.AsyncClient) -> None:
    ids = [(await create(client, f"D{i}", endpoint_name=f"d{i}"))["id"] for i in range(4)]
    gone = await client.delete(f"{FLOWS}{ids[0]}")
    assert gone.status_code == 200
    assert (await client.get(f"{FLOWS}{ids[0]}")).status_code == 404
    assert (await client.delete(f"{FLOWS}{ids[0]}")).status_code == 404
    many = await client.request("DELETE", FLOWS, json=[ids[1], ids[2], ids[0]])
    assert many.json() == {"deleted": 2}
    assert [f["id"] for f in (await client.get(FLOWS)).json()] == [ids[3]]
    # A deleted flow frees its name, slug and endpoint name.
    again = await create(client, "D1", endpoint_name="d1")
    assert (again["name"], again["slug"], again["endpoint_name"]) == ("D1", "d1", "d1")


async def test_users_never_see_each_others_flows(client: httpx.AsyncClient, make_user) -> None:  # type: ignore[no-untyped-def]
    alice, bob = await make_user("alice"), await make_user("bob")
    mine = (await alice.post(FLOWS, json=flow("Alice's"))).json()
    path = f"{FLOWS}{mine['id']}"
    assert (await bob.get(path)).status_code == 404
    assert (await bob.patch(path, json={"name": "Bob's now"})).status_code == 404
    assert (await bob.delete(path)).status_code == 404
    assert (await bob.request("DELETE", FLOWS, json=[mine["id"]])).json() == {"deleted": 0}
    assert (await bob.post("/api/v1/flows/download/", json=[mine["id"]])).status_code == 404
    assert (await bob.get(FLOWS)).json() == []
    # Names are unique per owner: bob may use alice's name as it is.
    assert (await bob.post(FLOWS, json=flow("Alice's"))).json()["name"] == "Alice's"
    assert [f["name"] for f in (await alice.get(FLOWS)).json()] == ["Alice's"]
    # The superuser's own list holds only its own flows.
    assert (await client.get(FLOWS)).json() == []
    assert (await alice.get(path)).json()["name"] == "Alice's"


async def test_public_flow_needs_no_credentials(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    made = await create(client, "Shared")
    public_path = f"/api/v1/flows/public_flow/{made['id']}"
    assert (await anon.get(public_path)).status_code == 403
    assert (await anon.get(f"{FLOWS}{made['id']}")).status_code == 401
    opened = await client.patch(f"{FLOWS}{made['id']}", json={"access_type": "PUBLIC"})
    assert opened.json()["access_type"] == "PUBLIC"
    read = await anon.get(public_path)
    assert read.status_code == 200
    assert (read.json()["name"], read.json()["data"]) == ("Shared", made["data"])
    assert (await anon.get(f"{public_path}/")).status_code == 200
    unknown = "/api/v1/flows/public_flow/00000000-0000-4000-8000-000000000000"
    assert (await anon.get(unknown)).status_code == 404
    await client.delete(f"{FLOWS}{made['id']}")
    assert (await anon.get(public_path)).status_code == 404


async def test_public_flow_hides_api_keys(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    graph = {
        "nodes": [node("in", "ChatInput"), node("out", "ChatOutput")],
        "edges": [edge("in", "message", "out", "input_value")],
    }
    graph["nodes"][0]["data"]["node"]["template"]["api_key"] = {
        "name": "api_key",
        "value": "sk-secret",
        "password": True,
    }
    made = (
        await client.post(FLOWS, json={"name": "Keyed", "data": graph, "access_type": "PUBLIC"})
    ).json()
    public = (await anon.get(f"/api/v1/flows/public_flow/{made['id']}")).json()
    assert public["data"]["nodes"][0]["data"]["node"]["template"]["api_key"]["value"] is None
    own = (await client.get(f"{FLOWS}{made['id']}")).json()
    assert own["data"]["nodes"][0]["data"]["node"]["template"]["api_key"]["value"] == "sk-secret"


async def test_blank_strings_mean_no_value(client: httpx.AsyncClient) -> None:
    made = await client.post(FLOWS, json=flow("Blank", endpoint_name="", folder_id=""))
    assert made.status_code == 201
    assert (made.json()["endpoint_name"], made.json()["folder_id"]) == (None, None)
    project = (await client.post("/api/v1/projects/", json={"name": "P"})).json()
    path = f"{FLOWS}{made.json()['id']}"
    assert (await client.patch(path, json={"folder_id": project["id"]})).status_code == 200
    out = await client.patch(path, json={"folder_id": ""})
    assert out.status_code == 200
    assert out.json()["folder_id"] is None


async def test_bad_ids_and_no_credentials(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    assert (await anon.get(FLOWS)).status_code == 401
    assert (await anon.post(FLOWS, json=flow("X"))).status_code == 401
    assert (await client.get(f"{FLOWS}not-a-uuid")).status_code == 422
    unknown = f"{FLOWS}00000000-0000-4000-8000-000000000000"
    assert (await client.get(unknown)).status_code == 404
    missing_project = await client.post(FLOWS, json=flow("X", folder_id="nope"))
    assert missing_project.status_code == 404


async def test_put_upserts_within_the_callers_privileges_and_tenant(
    app: FastAPI, platform: httpx.AsyncClient, tenant: TenantWorld
) -> None:
    flow_id = str(uuid.uuid4())
    body = {"name": "upserted", "data": chat_graph()}
    made = await tenant.admin.put(f"/api/v1/flows/{flow_id}", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["id"] == flow_id
    again = await tenant.admin.put(f"/api/v1/flows/{flow_id}", json={**body, "name": "renamed"})
    assert again.status_code == 200, again.text
    assert (await tenant.admin.get(f"/api/v1/flows/{flow_id}")).json()["name"] == "renamed"

    # Creating needs WRITE: an operator (MODIFY, no WRITE) creates nothing.
    operator = await tenant.member("operator", name="op")
    fresh = str(uuid.uuid4())
    refused = await operator.put(f"/api/v1/flows/{fresh}", json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["operation"] == "WRITE"
    assert (await tenant.admin.get(f"/api/v1/flows/{fresh}")).status_code == 404
    viewer = await tenant.member("viewer", name="viewer")
    assert (await viewer.put(f"/api/v1/flows/{flow_id}", json=body)).status_code == 403

    # Another tenant's administrator neither overwrites nor takes the id.
    other = await new_tenant(app, platform, "other")
    stolen = await other.admin.put(f"/api/v1/flows/{flow_id}", json={**body, "name": "theirs"})
    assert stolen.status_code == 404, stolen.text
    assert (await tenant.admin.get(f"/api/v1/flows/{flow_id}")).json()["name"] == "renamed"
