"""Stored components: groups, components checked on save, versions, use in flows, `/all`."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from flowdeck.errors import FlowValidationError
from tests.tenancy import TenantWorld, new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")

GROUPS = "/api/v1/components/groups"
COMPONENTS = "/api/v1/components"
IN_TENANT = {"scope": 1}

SHOUT = """
INPUTS = ["text", {"name": "times", "type": "Number", "default": 2}]
OUTPUTS = [{"name": "result", "type": "Message", "display_name": "Shouted"}]

def build(text, times):
    return {"result": (text.upper() + "!") * int(times)}
"""
WHISPER = """
INPUTS = ["text", {"name": "times", "type": "Number"}]
OUTPUTS = ["result"]

async def build(text, **_ignored):
    return text.lower() + "..."
"""


@pytest.fixture
def custom_code(app: FastAPI) -> Iterator[None]:
    """This app's engine runs custom code for the test (the setting's default is off)."""
    engine = app.state.services.engine
    engine.allow_custom_code = True
    yield
    engine.allow_custom_code = False


async def add_group(client: httpx.AsyncClient, **fields: Any) -> int:
    body = {"group_name": "Text", "group_en_name": "text_tools", "component_type": "component"}
    made = await client.post(GROUPS, json={**body, **fields})
    assert made.status_code == 201, made.text
    group_id: int = made.json()["group_id"]
    return group_id


async def add_component(client: httpx.AsyncClient, group_id: int, **fields: Any) -> dict[str, Any]:
    body = {"component_group_id": group_id, "component_name": "Shout", "code": SHOUT}
    made = await client.post(COMPONENTS, json={**body, **fields})
    assert made.status_code == 201, made.text
    row: dict[str, Any] = made.json()
    return row


def shout_flow(node_type: str = "Shout") -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {"id": "shout", "type": node_type, "params": {"times": 3}},
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "shout.text"},
            {"from": "shout.result", "to": "out.input_value"},
        ],
    }


async def add_flow(client: httpx.AsyncClient, data: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/flows/", json={"name": "shouting", "data": data})


async def run_text(client: httpx.AsyncClient, flow_id: str, value: str) -> httpx.Response:
    return await client.post(f"/api/v1/run/{flow_id}", json={"input_value": value})


def reply(resp: httpx.Response) -> str:
    assert resp.status_code == 200, resp.text
    text: str = resp.json()["outputs"][0]["outputs"][0]["outputs"]["message"]["message"]
    return text


async def test_group_fields_defaults_filters_and_removal(client: httpx.AsyncClient) -> None:
    made = await client.post(
        GROUPS, json={"group_name": "Tools", "group_en_name": "tools", "component_type": "bundle"}
    )
    assert made.status_code == 201, made.text
    group = made.json()
    assert group["order_num"] == 0
    assert group["is_active"] is True
    assert group["scope"] == 1
    assert group["tags"] is None
    bad = await client.post(
        GROUPS, json={"group_name": "X", "group_en_name": "x", "component_type": "widget"}
    )
    assert bad.status_code == 422
    assert "component_type" in bad.text
    other = await add_group(client, group_name="Other", tags=["a"], order_num=5, is_active=False)
    listed = await client.get(GROUPS)
    assert [g["group_id"] for g in listed.json()] == [group["group_id"], other]
    assert [
        g["group_id"] for g in (await client.get(GROUPS, params={"is_active": "false"})).json()
    ] == [other]
    found = await client.get(GROUPS, params={"keyword": "other"})
    assert [g["group_id"] for g in found.json()] == [other]
    typed = await client.get(GROUPS, params={"component_type": "bundle"})
    assert [g["group_id"] for g in typed.json()] == [group["group_id"]]
    # One group is addressed with its scope, as the seed does: the wrong one finds nothing.
    item = f"{GROUPS}/{other}"
    assert (await client.patch(item, json={"note": "n"})).status_code == 422  # no scope
    patched = await client.patch(item, params=IN_TENANT, json={"note": "n", "group_name": None})
    assert patched.status_code == 200, patched.text
    assert patched.json()["note"] == "n"
    assert patched.json()["group_name"] == "Other"  # a null leaves a required field alone
    assert (await client.patch(item, params={"scope": 2}, json={"note": "m"})).status_code == 404
    # A group holding components is kept; an empty one goes.
    await add_component(client, other)
    held = await client.delete(item, params=IN_TENANT)
    assert held.status_code == 409
    assert "still holds" in held.json()["message"]
    gone = await client.delete(f"{GROUPS}/{group['group_id']}", params=IN_TENANT)
    assert gone.status_code == 204


async def test_component_checked_on_save_with_versions(client: httpx.AsyncClient) -> None:
    group = await add_group(client)
    row = await add_component(client, group, display_name="Shout it", version_note="first")
    assert row["version"] == 1
    assert row["tag"] == ""
    assert (row["is_active"], row["is_legacy"], row["is_deprecated"]) == (True, False, False)
    assert [i["name"] for i in row["inputs"]] == ["text", "times"]
    assert row["outputs"] == [{"name": "result", "type": "Message", "display_name": "Shouted"}]
    item = f"{COMPONENTS}/{row['component_id']}"
    # Code that declares no component is refused, naming the field and the line.
    for code, words in (
        ("def build(:\n", "syntax error"),
        ("OUTPUTS = ['x']\n", "no top-level function build"),
        ("INPUTS = ['a']\nOUTPUTS = ['x']\ndef build(b):\n  return b\n", "takes no parameter"),
        ("INPUTS = [{'name': 'a', 'type': 'Blob'}]\nOUTPUTS = ['x']\ndef build(a): ...\n", "type"),
        ("INPUTS = []\ndef build(): ...\n", "no OUTPUTS"),
        ("OUTPUTS = [f()]\ndef build(): ...\n", "literal"),
    ):
        bad = await client.patch(item, params=IN_TENANT, json={"code": code})
        assert bad.status_code == 422, code
        assert bad.json()["field"] == "code"
        assert words in bad.json()["message"], bad.json()["message"]
    changed = await client.patch(
        item, params=IN_TENANT, json={"code": WHISPER, "version_note": "quieter"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    same = await client.patch(item, params=IN_TENANT, json={"code": WHISPER, "note": "n"})
    assert same.json()["version"] == 2  # the same code is no new version
    versions = await client.get(f"{item}/versions", params=IN_TENANT)
    assert versions.status_code == 200, versions.text
    items = versions.json()["items"]
    assert [(v["version"], v["version_note"]) for v in items] == [(2, "quieter"), (1, "first")]
    assert items[1]["code"] == SHOUT
    assert (await client.get(f"{item}/versions", params={"scope": 2})).status_code == 404
    # Names: derived from the display name, unique, never a built-in's.
    derived = await add_component(client, group, component_name=None, display_name="Loud voice")
    assert derived["component_name"] == "LoudVoice"
    clash = await client.post(
        COMPONENTS, json={"component_group_id": group, "component_name": "Shout", "code": SHOUT}
    )
    assert clash.status_code == 409
    builtin = await client.post(
        COMPONENTS, json={"component_group_id": group, "component_name": "ChatInput"}
    )
    assert builtin.status_code == 409
    assert builtin.json()["field"] == "component_name"
    nowhere = await client.post(
        COMPONENTS, json={"component_group_id": 2**31 - 1, "component_name": "Lost"}
    )
    assert nowhere.status_code == 404
    assert nowhere.json()["field"] == "component_group_id"


async def test_component_list_filters_and_sort(client: httpx.AsyncClient) -> None:
    tools = await add_group(client)
    bundle = await add_group(client, group_name="B", component_type="bundle")
    a = await add_component(client, tools, component_name="Alpha", tag="text")
    b = await add_component(client, tools, component_name="Beta", is_deprecated=True)
    c = await add_component(client, bundle, component_name="Gamma", is_legacy=True)

    async def names(**params: Any) -> list[str]:
        listed = await client.get(COMPONENTS, params=params)
        assert listed.status_code == 200, listed.text
        return [r["component_name"] for r in listed.json()]

    assert await names() == ["Gamma", "Beta", "Alpha"]  # ctime, newest first
    assert await names(sort_by="component_name", sort_order="asc") == ["Alpha", "Beta", "Gamma"]
    assert await names(component_type="bundle") == ["Gamma"]
    assert await names(component_group_id=tools) == ["Beta", "Alpha"]
    assert await names(deprecated_only="true") == ["Beta"]
    assert await names(legacy_only="true") == ["Gamma"]
    assert await names(is_deprecated="false", is_legacy="false") == ["Alpha"]
    assert await names(tag="text") == ["Alpha"]
    assert await names(keyword="amm") == ["Gamma"]
    assert await names(scope=2) == []
    assert await names(scope=2, all_scopes="true") == ["Gamma", "Beta", "Alpha"]
    assert (await client.get(COMPONENTS, params={"sort_by": "code"})).status_code == 422
    assert {a["component_id"], b["component_id"], c["component_id"]}


async def test_a_flow_uses_a_stored_component_by_name(
    client: httpx.AsyncClient, custom_code: None
) -> None:
    refused = await add_flow(client, shout_flow())
    assert refused.status_code == 422  # no such component yet
    assert "Shout" in refused.text
    group = await add_group(client)
    row = await add_component(client, group)
    made = await add_flow(client, shout_flow())
    assert made.status_code == 201, made.text
    flow_id = made.json()["id"]
    assert reply(await run_text(client, flow_id, "hey")) == "HEY!HEY!HEY!"
    # A new version applies to the next run at once.
    item = f"{COMPONENTS}/{row['component_id']}"
    changed = await client.patch(item, params=IN_TENANT, json={"code": WHISPER})
    assert changed.status_code == 200, changed.text
    assert reply(await run_text(client, flow_id, "HEY")) == "hey..."
    # The run is a run like any other: recorded, with its steps.
    runs = await client.get("/api/v1/runs/", params={"flow_id": flow_id})
    assert runs.status_code == 200, runs.text
    assert [r["state"] for r in runs.json()] == ["completed", "completed"]
    # An inactive component is not found by runs.
    await client.patch(item, params=IN_TENANT, json={"is_active": False})
    failed = await run_text(client, flow_id, "x")
    assert failed.status_code == 422
    assert "Shout" in failed.text


async def test_running_stored_code_obeys_the_custom_code_rule(client: httpx.AsyncClient) -> None:
    group = await add_group(client)
    await add_component(client, group)
    made = await add_flow(client, shout_flow())
    assert made.status_code == 201, made.text  # saving checks, never runs
    failed = await run_text(client, made.json()["id"], "hey")
    assert failed.status_code == 422
    assert "FLOWDECK_ALLOW_CUSTOM_CODE" in failed.json()["detail"]


async def test_another_tenant_neither_sees_nor_runs_it(
    app: FastAPI, platform: httpx.AsyncClient, client: httpx.AsyncClient, custom_code: None
) -> None:
    group = await add_group(client)
    row = await add_component(client, group)
    other: TenantWorld = await new_tenant(app, platform, "other")
    try:
        item = f"{COMPONENTS}/{row['component_id']}"
        assert (await other.admin.get(item, params=IN_TENANT)).status_code == 404
        versions = await other.admin.get(f"{item}/versions", params=IN_TENANT)
        assert versions.status_code == 404
        assert (await other.admin.get(COMPONENTS)).json() == []
        theirs = await add_flow(other.admin, shout_flow())
        assert theirs.status_code == 422  # "Shout" is this tenant's, not theirs
        catalogue = orjson.loads((await other.admin.get("/api/v1/all")).content)
        assert "Shout" not in catalogue.get("text_tools", {})
    finally:
        for c in other.clients:
            await c.aclose()


async def test_all_lists_the_tenants_components(client: httpx.AsyncClient) -> None:
    plain = orjson.loads((await client.get("/api/v1/all")).content)
    assert "text_tools" not in plain
    group = await add_group(client)
    row = await add_component(client, group, display_name="Shout it", icon="Megaphone")
    await add_component(client, group, component_name="Off", is_active=False)
    resp = await client.get("/api/v1/all", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["content-encoding"] == "gzip"
    catalogue = orjson.loads(
        gzip.decompress(resp.content) if resp.content[:2] == b"\x1f\x8b" else resp.content
    )
    node = catalogue["text_tools"]["Shout"]
    assert node["display_name"] == "Shout it"
    assert node["icon"] == "Megaphone"
    assert node["metadata"]["component_id"] == row["component_id"]
    assert set(node["template"]) >= {"text", "times"}
    assert [o["name"] for o in node["outputs"]] == ["result"]
    assert "Off" not in catalogue["text_tools"]
    assert "ChatInput" in catalogue["inputs"]  # the built-ins stay


async def test_a_graph_is_kept_while_its_components_are_unchanged(
    app: FastAPI, client: httpx.AsyncClient, custom_code: None
) -> None:
    row = await add_component(client, await add_group(client))
    tenant = (await client.get("/api/v1/users/whoami")).json()["tenant_id"]
    graphs = app.state.services.graphs
    key = ("test", row["component_id"])
    first = await graphs.compile(key, shout_flow(), tenant_id=tenant)
    assert await graphs.compile(key, shout_flow(), tenant_id=tenant) is first
    item = f"{COMPONENTS}/{row['component_id']}"
    renamed = await client.patch(item, params=IN_TENANT, json={"display_name": "Louder"})
    assert renamed.status_code == 200, renamed.text
    second = await graphs.compile(key, shout_flow(), tenant_id=tenant)
    assert second is not first
    assert second.vertices["shout"].component.display_name == "Louder"
    assert await graphs.compile(key, shout_flow(), tenant_id=tenant) is second
    # Another tenant's run of the same flow data finds no such component.
    with pytest.raises(FlowValidationError):
        await graphs.compile(key, shout_flow(), tenant_id=str(uuid.uuid4()))
    await client.patch(item, params=IN_TENANT, json={"is_active": False})
    with pytest.raises(FlowValidationError):
        await graphs.compile(key, shout_flow(), tenant_id=tenant)
