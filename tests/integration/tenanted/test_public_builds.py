"""Public builds serve only the runs they started, for the client that started them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import ECHO, add_flow, delayed, ndjson

pytestmark = pytest.mark.asyncio(loop_scope="module")


def public_client(app: FastAPI, client_id: str | None) -> httpx.AsyncClient:
    cookies = {"client_id": client_id} if client_id else None
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", cookies=cookies)


async def _private_runs(client: httpx.AsyncClient, flow_id: str) -> list[str]:
    """Run ids of every private kind: a build, a simplified run, a v2 job."""
    build = await client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {}})
    run = await client.post(f"/api/v1/webhook/{flow_id}", json={})
    job = await client.post("/api/v2/workflows", json={"flow_id": flow_id, "background": True})
    assert build.status_code == 200, build.text
    assert job.status_code in (200, 201, 202), job.text
    ids = [build.json()["job_id"], job.json()["job_id"]]
    runs = (await client.get("/api/v1/runs/", params={"flow_id": flow_id})).json()
    items = runs["items"] if isinstance(runs, dict) else runs
    ids += [item["id"] for item in items]
    assert run.status_code == 202
    return sorted(set(ids))


async def test_public_routes_refuse_private_runs(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO, access_type="PUBLIC")
    ids = await _private_runs(client, flow_id)
    assert len(ids) >= 3
    for cookie in (None, "", "some-client"):
        async with public_client(app, cookie) as anyone:
            for run_id in ids:
                events = await anyone.get(
                    f"/api/v1/build_public_tmp/{run_id}/events",
                    params={"event_delivery": "polling"},
                )
                assert events.status_code == 404, (cookie, run_id, events.text)
                cancel = await anyone.post(f"/api/v1/build_public_tmp/{run_id}/cancel")
                assert cancel.status_code == 404, (cookie, run_id, cancel.text)


async def test_public_builds_belong_to_their_client(app: FastAPI) -> None:
    flow_id = await add_flow(app, delayed(30), access_type="PUBLIC")
    async with public_client(app, "alice") as alice, public_client(app, "mallory") as mallory:
        started = await alice.post(f"/api/v1/build_public_tmp/{flow_id}/flow", json={})
        assert started.status_code == 200, started.text
        job_id = started.json()["job_id"]
        path = f"/api/v1/build_public_tmp/{job_id}"
        assert (await mallory.get(f"{path}/events")).status_code == 404
        assert (await mallory.post(f"{path}/cancel")).status_code == 404
        async with public_client(app, None) as nobody:
            assert (await nobody.get(f"{path}/events")).status_code == 404
            assert (await nobody.post(f"{path}/cancel")).status_code == 404
        cancelled = await alice.post(f"{path}/cancel")
        assert cancelled.json()["success"] is True


async def test_a_public_build_needs_a_public_flow(app: FastAPI) -> None:
    flow_id = await add_flow(app, ECHO)  # PRIVATE by default
    async with public_client(app, "alice") as alice:
        resp = await alice.post(f"/api/v1/build_public_tmp/{flow_id}/flow", json={})
        assert resp.status_code == 404


async def test_polling_readers_do_not_take_each_others_events(
    app: FastAPI, client: httpx.AsyncClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    bob = await make_user("bob")
    bob_name = (await bob.get("/api/v1/users/whoami")).json()["username"]
    flow_id = await add_flow(app, ECHO, username=bob_name)
    started = await bob.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {}})
    job_id = started.json()["job_id"]
    for _ in range(200):
        if (await bob.get(f"/api/v1/runs/{job_id}")).json()["state"] == "completed":
            break
        await asyncio.sleep(0.02)

    async def poll_all(reader: httpx.AsyncClient) -> list[str]:
        seen: list[str] = []
        for _ in range(10):
            resp = await reader.get(
                f"/api/v1/build/{job_id}/events", params={"event_delivery": "polling"}
            )
            seen += [event["event"] for event in ndjson(resp.content)]
            if "end" in seen:
                break
        return seen

    # The tenant's superuser reads bob's run first; bob still gets every event after.
    by_admin = await poll_all(client)
    by_bob = await poll_all(bob)
    assert by_admin == by_bob
    assert "vertices_sorted" in by_bob
    assert by_bob.count("end") == 1


async def test_no_public_build_while_public_flows_are_off(app: FastAPI) -> None:
    """FLOWDECK_PUBLIC_FLOWS=false closes every public route of a flow, not its read alone."""
    flow_id = await add_flow(app, ECHO, access_type="PUBLIC")
    settings = app.state.services.settings
    settings.public_flows = False
    try:
        async with public_client(app, "alice") as alice:
            started = await alice.post(f"/api/v1/build_public_tmp/{flow_id}/flow", json={})
            assert started.status_code == 403, started.text
            messages = await alice.get(f"/api/v1/build_public_tmp/{flow_id}/messages")
            assert messages.status_code == 403, messages.text
            read = await alice.get(f"/api/v1/flows/public_flow/{flow_id}")
            assert read.status_code == 403, read.text
    finally:
        settings.public_flows = True
    async with public_client(app, "alice") as alice:
        started = await alice.post(f"/api/v1/build_public_tmp/{flow_id}/flow", json={})
        assert started.status_code == 200, started.text
