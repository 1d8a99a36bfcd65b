"""Runs over HTTP: build events, simplified and webhook runs, control, and run records."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from tests.conftest import ADMIN, login
from tests.integration.api.flow_docs import ASK

from flowdeck.api.app import create_app
from flowdeck.db.models import Flow, User
from flowdeck.db.repositories.flows import slugify
from flowdeck.settings import Settings

ECHO = {
    "nodes": [{"id": "in", "type": "ChatInput"}, {"id": "out", "type": "ChatOutput"}],
    "edges": [{"from": "in.message", "to": "out.input_value"}],
}


def delayed(seconds: float) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {"id": "wait", "type": "Delay", "params": {"seconds": seconds}},
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "wait.input_value"},
            {"from": "wait.message", "to": "out.input_value"},
        ],
    }


# Whose flows add_flow makes when no username is given: the superuser of a per-test app, or
# the administrator of the test's tenant under tests/integration/tenanted.
DEFAULT_OWNER = "admin"


async def add_flow(
    app: FastAPI, data: dict[str, Any], name: str = "echo", username: str = "", **fields: Any
) -> str:
    """Store a flow directly, so these tests do not depend on the flows API."""
    username = username or DEFAULT_OWNER
    services = app.state.services
    async with services.db.session() as session:
        from sqlalchemy import select

        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        flow = Flow(
            name=name,
            slug=slugify(name),
            data=data,
            tenant_id=user.tenant_id,
            user_id=user.id,
            tags=[],
            config={},
            **fields,
        )
        session.add(flow)
        await session.flush()
        return flow.id


def ndjson(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in body.splitlines() if line.strip()]


async def test_simplified_run_returns_run_response(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO, endpoint_name="echo-endpoint")
    for ref in (flow_id, "echo-endpoint", "echo"):
        resp = await client.post(f"/api/v1/run/{ref}", json={"input_value": "hi there"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        result = body["outputs"][0]["outputs"][0]
        assert result["component_id"] == "out"
        assert result["outputs"]["message"]["message"] == "hi there"
        assert result["messages"][0]["message"] == "hi there"
    record = (await client.get(f"/api/v1/runs/{body['run_id']}")).json()
    assert record["state"] == "completed"
    assert record["progress"] == 1.0
    assert [s["state"] for s in record["steps"]] == ["completed", "completed"]


async def test_unknown_flow_is_404(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/run/no-such-flow", json={"input_value": "x"})
    assert resp.status_code == 404


async def test_build_events_streaming_order(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    job = (
        await client.post(
            f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "hello"}}
        )
    ).json()
    resp = await client.get(f"/api/v1/build/{job['job_id']}/events")
    events = ndjson(resp.content)
    # Langflow's stream: Langflow's events only, vertices_sorted first and end last.
    names = [e["event"] for e in events]
    assert names[0] == "vertices_sorted"
    assert names[-1] == "end"
    assert not {"state", "waiting", "log"} & set(names)
    assert names.count("end_vertex") == 2
    assert names.count("build_start") == 2
    first_end = next(e for e in events if e["event"] == "end_vertex")
    assert first_end["data"]["build_data"]["id"] == "in"
    assert first_end["data"]["build_data"]["valid"] is True
    # flowdeck's own events when asked for.
    asked = await client.get(
        f"/api/v1/build/{job['job_id']}/events", params={"flowdeck_events": "true"}
    )
    own = ndjson(asked.content)
    states = [e["data"]["state"] for e in own if e["event"] == "state"]
    assert states == ["queued", "running", "completed"]
    assert [e["event"] for e in own if e["event"] != "state"] == names


async def test_build_events_polling_and_direct(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    job = (
        await client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "p"}})
    ).json()
    seen: list[str] = []
    for _ in range(20):
        resp = await client.get(
            f"/api/v1/build/{job['job_id']}/events", params={"event_delivery": "polling"}
        )
        seen += [e["event"] for e in ndjson(resp.content)]
        if "end" in seen:
            break
    assert seen.count("end") == 1
    assert seen.count("vertices_sorted") == 1
    direct = await client.post(
        f"/api/v1/build/{flow_id}/flow",
        params={"event_delivery": "direct"},
        json={"inputs": {"input_value": "d"}},
    )
    assert [e["event"] for e in ndjson(direct.content)][-1] == "end"


async def test_cancel_build(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, delayed(30))
    job = (
        await client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "x"}})
    ).json()
    await _until(client, job["job_id"], "running")
    resp = await client.post(f"/api/v1/build/{job['job_id']}/cancel")
    assert resp.json() == {"success": True, "message": "Flow build cancelled successfully"}
    record = await _until(client, job["job_id"], "cancelled")
    assert record["error"]
    assert (await client.post("/api/v1/build/not-a-job/cancel")).status_code == 404


async def test_pause_and_resume(app: FastAPI, client: httpx.AsyncClient) -> None:
    # The delay outlasts the pause request even on a loaded machine, so a step always follows.
    flow_id = await add_flow(app, delayed(2.5))
    job = (
        await client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "x"}})
    ).json()
    run_id = job["job_id"]
    await _until(client, run_id, "running")
    paused = await client.post(f"/api/v1/runs/{run_id}/pause")
    assert paused.json().get("state") == "paused", paused.text
    await asyncio.sleep(2.7)  # the delay ends, but the next step waits for resume
    record = (await client.get(f"/api/v1/runs/{run_id}")).json()
    assert record["state"] == "paused"
    assert (await client.post(f"/api/v1/runs/{run_id}/resume")).json()["state"] == "running"
    final = await _until(client, run_id, "completed")
    assert final["outputs"]["outputs"][0]["outputs"][0]["outputs"]["message"]["message"] == "x"
    again = await client.post(f"/api/v1/runs/{run_id}/resume")
    assert again.status_code == 409


async def test_pause_a_run_while_a_step_waits_for_its_answer(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    run_id = (await _waiting_build(app, client))["id"]
    paused = (await client.post(f"/api/v1/runs/{run_id}/pause")).json()
    assert (paused["state"], paused["waiting_on"]) == ("paused", "ask")
    early = await client.post(f"/api/v1/runs/{run_id}/answer", json={"value": "now?"})
    assert early.status_code == 409
    assert "resume" in early.text
    resumed = (await client.post(f"/api/v1/runs/{run_id}/resume")).json()
    assert (resumed["state"], resumed["waiting_on"]) == ("waiting", "ask")
    resp = await client.post(f"/api/v1/runs/{run_id}/answer", json={"value": "go on"})
    assert resp.status_code == 200, resp.text
    final = await _until(client, run_id, "completed")
    assert final["outputs"]["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "go on"


async def test_a_waiting_run_s_record_shows_its_steps_as_soon_as_it_waits(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # The record's live fields are written a few times a second; a run parking on a person
    # writes them with its state, so whoever opens it then (the console's run page, which
    # no later event would make read it again) sees the step that waits.
    record = await _waiting_build(app, client)
    steps = {step["id"]: step for step in record["steps"]}
    assert steps["ask"]["state"] == "waiting"
    assert steps["ask"]["start"]
    assert steps["in"]["state"] == "completed"


async def test_webhook_runs_in_background(app: FastAPI, client: httpx.AsyncClient) -> None:
    await add_flow(app, ECHO, name="hook")
    resp = await client.post("/api/v1/webhook/hook", json={"event": "push"})
    assert resp.status_code == 202
    assert resp.json()["status"] == "in progress"
    final = await _until(client, resp.json()["run_id"], "completed")
    assert final["trigger"] == "webhook"
    text = final["outputs"]["outputs"][0]["outputs"][0]["outputs"]["message"]["message"]
    assert orjson.loads(text) == {"event": "push"}


async def test_runs_need_credentials_and_are_private(
    app: FastAPI, anon: httpx.AsyncClient, client: httpx.AsyncClient, make_user: Any
) -> None:
    flow_id = await add_flow(app, ECHO)
    assert (await anon.post(f"/api/v1/run/{flow_id}", json={})).status_code == 401
    bob = await make_user("bob")
    assert (await bob.post(f"/api/v1/run/{flow_id}", json={})).status_code == 404
    run_id = (await client.post(f"/api/v1/run/{flow_id}", json={})).json()["run_id"]
    assert (await bob.get(f"/api/v1/runs/{run_id}")).status_code == 404


async def test_advanced_run_targets_components(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    resp = await client.post(
        f"/api/v1/run/advanced/{flow_id}",
        json={"inputs": [{"components": ["in"], "input_value": "targeted"}], "outputs": ["out"]},
    )
    assert resp.status_code == 200, resp.text
    out = resp.json()["outputs"][0]["outputs"][0]
    assert out["outputs"]["message"]["message"] == "targeted"


@pytest.mark.parametrize("stream", [True])
async def test_simplified_run_stream(app: FastAPI, client: httpx.AsyncClient, stream: bool) -> None:
    flow_id = await add_flow(app, ECHO)
    resp = await client.post(
        f"/api/v1/run/{flow_id}", params={"stream": stream}, json={"input_value": "s"}
    )
    assert resp.headers["content-type"].startswith("text/event-stream")
    chunks = [orjson.loads(c) for c in resp.content.split(b"\n\n") if c.strip()]
    assert chunks[-1]["event"] == "end"
    result = chunks[-1]["data"]["result"]["outputs"][0]["outputs"][0]
    assert result["outputs"]["message"]["message"] == "s"


async def _waiting_build(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    """The record of a build of ASK, read as soon as it says the run is waiting."""
    flow_id = await add_flow(app, ASK)
    job = (
        await client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "x"}})
    ).json()
    return await _until(client, job["job_id"], "waiting")


async def _until(client: httpx.AsyncClient, run_id: str, state: str) -> dict[str, Any]:
    for _ in range(200):
        record: dict[str, Any] = (await client.get(f"/api/v1/runs/{run_id}")).json()
        if record["state"] == state:
            return record
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} never became {state}: {record['state']}")


async def test_a_long_run_shows_its_progress_while_it_runs(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    graph = {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {"id": "first", "type": "Delay", "params": {"seconds": 0.05}},
            {"id": "second", "type": "Delay", "params": {"seconds": 1.5}},
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "first.input_value"},
            {"from": "first.message", "to": "second.input_value"},
            {"from": "second.message", "to": "out.input_value"},
        ],
    }
    flow_id = await add_flow(app, graph)
    resp = await client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "x"}})
    job = resp.json()["job_id"]
    run: dict[str, Any] = {}
    for _ in range(100):
        await asyncio.sleep(0.05)
        run = (await client.get(f"/api/v1/runs/{job}")).json()
        if run["progress"] > 0:
            break
    assert run["state"] == "running"
    assert 0 < run["progress"] < 1
    states = {step["id"]: step["state"] for step in run["steps"]}
    assert states["first"] == "completed"
    assert states["second"] == "running"
    await client.post(f"/api/v1/runs/{job}/cancel")


async def test_shutdown_waits_for_working_runs_not_for_ones_waiting_on_a_person(
    settings: Settings,
) -> None:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.headers["Authorization"] = f"Bearer {await login(client, *ADMIN)}"
            asking = await add_flow(application, ASK, name="ask")
            working = await add_flow(application, delayed(2), name="work")
            body = {"inputs": {"input_value": "x"}}
            parked = (await client.post(f"/api/v1/build/{asking}/flow", json=body)).json()
            await _until(client, parked["job_id"], "waiting")
            busy = (await client.post(f"/api/v1/build/{working}/flow", json=body)).json()
            await _until(client, busy["job_id"], "running")
        stopping = time.monotonic()
    # The working run was let finish; the waiting one did not hold the stop for the whole
    # grace (10 s).
    assert time.monotonic() - stopping < 7
    again = create_app(settings)
    async with again.router.lifespan_context(again):
        done = await again.state.services.runs.store.get(busy["job_id"])
        assert done is not None
        assert done.state == "completed"
