"""Flow files and shipped flows: batch create, upload, download, examples, starter projects."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

from tests.integration.api.flow_docs import chat_graph, create, edge, flow, node

pytestmark = pytest.mark.asyncio(loop_scope="module")

FLOWS = "/api/v1/flows/"


async def test_batch_is_all_or_nothing(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/flows/batch/", json={"flows": [flow("B1"), flow("B2")]})
    assert resp.status_code == 201
    assert [f["name"] for f in resp.json()] == ["B1", "B2"]
    broken = {"name": "B4", "data": {"nodes": [node("n", "Nope")], "edges": []}}
    failed = await client.post("/api/v1/flows/batch", json={"flows": [flow("B3"), broken]})
    assert failed.status_code == 422
    assert {f["name"] for f in (await client.get(FLOWS)).json()} == {"B1", "B2"}


def _zip(files: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, doc in files.items():
            archive.writestr(name, json.dumps(doc))
    return buffer.getvalue()


async def test_upload_json_list_object_and_zip(client: httpx.AsyncClient) -> None:
    url = "/api/v1/flows/upload/"

    async def upload(name: str, content: bytes, **params: str) -> httpx.Response:
        return await client.post(url, files={"file": (name, content)}, params=params)

    exported = {
        **flow("One", endpoint_name="one"),
        "id": "not-ours",
        "user_id": 99,
        "folder_id": "someone-elses",
    }
    single = await upload("one.json", json.dumps(exported).encode())
    assert single.status_code == 201, single.text
    assert single.json()[0]["name"] == "One"
    assert single.json()[0]["id"] != "not-ours"
    as_list = await upload("list.json", json.dumps([flow("L1"), flow("L2")]).encode())
    assert [f["name"] for f in as_list.json()] == ["L1", "L2"]
    wrapped = await upload("w.json", json.dumps({"flows": [flow("W1"), exported]}).encode())
    # Uploading a flow again gives it a free name and endpoint, as Langflow does.
    assert [(f["name"], f["endpoint_name"]) for f in wrapped.json()] == [
        ("W1", None),
        ("One (1)", "one-1"),
    ]
    project = (await client.post("/api/v1/projects/", json={"name": "Target"})).json()
    zipped = await upload(
        "flows.zip",
        _zip({"z1.json": flow("Z1"), "bare.json": chat_graph(), "notes.txt": "skip"}),
        folder_id=project["id"],
    )
    assert zipped.status_code == 201, zipped.text
    assert sorted(f["name"] for f in zipped.json()) == ["Z1", "bare"]
    assert {f["folder_id"] for f in zipped.json()} == {project["id"]}
    assert len((await client.get(FLOWS)).json()) == 7
    assert (await upload("x.json", b"{nope")).status_code == 400
    broken = {"name": "Broken", "data": {"nodes": [node("n", "Nope")], "edges": []}}
    failed = await upload("b.json", json.dumps([flow("Fine"), broken]).encode())
    assert failed.status_code == 422
    assert "Broken" in failed.json()["detail"]
    assert len((await client.get(FLOWS)).json()) == 7


async def test_download_zip_and_single(client: httpx.AsyncClient) -> None:
    a = await create(client, "A")
    b = await create(client, "B")
    zipped = await client.post("/api/v1/flows/download/", json=[a["id"], b["id"]])
    assert zipped.status_code == 200
    assert zipped.headers["content-type"] == "application/zip"
    assert "attachment" in zipped.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    assert sorted(archive.namelist()) == ["A.json", "B.json"]
    doc = json.loads(archive.read("A.json"))
    assert (doc["id"], doc["data"]) == (a["id"], a["data"])
    single = await client.post("/api/v1/flows/download", json=[b["id"]])
    assert single.json()["name"] == "B"
    missing = await client.post(
        "/api/v1/flows/download/", json=["00000000-0000-4000-8000-000000000000"]
    )
    assert missing.status_code == 404


async def test_download_blanks_api_keys(client: httpx.AsyncClient) -> None:
    graph = {
        "nodes": [node("in", "ChatInput"), node("out", "ChatOutput")],
        "edges": [edge("in", "message", "out", "input_value")],
    }
    graph["nodes"][0]["data"]["node"]["template"]["openai_api_key"] = {
        "name": "openai_api_key",
        "value": "sk-secret",
        "password": True,
    }
    made = await client.post(FLOWS, json={"name": "Keyed", "data": graph})
    assert made.status_code == 201, made.text
    doc = (await client.post("/api/v1/flows/download/", json=[made.json()["id"]])).json()
    assert doc["data"]["nodes"][0]["data"]["node"]["template"]["openai_api_key"]["value"] is None
    # The stored flow keeps its key; only the export is blanked.
    stored = (await client.get(f"{FLOWS}{made.json()['id']}")).json()
    assert (
        stored["data"]["nodes"][0]["data"]["node"]["template"]["openai_api_key"]["value"]
        == "sk-secret"
    )


async def test_examples_and_starter_projects(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    examples = (await client.get("/api/v1/flows/basic_examples/")).json()
    assert {e["name"] for e in examples} == {"Basic Prompting", "Text Join", "Conditional Routing"}
    starters = await client.get("/api/v1/starter-projects")
    assert starters.status_code == 200
    assert len(starters.json()) == 3
    assert (await anon.get("/api/v1/starter-projects/")).status_code == 401
    # Each shipped flow is a valid flow: saving it passes the graph check.
    for doc in starters.json():
        saved = await client.post(FLOWS, json=doc)
        assert saved.status_code == 201, saved.text
