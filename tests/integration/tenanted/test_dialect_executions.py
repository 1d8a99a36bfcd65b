"""The executions (polling) dialect over HTTP, at /api/v1/executions and at {prefix}/flows."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowdeck.api.app import create_app
from flowdeck.settings import Settings
from tests.conftest import ADMIN, login
from tests.integration.api.test_runs import ECHO, add_flow, delayed

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIELDS = {
    "id",
    "template",
    "state",
    "progress",
    "created_at",
    "started_at",
    "finished_at",
    "parameters",
    "metadata",
    "error",
}
TERMINAL = ("completed", "failed", "aborted")


async def poll(client: httpx.AsyncClient, url: str, *states: str) -> dict[str, Any]:
    """The seed's polling pattern: read the execution until its state is one of `states`."""
    status: dict[str, Any] = {}
    for _ in range(250):
        resp = await client.get(url)
        assert resp.status_code == 200, resp.text
        status = resp.json()
        if status["state"] in states:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError(f"{url} never reached {states}: {status.get('state')}")


@pytest.mark.parametrize("base", ["/api/v1/executions", "/x/flows"])
async def test_create_poll_until_terminal_then_outputs(
    app: FastAPI, client: httpx.AsyncClient, base: str
) -> None:
    flow_id = await add_flow(app, ECHO)
    resp = await client.post(
        base,
        json={
            "template": flow_id,
            "parameters": {"input_value": "polled"},
            "metadata": {"ticket": 42},
        },
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert set(created) == FIELDS
    assert created["template"] == flow_id
    assert created["state"] in ("starting", "running", "completed")
    status = await poll(client, f"{base}/{created['id']}", *TERMINAL)
    assert status["state"] == "completed"
    assert status["progress"] == 1.0
    assert status["started_at"]
    assert status["finished_at"]
    assert status["parameters"] == {"input_value": "polled"}
    assert status["metadata"] == {"ticket": 42}
    outputs = (await client.get(f"{base}/{created['id']}/outputs")).json()
    assert outputs == {
        "id": created["id"],
        "state": "completed",
        "outputs": {"out": {"message": "polled"}},
    }


async def test_created_waits_for_start(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO, name="later")
    resp = await client.post(
        "/x/flows",
        json={"template": "later", "parameters": {"input_value": "go"}, "start": False},
    )
    assert resp.status_code == 201, resp.text
    execution = resp.json()
    assert execution["state"] == "created"
    assert execution["template"] == flow_id
    await asyncio.sleep(0.1)  # a worker would have taken it by now, had it been submitted
    url = f"/api/v1/executions/{execution['id']}"
    held = (await client.get(url)).json()
    assert held["state"] == "created"
    assert held["started_at"] is None
    created = await client.get("/api/v1/executions", params={"state": "created"})
    assert [e["id"] for e in created.json()["items"]] == [execution["id"]]
    early = await client.get(f"{url}/outputs")
    assert early.status_code == 409
    started = await client.patch(url, json={"action": "start"})
    assert started.status_code == 200, started.text
    assert started.json()["state"] in ("starting", "running", "completed")
    done = await poll(client, url, *TERMINAL)
    assert done["state"] == "completed"
    twice = await client.patch(url, json={"action": "start"})
    assert twice.status_code == 409
    assert twice.json()["field"] == "action"
    none_left = await client.get("/api/v1/executions", params={"state": "created"})
    assert none_left.json()["total"] == 0


async def test_start_under_a_paused_flow_waits_for_resume(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    execution = (await client.post("/x/flows", json={"template": flow_id, "start": False})).json()
    url = f"/x/flows/{execution['id']}"
    pause = await client.patch("/flows/commands", json={"command": "pause", "flow_ids": [flow_id]})
    assert pause.status_code == 200, pause.text
    started = (await client.patch(url, json={"action": "start"})).json()
    assert started["state"] == "starting"
    await asyncio.sleep(0.1)
    assert (await client.get(url)).json()["state"] == "starting"
    resume = await client.patch(
        "/flows/commands", json={"command": "resume", "flow_ids": [flow_id]}
    )
    assert resume.status_code == 200, resume.text
    assert (await poll(client, url, *TERMINAL))["state"] == "completed"


async def test_abort_running_and_created(app: FastAPI, client: httpx.AsyncClient) -> None:
    await add_flow(app, delayed(30), name="slow")
    running = (await client.post("/api/v1/executions", json={"template": "slow"})).json()
    url = f"/api/v1/executions/{running['id']}"
    await poll(client, url, "running")
    resp = await client.patch(url, json={"action": "abort"})
    assert resp.status_code == 200, resp.text
    final = await poll(client, url, *TERMINAL)
    assert final["state"] == "aborted"
    assert final["error"]
    assert final["finished_at"]
    again = await client.patch(url, json={"action": "abort"})
    assert again.status_code == 409
    held = (
        await client.post("/api/v1/executions", json={"template": "slow", "start": False})
    ).json()
    aborted = await client.patch(f"/api/v1/executions/{held['id']}", json={"action": "abort"})
    assert aborted.json()["state"] == "aborted"
    listing = (await client.get("/api/v1/executions", params={"state": "aborted"})).json()
    assert {e["id"] for e in listing["items"]} == {running["id"], held["id"]}


async def test_metadata_patch_and_pages(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    ids = [
        (
            await client.post("/api/v1/executions", json={"template": flow_id, "start": False})
        ).json()["id"]
        for _ in range(3)
    ]
    patched = await client.patch(f"/x/flows/{ids[0]}", json={"metadata": {"owner": "ops"}})
    assert patched.json()["metadata"] == {"owner": "ops"}
    assert patched.json()["state"] == "created"
    first = (await client.get("/x/flows", params={"size": 2, "template": flow_id})).json()
    assert first["total"] == 3
    second = (
        await client.get(
            "/x/flows", params={"size": 2, "template": flow_id, "cursor": first["next_page"]}
        )
    ).json()
    seen = [e["id"] for e in first["items"] + second["items"]]
    assert seen == list(reversed(ids))
    assert second["next_page"] is None
    assert second["previous_page"]


async def test_bad_input_names_the_field(app: FastAPI, client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/v1/executions", json={"template": "nope"})
    assert missing.status_code == 404
    assert missing.json()["field"] == "template"
    flow_id = await add_flow(app, ECHO)
    bad = await client.post(
        "/api/v1/executions", json={"template": flow_id, "parameters": {"input_type": "x"}}
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "parameters.input_type"
    no_template = await client.post("/api/v1/executions", json={"parameters": {}})
    assert no_template.status_code == 422
    assert "template" in no_template.json()["message"]
    run_id = (await client.post("/api/v1/executions", json={"template": flow_id})).json()["id"]
    empty = await client.patch(f"/api/v1/executions/{run_id}", json={})
    assert empty.status_code == 422
    wrong = await client.patch(f"/api/v1/executions/{run_id}", json={"action": "explode"})
    assert wrong.status_code == 422
    assert "action" in wrong.json()["message"]
    unknown_state = await client.get("/api/v1/executions", params={"state": "sleeping"})
    assert unknown_state.status_code == 422


async def test_auth_and_privacy(
    app: FastAPI, anon: httpx.AsyncClient, client: httpx.AsyncClient, make_user: Any
) -> None:
    flow_id = await add_flow(app, ECHO)
    assert (await anon.get("/api/v1/executions")).status_code == 401
    assert (await anon.post("/x/flows", json={"template": flow_id})).status_code == 401
    run_id = (await client.post("/x/flows", json={"template": flow_id})).json()["id"]
    await poll(client, f"/x/flows/{run_id}", *TERMINAL)
    assert (await anon.get(f"/x/flows/{run_id}")).status_code == 401
    bob = await make_user("bob")
    assert (await bob.get(f"/x/flows/{run_id}")).status_code == 404
    assert (await bob.get(f"/api/v1/executions/{run_id}/outputs")).status_code == 404
    abort = await bob.patch(f"/api/v1/executions/{run_id}", json={"action": "abort"})
    assert abort.status_code == 404
    assert (await bob.post("/x/flows", json={"template": flow_id})).status_code == 404
    assert (await bob.get("/x/flows")).json()["total"] == 0


async def test_prefix_is_a_setting(settings: Settings) -> None:
    custom = create_app(settings.model_copy(update={"executions_prefix": "/poll"}))
    async with (
        custom.router.lifespan_context(custom),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=custom), base_url="http://t") as c,
    ):
        c.headers["Authorization"] = f"Bearer {await login(c, *ADMIN)}"
        flow_id = await add_flow(custom, ECHO, username=ADMIN[0])
        resp = await c.post("/poll/flows", json={"template": flow_id})
        assert resp.status_code == 201, resp.text
        await poll(c, f"/poll/flows/{resp.json()['id']}", *TERMINAL)
        assert (await c.get("/x/flows")).status_code == 404
        assert (await c.get(f"/api/v1/executions/{resp.json()['id']}")).status_code == 200
