"""The flow-runs dialect over HTTP: create, read, page, upsert, control and delete run records."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import ECHO, add_flow, delayed
from tests.tenancy import TenantWorld

pytestmark = pytest.mark.asyncio(loop_scope="module")

RUN_FIELDS = {
    "id",
    "flowId",
    "flowType",
    "args",
    "phase",
    "startTime",
    "endTime",
    "actions",
    "outputs",
    "logs",
    "tags",
    "createdAt",
    "createdBy",
    "updatedAt",
    "updatedBy",
    "reviewedBy",
    "reviewedAt",
}
PAGE_FIELDS = {
    "items",
    "total",
    "current_page",
    "current_page_backwards",
    "previous_page",
    "next_page",
}
APPROVAL = {
    "nodes": [
        {"id": "in", "type": "ChatInput"},
        {"id": "gate", "type": "Approval"},
        {"id": "out", "type": "ChatOutput"},
    ],
    "edges": [
        {"from": "in.message", "to": "gate.input_value"},
        {"from": "gate.approved", "to": "out.input_value"},
    ],
}


async def until_phase(client: httpx.AsyncClient, run_id: str, *phases: str) -> dict[str, Any]:
    """Poll a run until it is in one of `phases`."""
    record: dict[str, Any] = {}
    for _ in range(250):
        record = (await client.get(f"/api/v1/flow-runs/{run_id}")).json()
        if record["phase"] in phases:
            return record
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} never reached {phases}: {record.get('phase')}")


async def test_create_runs_the_flow_end_to_end(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    resp = await client.post(
        "/api/v1/flow-runs",
        json={
            "flowId": flow_id,
            "flowType": "automation",
            "args": {"input_value": "hello runs"},
            "tags": [{"key": "env", "value": "test"}],
        },
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert set(created) == RUN_FIELDS
    assert created["flowId"] == flow_id
    assert created["phase"] in ("pending", "running", "succeeded")
    assert created["args"] == {"input_value": "hello runs"}
    assert created["tags"] == [{"key": "env", "value": "test"}]
    done = await until_phase(client, created["id"], "succeeded")
    assert done["outputs"] == {"out": {"message": "hello runs"}}
    assert [(a["id"], a["phase"]) for a in done["actions"]] == [
        ("in", "succeeded"),
        ("out", "succeeded"),
    ]
    assert all(a["startTime"] and a["endTime"] for a in done["actions"])
    assert done["startTime"]
    assert done["endTime"]
    assert done["createdBy"] is not None
    # The same run, seen through the Langflow-style run records.
    record = (await client.get(f"/api/v1/runs/{created['id']}")).json()
    assert record["state"] == "completed"
    assert record["trigger"] == "api"


async def test_create_rejects_unknown_flow_and_bad_args(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    missing = await client.post("/api/v1/flow-runs", json={"flowId": "no-such-flow"})
    assert missing.status_code == 404
    assert missing.json()["field"] == "flowId"
    bad_pattern = await client.post("/api/v1/flow-runs", json={"flowId": "Not Valid!"})
    assert bad_pattern.status_code == 422
    assert "flowId" in bad_pattern.json()["message"]
    flow_id = await add_flow(app, ECHO)
    unknown_arg = await client.post(
        "/api/v1/flow-runs", json={"flowId": flow_id, "args": {"colour": "red"}}
    )
    assert unknown_arg.status_code == 400
    assert unknown_arg.json()["field"] == "args.colour"
    wrong_type = await client.post(
        "/api/v1/flow-runs", json={"flowId": flow_id, "flowType": "scorecard"}
    )
    assert wrong_type.status_code == 400
    assert wrong_type.json()["field"] == "flowType"
    bad_tweak = await client.post(
        "/api/v1/flow-runs", json={"flowId": flow_id, "args": {"nowhere.text": "x"}}
    )
    assert bad_tweak.status_code == 422


async def test_cursor_pages_walk_forward_and_back(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    other = await add_flow(app, ECHO, name="other")
    ids = []
    for i in range(5):
        resp = await client.post(
            "/api/v1/flow-runs", json={"flowId": flow_id, "args": {"input_value": str(i)}}
        )
        ids.append(resp.json()["id"])
    await client.post("/api/v1/flow-runs", json={"flowId": other})
    newest_first = list(reversed(ids))

    first = (await client.get("/api/v1/flow-runs", params={"flowId": flow_id, "size": 2})).json()
    assert set(first) == PAGE_FIELDS
    assert first["total"] == 5
    assert [r["id"] for r in first["items"]] == newest_first[:2]
    assert first["previous_page"] is None
    assert first["next_page"]
    pages, page = [first], first
    while page["next_page"]:
        page = (
            await client.get(
                "/api/v1/flow-runs",
                params={"flowId": flow_id, "size": 2, "cursor": page["next_page"]},
            )
        ).json()
        pages.append(page)
    assert [[r["id"] for r in p["items"]] for p in pages] == [
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    last = pages[-1]
    back = (
        await client.get(
            "/api/v1/flow-runs",
            params={"flowId": flow_id, "size": 2, "cursor": last["previous_page"]},
        )
    ).json()
    assert [r["id"] for r in back["items"]] == newest_first[2:4]
    assert back["next_page"]
    assert back["previous_page"]
    for key in ("current_page", "current_page_backwards"):
        again = (
            await client.get(
                "/api/v1/flow-runs", params={"flowId": flow_id, "size": 2, "cursor": back[key]}
            )
        ).json()
        assert [r["id"] for r in again["items"]] == newest_first[2:4]
    everything = (await client.get("/api/v1/flow-runs")).json()
    assert everything["total"] == 6
    assert everything["next_page"] is None
    bad = await client.get("/api/v1/flow-runs", params={"cursor": "garbage"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "cursor"


async def test_phase_filter_and_cancel_by_upsert(app: FastAPI, client: httpx.AsyncClient) -> None:
    slow = await add_flow(app, delayed(30), name="slow")
    run = (await client.post("/api/v1/flow-runs", json={"flowId": slow})).json()
    await until_phase(client, run["id"], "running")
    running = (await client.get("/api/v1/flow-runs", params={"phase": "running"})).json()
    assert [r["id"] for r in running["items"]] == [run["id"]]
    resp = await client.put(
        f"/api/v1/flow-runs/{run['id']}",
        json={"flowId": slow, "flowType": "automation", "phase": "cancelled"},
    )
    assert resp.status_code == 200, resp.text
    final = await until_phase(client, run["id"], "cancelled")
    assert final["endTime"]
    assert final["logs"][-1]["level"] == "error"
    again = await client.put(
        f"/api/v1/flow-runs/{run['id']}",
        json={"flowId": slow, "flowType": "automation", "phase": "running"},
    )
    assert again.status_code == 409
    assert again.json()["field"] == "phase"


async def test_upsert_creates_with_the_path_id_then_updates_tags(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    run_id = str(uuid.uuid4())
    body = {"flowId": flow_id, "flowType": "automation", "args": {"input_value": "put"}}
    created = await client.put(f"/api/v1/flow-runs/{run_id}", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == run_id
    done = await until_phase(client, run_id, "succeeded")
    assert done["outputs"] == {"out": {"message": "put"}}
    # A client may send back the whole record it read: server-kept fields are ignored.
    done["tags"] = [{"key": "reviewed", "value": "yes"}]
    updated = await client.put(f"/api/v1/flow-runs/{run_id}", json=done)
    assert updated.status_code == 200, updated.text
    assert updated.json()["tags"] == [{"key": "reviewed", "value": "yes"}]
    assert updated.json()["updatedBy"] == done["createdBy"]
    changed = await client.put(
        f"/api/v1/flow-runs/{run_id}", json={**body, "args": {"input_value": "other"}}
    )
    assert changed.status_code == 409
    assert changed.json()["field"] == "args"
    mismatch = await client.put(f"/api/v1/flow-runs/{run_id}", json={**body, "id": "other-id"})
    assert mismatch.status_code == 400
    assert mismatch.json()["field"] == "id"
    taken = await client.post("/api/v1/flow-runs", json={"flowId": flow_id, "id": run_id})
    assert taken.status_code == 409
    assert taken.json()["field"] == "id"


async def test_approving_a_waiting_run_records_the_reviewer(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, APPROVAL, name="gate")
    run = (
        await client.post(
            "/api/v1/flow-runs", json={"flowId": flow_id, "args": {"input_value": "ship it"}}
        )
    ).json()
    await until_phase(client, run["id"], "waiting")
    resp = await client.put(
        f"/api/v1/flow-runs/{run['id']}",
        json={"flowId": flow_id, "flowType": "automation", "phase": "running"},
    )
    assert resp.status_code == 200, resp.text
    done = await until_phase(client, run["id"], "succeeded")
    assert done["reviewedBy"] == done["createdBy"]
    assert done["reviewedAt"]
    assert done["outputs"] == {"out": {"message": "ship it"}}


async def test_delete_only_finished_runs(app: FastAPI, client: httpx.AsyncClient) -> None:
    slow = await add_flow(app, delayed(30), name="slow")
    run = (await client.post("/api/v1/flow-runs", json={"flowId": slow})).json()
    await until_phase(client, run["id"], "running")
    busy = await client.delete(f"/api/v1/flow-runs/{run['id']}")
    assert busy.status_code == 409
    await client.put(
        f"/api/v1/flow-runs/{run['id']}",
        json={"flowId": slow, "flowType": "automation", "phase": "cancelled"},
    )
    await until_phase(client, run["id"], "cancelled")
    gone = await client.delete(f"/api/v1/flow-runs/{run['id']}")
    assert gone.status_code == 200
    assert (await client.get(f"/api/v1/flow-runs/{run['id']}")).status_code == 404
    assert (await client.delete(f"/api/v1/flow-runs/{run['id']}")).status_code == 404


async def test_auth_and_privacy(
    app: FastAPI,
    anon: httpx.AsyncClient,
    client: httpx.AsyncClient,
    make_user: Any,
    tenant: TenantWorld,
) -> None:
    flow_id = await add_flow(app, ECHO)
    assert (await anon.get("/api/v1/flow-runs")).status_code == 401
    assert (await anon.post("/api/v1/flow-runs", json={"flowId": flow_id})).status_code == 401
    run = (await client.post("/api/v1/flow-runs", json={"flowId": flow_id})).json()
    await until_phase(client, run["id"], "succeeded")
    bob = await make_user("bob")
    assert (await bob.get(f"/api/v1/flow-runs/{run['id']}")).status_code == 404
    assert (await bob.delete(f"/api/v1/flow-runs/{run['id']}")).status_code == 404
    assert (await bob.get("/api/v1/flow-runs")).json()["total"] == 0
    # Bob cannot run admin's flow, nor take over admin's run id.
    assert (await bob.post("/api/v1/flow-runs", json={"flowId": flow_id})).status_code == 404
    bobs_flow = await add_flow(app, ECHO, name="bobs", username=tenant.last_name)
    hijack = await bob.put(
        f"/api/v1/flow-runs/{run['id']}", json={"flowId": bobs_flow, "flowType": "automation"}
    )
    assert hijack.status_code == 403
    own = (await bob.post("/api/v1/flow-runs", json={"flowId": bobs_flow})).json()
    await until_phase(bob, own["id"], "succeeded")
    assert [r["id"] for r in (await bob.get("/api/v1/flow-runs")).json()["items"]] == [own["id"]]
