"""Projects (Langflow's folders): CRUD, their flows, zip download and upload, isolation."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

from tests.integration.api.flow_docs import flow

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROJECTS = "/api/v1/projects/"
FLOWS = "/api/v1/flows/"


async def test_project_crud_and_unique_names(client: httpx.AsyncClient) -> None:
    made = await client.post(PROJECTS, json={"name": "Work", "description": "d"})
    assert made.status_code == 201
    project = made.json()
    assert (project["name"], project["description"], project["parent_id"]) == ("Work", "d", None)
    again = (await client.post("/api/v1/projects", json={"name": "Work"})).json()
    assert again["name"] == "Work (1)"
    unnamed = (await client.post(PROJECTS, json={})).json()
    assert unnamed["name"] == "New Project"
    listed = (await client.get(PROJECTS, params={"sort_by": "name"})).json()
    assert [p["name"] for p in listed] == ["New Project", "Work", "Work (1)"]
    renamed = await client.patch(f"{PROJECTS}{project['id']}", json={"name": "Home"})
    assert renamed.json()["name"] == "Home"
    clash = await client.patch(f"{PROJECTS}{again['id']}", json={"name": "Home"})
    assert clash.status_code == 409
    child = (await client.post(PROJECTS, json={"name": "Child", "parent_id": project["id"]})).json()
    assert child["parent_id"] == project["id"]
    cycle = await client.patch(f"{PROJECTS}{project['id']}", json={"parent_id": child["id"]})
    assert cycle.status_code == 400
    assert (await client.get(f"{PROJECTS}{project['id']}/")).json()["name"] == "Home"


async def test_project_holds_flows(client: httpx.AsyncClient) -> None:
    project = (await client.post(PROJECTS, json={"name": "P"})).json()
    pid = project["id"]
    inside = [
        (await client.post(FLOWS, json=flow(f"In {i}", folder_id=pid))).json() for i in range(3)
    ]
    assert {f["folder_id"] for f in inside} == {pid}
    outside = (await client.post(FLOWS, json=flow("Outside"))).json()
    by_folder = (await client.get(FLOWS, params={"folder_id": pid})).json()
    assert sorted(f["name"] for f in by_folder) == ["In 0", "In 1", "In 2"]
    by_project = (await client.get(FLOWS, params={"project_id": pid})).json()
    assert len(by_project) == 3
    whole = (await client.get(f"{PROJECTS}{pid}")).json()
    assert whole["name"] == "P"
    assert [f["name"] for f in whole["flows"]] == ["In 0", "In 1", "In 2"]
    page = (await client.get(f"{PROJECTS}{pid}", params={"page": 2, "size": 2})).json()
    assert page["project"]["id"] == pid
    assert page["folder"]["id"] == pid
    assert (page["flows"]["total"], page["flows"]["pages"]) == (3, 2)
    assert [f["name"] for f in page["flows"]["items"]] == ["In 2"]
    searched = (await client.get(f"{PROJECTS}{pid}", params={"search": "in 1"})).json()
    assert [f["name"] for f in searched["flows"]] == ["In 1"]
    # Setting the flows list moves flows in and out of the project.
    moved = await client.patch(f"{PROJECTS}{pid}", json={"flows": [inside[0]["id"], outside["id"]]})
    assert moved.status_code == 200
    now = (await client.get(f"{PROJECTS}{pid}")).json()["flows"]
    assert sorted(f["name"] for f in now) == ["In 0", "Outside"]
    assert (await client.get(f"{FLOWS}{inside[1]['id']}")).json()["folder_id"] is None
    # A flow moves with PATCH folder_id too.
    back = await client.patch(f"{FLOWS}{inside[1]['id']}", json={"folder_id": pid})
    assert back.json()["project_id"] == pid
    created_with = (
        await client.post(PROJECTS, json={"name": "Q", "flows_list": [inside[2]["id"]]})
    ).json()
    assert (await client.get(f"{FLOWS}{inside[2]['id']}")).json()["folder_id"] == created_with["id"]


async def test_deleting_a_project_deletes_its_flows(client: httpx.AsyncClient) -> None:
    parent = (await client.post(PROJECTS, json={"name": "Parent"})).json()
    child = (await client.post(PROJECTS, json={"name": "Child", "parent_id": parent["id"]})).json()
    a = (await client.post(FLOWS, json=flow("A", folder_id=parent["id"]))).json()
    b = (await client.post(FLOWS, json=flow("B", folder_id=child["id"]))).json()
    kept = (await client.post(FLOWS, json=flow("Kept"))).json()
    gone = await client.delete(f"{PROJECTS}{parent['id']}")
    assert gone.status_code == 204
    for pid in (parent["id"], child["id"]):
        assert (await client.get(f"{PROJECTS}{pid}")).status_code == 404
    for fid in (a["id"], b["id"]):
        assert (await client.get(f"{FLOWS}{fid}")).status_code == 404
    assert [f["id"] for f in (await client.get(FLOWS)).json()] == [kept["id"]]


async def test_download_and_upload_round_trip(client: httpx.AsyncClient) -> None:
    project = (await client.post(PROJECTS, json={"name": "Export Me"})).json()
    for name in ("One", "Two"):
        await client.post(
            FLOWS, json=flow(name, folder_id=project["id"], endpoint_name=name.lower())
        )
    zipped = await client.get(f"{PROJECTS}download/{project['id']}")
    assert zipped.status_code == 200
    assert zipped.headers["content-type"] == "application/zip"
    assert "Export_Me" in zipped.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    assert sorted(archive.namelist()) == ["One.json", "Two.json"]
    assert json.loads(archive.read("One.json"))["endpoint_name"] == "one"
    uploaded = await client.post(
        f"{PROJECTS}upload/", files={"file": ("Export Me.zip", zipped.content)}
    )
    assert uploaded.status_code == 201, uploaded.text
    flows = uploaded.json()
    # Names are unique per owner and endpoint names per tenant: the copies get numbers.
    assert sorted(f["name"] for f in flows) == ["One (1)", "Two (1)"]
    assert sorted(f["endpoint_name"] for f in flows) == ["one-1", "two-1"]
    assert sorted(f["slug"] for f in flows) == ["one-1", "two-1"]
    new_pid = flows[0]["folder_id"]
    assert new_pid not in (None, project["id"])
    assert (await client.get(f"{PROJECTS}{new_pid}")).json()["name"] == "Export Me (1)"
    doc = {
        "folder_name": "From JSON",
        "folder_description": "imported",
        "flows": [flow("J1"), flow("J2")],
    }
    from_json = await client.post(
        "/api/v1/projects/upload", files={"file": ("p.json", json.dumps(doc).encode())}
    )
    assert from_json.status_code == 201
    pid = from_json.json()[0]["folder_id"]
    read = (await client.get(f"{PROJECTS}{pid}")).json()
    assert (read["name"], read["description"]) == ("From JSON", "imported")
    assert sorted(f["name"] for f in read["flows"]) == ["J1", "J2"]
    bad = await client.post(f"{PROJECTS}upload/", files={"file": ("p.zip", b"PK\x03\x04junk")})
    assert bad.status_code == 400
    assert len((await client.get(PROJECTS)).json()) == 3


async def test_projects_are_private_to_their_owner(make_user) -> None:  # type: ignore[no-untyped-def]
    alice, bob = await make_user("alice"), await make_user("bob")
    project = (await alice.post(PROJECTS, json={"name": "Alice's"})).json()
    path = f"{PROJECTS}{project['id']}"
    assert (await bob.get(path)).status_code == 404
    assert (await bob.patch(path, json={"name": "Bob's"})).status_code == 404
    assert (await bob.delete(path)).status_code == 404
    assert (await bob.get(f"{PROJECTS}download/{project['id']}")).status_code == 404
    assert (await bob.get(PROJECTS)).json() == []
    intrude = await bob.post(FLOWS, json=flow("Sneaky", folder_id=project["id"]))
    assert intrude.status_code == 404
    # Same project name for another owner is fine.
    assert (await bob.post(PROJECTS, json={"name": "Alice's"})).json()["name"] == "Alice's"
    assert (await alice.get(path)).status_code == 200


async def test_legacy_folders_alias(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/v1/folders/", json={"name": "Old Style"})
    assert made.status_code == 201
    fid = made.json()["id"]
    assert (await client.get(f"/api/v1/projects/{fid}")).json()["name"] == "Old Style"
    assert [p["name"] for p in (await client.get("/api/v1/folders")).json()] == ["Old Style"]
    assert (await client.delete(f"/api/v1/folders/{fid}")).status_code == 204
