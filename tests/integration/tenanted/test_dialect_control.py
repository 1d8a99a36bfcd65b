"""The control dialect: flows as configurations, their status, and start/stop/pause/resume."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="module")

Json = dict[str, Any]


def delayed(seconds: float) -> Json:
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


async def add(client: httpx.AsyncClient, name: str, data: Json, **extra: Any) -> Json:
    resp = await client.post("/flows", json=[{"name": name, "data": data, **extra}])
    assert resp.status_code == 201, resp.text
    body: Json = resp.json()[0]
    return body


async def start(client: httpx.AsyncClient, flow_id: str, text: str = "x") -> httpx.Response:
    return await client.post(
        f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": text}}
    )


async def run_of(client: httpx.AsyncClient, flow_id: str) -> str:
    resp = await start(client, flow_id)
    assert resp.status_code == 200, resp.text
    run_id: str = resp.json()["job_id"]
    return run_id


async def until(client: httpx.AsyncClient, run_id: str, state: str) -> Json:
    record: Json = {}
    for _ in range(250):
        record = (await client.get(f"/api/v1/runs/{run_id}")).json()
        if record["state"] == state:
            return record
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} never became {state}: {record.get('state')}")


async def command(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.patch("/flows/commands", json=body)


async def test_configurations_crud(client: httpx.AsyncClient) -> None:
    created = await add(client, "Nightly", delayed(0), schedule="0 3 * * *", flow_id="nightly")
    flow_id = created["flow_id"]
    assert created["id"] == flow_id
    assert created["status"] == "running"
    assert created["slug"] == "nightly"
    assert created["schedule"] == "0 3 * * *"

    listed = (await client.get("/flows")).json()
    assert [c["flow_id"] for c in listed] == [flow_id]
    for ref in (flow_id, "nightly"):
        one = await client.get(f"/flows/{ref}")
        assert one.status_code == 200
        assert one.json()["schedule"] == "0 3 * * *"

    put = await client.put(f"/flows/{flow_id}", json={"description": "d", "retries": 2})
    assert put.status_code == 200, put.text
    assert put.json()["description"] == "d"
    assert put.json()["retries"] == 2
    assert "schedule" not in put.json()  # PUT replaces the extra fields
    patched = await client.patch(f"/flows/{flow_id}", json={"owner_team": "ops", "retries": None})
    assert patched.status_code == 200
    assert patched.json()["owner_team"] == "ops"
    assert "retries" not in patched.json()
    assert patched.json()["description"] == "d"

    assert (await client.get("/flows/no-such-flow")).status_code == 404
    deleted = await client.delete(f"/flows/{flow_id}")
    assert deleted.status_code == 200
    assert deleted.json()["flow_id"] == flow_id
    again = await client.delete(f"/flows/{flow_id}")
    assert again.status_code == 400
    assert again.json()["field"] == "flow_id"
    assert (await client.get("/flows")).json() == []


async def test_add_configurations_validation(client: httpx.AsyncClient) -> None:
    not_array = await client.post("/flows", json={"name": "single"})
    assert not_array.status_code == 400
    assert "array" in not_array.json()["detail"]
    bad_json = await client.post(
        "/flows", content=b"[{", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["field"] == "body"
    no_name = await client.post("/flows", json=[{"name": "ok"}, {"description": "no name"}])
    assert no_name.status_code == 400
    assert no_name.json()["field"] == "[1].name"
    bad_graph = await client.post(
        "/flows", json=[{"name": "bad", "data": {"nodes": [{"id": "x", "type": "Nope"}]}}]
    )
    assert bad_graph.status_code == 400
    assert bad_graph.json()["errors"][0]["node_id"] == "x"
    # All or none: the valid first item of a rejected batch was not kept.
    assert (await client.get("/flows")).json() == []
    put = await client.put("/flows/whatever", json=[1])
    assert put.status_code == 404


async def test_status(client: httpx.AsyncClient) -> None:
    a = await add(client, "A", delayed(0))
    b = await add(client, "B", delayed(0))
    statuses = (await client.get("/flows/status")).json()
    assert set(statuses) == {a["flow_id"], b["flow_id"]}
    assert statuses[a["flow_id"]]["status"] == "running"
    assert statuses[a["flow_id"]]["runs"] == {"queued": 0, "running": 0, "paused": 0, "waiting": 0}
    one = await client.get(f"/flows/status/{b['flow_id']}")
    assert one.status_code == 200
    assert one.json()["name"] == "B"
    assert (await client.get("/flows/status/missing")).status_code == 404


async def test_soft_stop_lets_running_run_finish(client: httpx.AsyncClient) -> None:
    flow = await add(client, "Soft", delayed(0.6))
    run_id = await run_of(client, flow["flow_id"])
    await until(client, run_id, "running")
    resp = await command(client, {"command": "stop", "flow_ids": [flow["flow_id"]], "type": 0})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "status": "Flows stopped",
        "details": [{"flow_id": flow["flow_id"], "status": "stopped", "error": None}],
    }
    refused = await start(client, flow["flow_id"])
    assert refused.status_code == 409
    assert "stopped" in refused.json()["detail"]
    final = await until(client, run_id, "completed")
    assert final["error"] is None
    status = (await client.get(f"/flows/status/{flow['flow_id']}")).json()
    assert status["status"] == "stopped"
    started = await command(client, {"command": "start", "flow_ids": [flow["flow_id"]]})
    assert started.json()["details"][0]["status"] == "running"
    assert (await start(client, flow["flow_id"])).status_code == 200


async def test_hard_stop_cancels_running_run(client: httpx.AsyncClient) -> None:
    flow = await add(client, "Hard", delayed(30))
    run_id = await run_of(client, flow["flow_id"])
    await until(client, run_id, "running")
    resp = await command(client, {"command": "stop", "flow_ids": [flow["flow_id"]], "type": 1})
    assert resp.json()["details"][0]["status"] == "stopped"
    final = await until(client, run_id, "cancelled")
    assert "stopped" in final["error"]


async def test_pause_holds_runs_and_resume_runs_them(client: httpx.AsyncClient) -> None:
    flow = await add(client, "Pausable", delayed(0.5))
    fid = flow["flow_id"]
    first = await run_of(client, fid)
    await until(client, first, "running")
    paused = await command(client, {"command": "pause", "flow_ids": [fid]})
    assert paused.json() == {
        "status": "Flows paused",
        "details": [{"flow_id": fid, "status": "paused", "error": None}],
    }
    await until(client, first, "paused")
    held = await run_of(client, fid)
    await asyncio.sleep(0.6)  # the delay is over, yet neither run moves while paused
    assert (await client.get(f"/api/v1/runs/{first}")).json()["state"] == "paused"
    assert (await client.get(f"/api/v1/runs/{held}")).json()["state"] == "queued"
    status = (await client.get(f"/flows/status/{fid}")).json()
    assert status["status"] == "paused"
    assert status["runs"]["paused"] == 1
    assert status["runs"]["queued"] == 1

    resumed = await command(client, {"command": "resume", "flow_ids": [fid]})
    assert resumed.json()["status"] == "Flows resumed"
    assert resumed.json()["details"][0]["status"] == "running"
    for run_id in (first, held):
        final = await until(client, run_id, "completed")
        assert final["outputs"]["outputs"][0]["outputs"][0]["outputs"]["message"]["message"] == "x"


async def test_command_errors_and_unknown_flows(client: httpx.AsyncClient) -> None:
    flow = await add(client, "Known", delayed(0))
    unknown = await command(client, {"command": "explode", "flow_ids": [flow["flow_id"]]})
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "command"
    assert "explode" in unknown.json()["detail"]
    bad_type = await command(client, {"command": "stop", "flow_ids": [flow["flow_id"]], "type": 2})
    assert bad_type.status_code == 400
    assert bad_type.json()["field"] == "type"
    # The document says type is 0 or 1: with any command, as the OpenAPI promises.
    start_typed = await command(
        client, {"command": "start", "flow_ids": [flow["flow_id"]], "type": 7}
    )
    assert start_typed.status_code == 400
    assert start_typed.json()["field"] == "type"
    assert (await command(client, {"command": "stop", "flow_ids": []})).status_code == 400
    assert (await command(client, ["stop"])).status_code == 400
    no_command = await command(client, {"flow_ids": [flow["flow_id"]]})
    assert no_command.status_code == 400
    assert no_command.json()["field"] == "command"
    mixed = await command(client, {"command": "pause", "flow_ids": ["ghost", flow["flow_id"]]})
    assert mixed.status_code == 200
    ghost, known = mixed.json()["details"]
    assert ghost["flow_id"] == "ghost"
    assert ghost["status"] == "not_found"
    assert "ghost" in ghost["error"]
    assert known == {"flow_id": flow["flow_id"], "status": "paused", "error": None}
    # No flow_ids: every flow of the caller.
    everything = await command(client, {"command": "start"})
    assert everything.json()["details"] == [
        {"flow_id": flow["flow_id"], "status": "running", "error": None}
    ]


async def test_flows_of_other_users_are_out_of_reach(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, make_user: Any
) -> None:
    flow = await add(client, "Admin's", delayed(0))
    bob = await make_user("bob")
    assert (await bob.get("/flows")).json() == []
    assert (await bob.get(f"/flows/{flow['flow_id']}")).status_code == 404
    assert (await bob.get("/flows/status")).json() == {}
    resp = await bob.patch(
        "/flows/commands", json={"command": "stop", "flow_ids": [flow["flow_id"]]}
    )
    assert resp.json()["details"][0]["status"] == "not_found"
    assert (await bob.delete(f"/flows/{flow['flow_id']}")).status_code == 400
    status = (await client.get(f"/flows/status/{flow['flow_id']}")).json()
    assert status["status"] == "running"
    assert (await anon.get("/flows")).status_code == 401


async def test_soft_stop_of_a_paused_flow(client: httpx.AsyncClient) -> None:
    flow = await add(client, "Paused then stopped", delayed(0.5))
    fid = flow["flow_id"]
    first = await run_of(client, fid)
    await until(client, first, "running")
    await command(client, {"command": "pause", "flow_ids": [fid]})
    await until(client, first, "paused")
    held = await run_of(client, fid)
    stopped = await command(client, {"command": "stop", "flow_ids": [fid]})
    assert stopped.json()["details"][0]["status"] == "stopped"
    # The held run never started, so it never will; the paused one is let finish.
    assert "before it ran" in (await until(client, held, "cancelled"))["error"]
    await until(client, first, "completed")
