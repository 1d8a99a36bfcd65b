"""Simplified runs of a flow's draft, its published version and a named version."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import add_flow

pytestmark = pytest.mark.asyncio(loop_scope="module")


def greeting(word: str) -> dict[str, Any]:
    """A flow that prefixes its input with `word`: each version answers differently."""
    return {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {"id": "join", "type": "CombineText", "params": {"text1": word, "delimiter": " "}},
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "join.text2"},
            {"from": "join.combined_text", "to": "out.input_value"},
        ],
    }


def answer(resp: httpx.Response) -> str:
    assert resp.status_code == 200, resp.text
    text: str = resp.json()["outputs"][0]["outputs"][0]["outputs"]["message"]["message"]
    return text


async def _versioned(app: FastAPI, client: httpx.AsyncClient) -> str:
    """A flow with version v1 (Hello) published, v2 (Hi) named, and the draft (Hey)."""
    flow_id = await add_flow(app, greeting("Hello"), name="staged", endpoint_name="staged")
    url = f"/api/v1/flows/{flow_id}"
    v1 = await client.post(f"{url}/versions/", json={"version": "v1"})
    assert v1.status_code == 201, v1.text
    published = await client.post(f"{url}/versions/{v1.json()['id']}/publish")
    assert published.status_code == 200, published.text
    for word, label in (("Hi", "v2"), ("Hey", None)):
        changed = await client.patch(url, json={"data": greeting(word)})
        assert changed.status_code == 200, changed.text
        if label:
            made = await client.post(f"{url}/versions/", json={"version": label})
            assert made.status_code == 201, made.text
    return flow_id


async def test_each_stage_runs_its_own_graph(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await _versioned(app, client)
    plain = {"input_value": "there"}
    seed_shape = {"input_request": {"input_value": "there"}, "context": {"caller": "crm"}}
    for body in (plain, seed_shape):
        assert answer(await client.post(f"/api/v1/run/dev/{flow_id}", json=body)) == "Hey there"
        online = await client.post("/api/v1/run/online/staged", json=body)
        assert answer(online) == "Hello there"
        release = await client.post(f"/api/v1/run/release/{flow_id}", params={"v": "v2"}, json=body)
        assert answer(release) == "Hi there"
    # The run record says which version ran, and keeps the caller's context.
    record = (await client.get(f"/api/v1/runs/{release.json()['run_id']}")).json()
    assert record["flow_version_id"] is not None
    assert record["request"]["context"] == {"caller": "crm"}


async def test_tweaks_and_streaming_reach_a_version(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await _versioned(app, client)
    body = {"input_value": "you", "tweaks": {"join": {"text1": "Bye"}}}
    assert answer(await client.post(f"/api/v1/run/online/{flow_id}", json=body)) == "Bye you"
    streamed = await client.post(
        f"/api/v1/run/release/{flow_id}", params={"v": "v1", "stream": "true"}, json=body
    )
    assert streamed.status_code == 200
    events = [orjson.loads(chunk) for chunk in streamed.content.split(b"\n\n") if chunk.strip()]
    assert events[-1]["event"] == "end"
    assert "Bye you" in orjson.dumps(events[-1]["data"]["result"]).decode()


async def test_missing_versions_are_404_naming_them(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, greeting("Hello"), name="unpublished")
    online = await client.post(f"/api/v1/run/online/{flow_id}", json={"input_value": "x"})
    assert online.status_code == 404
    assert "no published version" in online.json()["detail"]
    release = await client.post(f"/api/v1/run/release/{flow_id}", params={"v": "v9"}, json={})
    assert release.status_code == 404
    assert "'v9'" in release.json()["detail"]
    no_label = await client.post(f"/api/v1/run/release/{flow_id}", json={})
    assert no_label.status_code == 422
    bad_body = await client.post(f"/api/v1/run/dev/{flow_id}", json={"input_type": "video"})
    assert bad_body.status_code == 422
    assert "input_type" in bad_body.text
    unknown = await client.post("/api/v1/run/dev/no-such-flow", json={})
    assert unknown.status_code == 404


async def test_staged_runs_need_the_run_privilege(
    app: FastAPI, client: httpx.AsyncClient, tenant: Any, anon: httpx.AsyncClient
) -> None:
    flow_id = await _versioned(app, client)
    viewer = await tenant.member("viewer", name="watcher")
    for path in ("dev", "online"):
        refused = await viewer.post(f"/api/v1/run/{path}/{flow_id}", json={})
        assert refused.status_code == 403, refused.text
        assert (await anon.post(f"/api/v1/run/{path}/{flow_id}", json={})).status_code == 401
