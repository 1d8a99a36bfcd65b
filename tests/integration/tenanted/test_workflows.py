"""v2 workflows over HTTP: sync, background and streamed runs, job status, stop."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import ECHO, add_flow, delayed

pytestmark = pytest.mark.asyncio(loop_scope="module")

URL = "/api/v2/workflows"

FORK = {
    "nodes": [
        {"id": "in", "type": "ChatInput"},
        {"id": "a", "type": "ChatOutput"},
        {"id": "parse", "type": "ParseJSON"},
    ],
    "edges": [
        {"from": "in.message", "to": "a.input_value"},
        {"from": "in.message", "to": "parse.input_value"},
    ],
}


async def _status(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    resp = await client.get(URL, params={"job_id": job_id})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def _until(client: httpx.AsyncClient, job_id: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        body = await _status(client, job_id)
        if body["status"] == status:
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job_id} never became {status}: {body['status']}")


async def test_sync_run_returns_terminal_outputs(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO, endpoint_name="echo-wf")
    inputs = {"in.input_value": "hello", "in.session_id": "s-1"}
    resp = await client.post(URL, json={"flow_id": "echo-wf", "inputs": inputs})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["flow_id"] == flow_id
    assert body["inputs"] == inputs
    assert body["errors"] == []
    out = body["outputs"]["out"]
    assert out["content"] == "hello"
    assert out["type"] == "message"
    assert out["status"] == "completed"
    assert out["metadata"]["component_type"] == "ChatOutput"
    uuid.UUID(body["job_id"])
    # The job is a run: same record, same status later on.
    assert await _status(client, body["job_id"]) == body
    record = (await client.get(f"/api/v1/runs/{body['job_id']}")).json()
    assert record["trigger"] == "workflow"
    assert record["session_id"] == "s-1"


async def test_every_terminal_component_and_partial_failure(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, FORK)
    ok = await client.post(URL, json={"flow_id": flow_id, "inputs": {"in.input_value": '{"a": 1}'}})
    outputs = ok.json()["outputs"]
    assert set(outputs) == {"a", "parse"}
    assert outputs["parse"]["type"] == "data"
    assert outputs["parse"]["content"] == {"a": 1}
    assert outputs["a"]["content"] == '{"a": 1}'
    bad = await client.post(URL, json={"flow_id": flow_id, "inputs": {"in.input_value": "nope"}})
    assert bad.status_code == 200
    body = bad.json()
    assert body["status"] == "failed"
    [error] = body["errors"]
    assert error["code"] == "EXECUTION_ERROR"
    assert "not valid JSON" in error["error"]
    assert error["details"]["component_id"] == "parse"
    # What did complete is still reported.
    assert body["outputs"]["a"]["content"] == "nope"


async def test_background_job_is_polled_to_completion(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, delayed(0.2))
    resp = await client.post(
        URL, json={"flow_id": flow_id, "background": True, "inputs": {"in.input_value": "later"}}
    )
    assert resp.status_code == 200, resp.text
    job = resp.json()
    assert job["object"] == "job"
    # Accepted and queued, or already started when a worker slot was free.
    assert job["status"] in ("queued", "in_progress")
    assert job["links"]["status"] == f"{URL}?job_id={job['job_id']}"
    assert job["links"]["stop"] == f"{URL}/stop"
    assert (await _status(client, job["job_id"]))["status"] in ("queued", "in_progress")
    done = await _until(client, job["job_id"], "completed")
    assert done["outputs"]["out"]["content"] == "later"


async def test_stop_cancels_a_running_job(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, delayed(30))
    job = (
        await client.post(URL, json={"flow_id": flow_id, "background": True, "inputs": {}})
    ).json()
    await _until(client, job["job_id"], "in_progress")
    resp = await client.post(f"{URL}/stop", json={"job_id": job["job_id"]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["job_id"] == job["job_id"]
    assert "cancelled" in resp.json()["message"]
    final = await _until(client, job["job_id"], "cancelled")
    assert final["errors"][0]["code"] == "CANCELLED"
    again = await client.post(f"{URL}/stop", json={"job_id": job["job_id"]})
    assert again.status_code == 200
    assert "already cancelled" in again.json()["message"]


async def test_stopping_a_finished_job_is_a_conflict(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    job_id = (await client.post(URL, json={"flow_id": flow_id})).json()["job_id"]
    resp = await client.post(f"{URL}/stop", json={"job_id": job_id})
    assert resp.status_code == 409
    assert resp.json()["field"] == "job_id"


async def test_stream_sends_events_then_the_result(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    resp = await client.post(
        URL, json={"flow_id": flow_id, "stream": True, "inputs": {"in.input_value": "live"}}
    )
    assert resp.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in resp.content.split(b"\n\n") if f.strip()]
    events = []
    for frame in frames:
        fields = dict(line.split(b": ", 1) for line in frame.split(b"\n"))
        data = orjson.loads(fields[b"data"])
        assert data["type"] == fields[b"event"].decode()
        assert fields[b"id"].isdigit()
        events.append(data)
    assert {e["run_id"] for e in events} == {events[-1]["raw_event"]["data"]["result"]["job_id"]}
    names = [e["type"] for e in events]
    assert names[0] == "state"
    assert "vertices_sorted" in names
    assert names.count("end_vertex") == 2
    assert names[-1] == "end"
    result = events[-1]["raw_event"]["data"]["result"]
    assert result["status"] == "completed"
    assert result["outputs"]["out"]["content"] == "live"


async def test_bad_requests_name_the_field(
    app: FastAPI, client: httpx.AsyncClient, anon: httpx.AsyncClient, make_user: Any
) -> None:
    flow_id = await add_flow(app, ECHO)
    resp = await client.post(URL, json={"flow_id": flow_id, "inputs": {"nodot": "x"}})
    assert resp.status_code == 400
    assert resp.json()["field"] == "inputs.nodot"
    resp = await client.post(URL, json={"flow_id": flow_id, "inputs": {"ghost.input_value": "x"}})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["node_id"] == "ghost"
    resp = await client.post(URL, json={"flow_id": flow_id, "inputs": {"in.nope": "x"}})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "nope"
    both = await client.post(URL, json={"flow_id": flow_id, "stream": True, "background": True})
    assert both.status_code == 422
    assert (await client.post(URL, json={"flow_id": "no-such-flow"})).status_code == 404
    assert (await client.post(URL, json={"inputs": {}})).status_code == 422
    missing = await client.get(URL)
    assert missing.status_code == 400
    assert missing.json()["field"] == "job_id"
    assert (await client.get(URL, params={"job_id": "not-a-uuid"})).status_code == 400
    unknown = await client.get(URL, params={"job_id": str(uuid.uuid4())})
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "job_id"
    stop = await client.post(f"{URL}/stop", json={"job_id": "nope"})
    assert stop.status_code == 422
    # Jobs are private to their owner, and every route needs credentials.
    job_id = (await client.post(URL, json={"flow_id": flow_id})).json()["job_id"]
    bob = await make_user("bob")
    assert (await bob.get(URL, params={"job_id": job_id})).status_code == 404
    assert (await bob.post(f"{URL}/stop", json={"job_id": job_id})).status_code == 404
    assert (await bob.post(URL, json={"flow_id": flow_id})).status_code == 404
    assert (await anon.post(URL, json={"flow_id": flow_id})).status_code == 401
    assert (await anon.get(URL, params={"job_id": job_id})).status_code == 401
