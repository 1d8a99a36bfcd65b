"""Langflow's catalogue routes: every component type (`/all`), starter projects, examples."""

from __future__ import annotations

import gzip

import httpx
import orjson
import pytest
from fastapi import FastAPI

from flowdeck.engine.components.registry import default_registry

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIELD_KEYS = {
    "type", "required", "value", "display_name", "info", "advanced", "show", "options",
    "input_types",
}  # fmt: skip
NODE_KEYS = {"template", "outputs", "base_classes", "description", "display_name", "icon"}


async def test_all_lists_every_type_by_category_gzipped(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    resp = await client.get("/api/v1/all", headers={"accept-encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["content-encoding"] == "gzip"
    assert resp.headers["content-type"] == "application/json"
    catalogue = resp.json()  # httpx decoded the gzip body
    types = {
        name: (category, node)
        for category, nodes in catalogue.items()
        for name, node in nodes.items()
    }
    registry = default_registry()
    assert set(types) == {type(c).type_name for c in registry}
    for component in registry:
        cls = type(component)
        category, node = types[cls.type_name]
        assert category == cls.category
        assert set(node) >= NODE_KEYS, cls.type_name
        assert node["display_name"] == cls.display_name
        assert node["icon"]
        for inp in cls.inputs:
            assert set(node["template"][inp.name]) >= FIELD_KEYS, (cls.type_name, inp.name)
        assert [o["name"] for o in node["outputs"]] == [o.name for o in cls.outputs]
        for out in node["outputs"]:
            assert {"types", "name", "display_name"} <= set(out)
        assert set(node["base_classes"]) == {o.type.value for o in cls.outputs}
    # Field types as Langflow names them: a chat input takes Messages, a switch is a bool.
    chat = types["ChatInput"][1]["template"]
    assert chat["input_value"]["type"] == "str"
    assert chat["should_store_message"]["type"] == "bool"
    assert chat["should_store_message"]["advanced"] is True
    assert types["ChatOutput"][1]["template"]["input_value"]["input_types"] == ["Message", "Data"]
    # Without gzip in Accept-Encoding the same document comes plain.
    plain = await client.get("/api/v1/all/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert orjson.loads(plain.content) == catalogue
    assert len(gzip.compress(plain.content)) < len(plain.content)
    assert (await anon.get("/api/v1/all")).status_code == 401


async def test_starter_projects_are_langflow_graph_dumps(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/starter-projects/")
    assert resp.status_code == 200
    dumps = resp.json()
    assert {d["name"] for d in dumps} == {"Basic Prompting", "Text Join", "Conditional Routing"}
    for dump in dumps:
        assert set(dump) == {"data", "name", "description", "endpoint_name", "is_component"}
        assert {"nodes", "edges"} <= set(dump["data"])
        for node in dump["data"]["nodes"]:
            full = node["data"]["node"]
            assert set(full) >= NODE_KEYS, node["id"]
            declared = default_registry().get(node["data"]["type"])
            assert declared is not None
            for inp in declared.inputs:
                assert set(full["template"][inp.name]) >= FIELD_KEYS, (node["id"], inp.name)
    # The stored values survive the expansion.
    join = next(d for d in dumps if d["name"] == "Text Join")
    combine = next(n for n in join["data"]["nodes"] if n["data"]["type"] == "CombineText")
    assert combine["data"]["node"]["template"]["text1"]["value"] == "Hello"
    assert combine["data"]["node"]["template"]["text1"]["type"] == "str"


async def test_examples_run_as_shipped(app: FastAPI, client: httpx.AsyncClient) -> None:
    examples = (await client.get("/api/v1/flows/basic_examples/")).json()
    join = next(e for e in examples if e["name"] == "Text Join")
    assert join["data"]["nodes"][0]["data"]["node"]["template"]["_type"] == "Component"
    saved = await client.post("/api/v1/flows/", json={"name": "join", "data": join["data"]})
    assert saved.status_code == 201, saved.text
    ran = await client.post(
        f"/api/v1/run/{saved.json()['id']}",
        json={"input_value": "world", "input_type": "text", "output_type": "text"},
    )
    assert ran.status_code == 200, ran.text
    assert "Hello, world" in ran.text
