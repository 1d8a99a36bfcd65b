"""The server's hot paths: API-key runs, many concurrent sync runs, caches that stay correct."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import ECHO, add_flow, delayed

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_api_key_starts_a_run_and_counts_its_uses(
    app: FastAPI, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    # The key's use count must not hold SQLite's write lock while the run is stored.
    flow_id = await add_flow(app, ECHO)
    key = (await client.post("/api/v1/api_key/", json={"name": "ci"})).json()["api_key"]
    for text in ("one", "two"):
        resp = await anon.post(
            f"/api/v1/run/{flow_id}", json={"input_value": text}, headers={"x-api-key": key}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == text
    hook = await anon.post(f"/api/v1/webhook/{flow_id}", json={}, headers={"x-api-key": key})
    assert hook.status_code == 202, hook.text
    listed = (await client.get("/api/v1/api_key/")).json()["api_keys"]
    assert listed[0]["total_uses"] == 3
    assert listed[0]["last_used_at"] is not None


async def test_forty_concurrent_sync_runs(app: FastAPI, client: httpx.AsyncClient) -> None:
    # More than the pool's base size wait at once: no request may hold a connection while
    # its run executes.
    flow_id = await add_flow(app, delayed(0.3))
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/run/{flow_id}", json={"input_value": f"n{i}"}, timeout=60)
            for i in range(40)
        )
    )
    assert [a.status_code for a in answers] == [200] * 40, answers[0].text
    texts = {a.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] for a in answers}
    assert texts == {f"n{i}" for i in range(40)}
    for answer in answers[:3]:
        record = (await client.get(f"/api/v1/runs/{answer.json()['run_id']}")).json()
        assert record["state"] == "completed"


async def test_deactivated_user_is_refused_at_once(
    client: httpx.AsyncClient, make_user: object
) -> None:
    bob = await make_user("bob")  # type: ignore[operator]
    me = (await bob.get("/api/v1/users/whoami")).json()
    assert (await bob.get("/api/v1/users/whoami")).status_code == 200  # now cached
    resp = await client.patch(f"/api/v1/users/{me['id']}", json={"is_active": False})
    assert resp.status_code == 200, resp.text
    assert (await bob.get("/api/v1/users/whoami")).status_code == 401


async def test_runs_see_flow_changes_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO, name="changing")
    first = await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "a"})
    assert first.status_code == 200
    renamed = await client.patch(f"/api/v1/flows/{flow_id}", json={"endpoint_name": "renamed"})
    assert renamed.status_code == 200, renamed.text
    by_name = await client.post("/api/v1/run/renamed", json={"input_value": "b"})
    assert by_name.status_code == 200, by_name.text
    assert (await client.delete(f"/api/v1/flows/{flow_id}")).status_code in (200, 204)
    gone = await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "c"})
    assert gone.status_code == 404
