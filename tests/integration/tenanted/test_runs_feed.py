"""The runs feed (`GET /api/v1/runs/events`) and checking a flow without saving it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import ECHO, add_flow
from tests.integration.tenanted.test_staged_runs import _versioned, greeting
from tests.tenancy import TenantWorld, new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Feed:
    """The SSE stream of one client, read at the ASGI level: httpx's ASGI transport waits
    for a whole body, and this one never ends."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.status = 0
        self.gone = asyncio.Event()
        self._buffer = b""

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            return
        self._buffer += message.get("body", b"")
        while b"\n\n" in self._buffer:
            block, self._buffer = self._buffer.split(b"\n\n", 1)
            fields = dict(
                line.split(b": ", 1) for line in block.split(b"\n") if not line.startswith(b":")
            )
            if fields:
                await self.events.put((fields[b"event"].decode(), orjson.loads(fields[b"data"])))

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def next(self, seconds: float = 10) -> tuple[str, dict[str, Any]]:
        return await asyncio.wait_for(self.events.get(), seconds)

    async def of_run(self, run_id: str, until: str) -> list[dict[str, Any]]:
        """This run's changes, up to the one saying it is in state `until`."""
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1].get("state") != until:
            name, data = await self.next()
            if name == "run" and data["run_id"] == run_id:
                seen.append(data)
        return seen

    def quiet(self) -> list[tuple[str, dict[str, Any]]]:
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        return found


@contextlib.asynccontextmanager
async def feed(app: FastAPI, client: httpx.AsyncClient, tenant_id: str) -> AsyncIterator[Feed]:
    stream = Feed()
    headers = [(b"authorization", client.headers["Authorization"].encode())]
    headers.append((b"tenant-id", tenant_id.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/runs/events",
        "raw_path": b"/api/v1/runs/events",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    task = asyncio.create_task(app(scope, stream.receive, stream.send))
    try:
        name, _ = await stream.next()
        assert (stream.status, name) == (200, "ready")
        yield stream
    finally:
        stream.gone.set()
        await asyncio.wait_for(task, 5)


async def webhook_run(client: httpx.AsyncClient, flow_id: str) -> str:
    resp = await client.post(f"/api/v1/webhook/{flow_id}", json={"input_value": "hi"})
    assert resp.status_code == 202, resp.text
    run_id: str = resp.json()["run_id"]
    return run_id


async def test_feed_tells_each_state_and_step(
    app: FastAPI, client: httpx.AsyncClient, tenant: TenantWorld
) -> None:
    flow_id = await add_flow(app, ECHO, name="fed", webhook=True)
    async with feed(app, client, tenant.id) as stream:
        run_id = await webhook_run(client, flow_id)
        changes = await stream.of_run(run_id, "completed")
    # The reader that went away left the bus (nothing is queued for it any more).
    assert not app.state.services.bus._feed.has_readers(tenant.id)
    states = [c["state"] for c in changes if "state" in c]
    assert states[0] == "queued"
    assert "running" in states
    assert states[-1] == "completed"
    steps = [(c["step"]["id"], c["step"]["state"]) for c in changes if "step" in c]
    assert steps == [
        ("in", "running"),
        ("in", "completed"),
        ("out", "running"),
        ("out", "completed"),
    ]
    assert all(c["flow_id"] == flow_id and c["timestamp"] for c in changes)
    assert changes[-1]["progress"] == 1.0


async def test_feed_shows_only_runs_the_reader_may_read(
    app: FastAPI, client: httpx.AsyncClient, tenant: TenantWorld, platform: httpx.AsyncClient
) -> None:
    bob = await tenant.member("developer", name="bob")
    bobs_flow = await add_flow(app, ECHO, name="bobs", username=tenant.last_name, webhook=True)
    admins_flow = await add_flow(app, ECHO, name="admins", webhook=True)
    other = await new_tenant(app, platform)
    async with (
        feed(app, bob, tenant.id) as bobs,
        feed(app, client, tenant.id) as admins,
        feed(app, other.admin, other.id) as outsiders,
    ):
        admins_run = await webhook_run(client, admins_flow)
        bobs_run = await webhook_run(bob, bobs_flow)
        # The tenant's administrator sees every run of the tenant; bob his own only.
        await admins.of_run(admins_run, "completed")
        await admins.of_run(bobs_run, "completed")
        await bobs.of_run(bobs_run, "completed")
        assert {d["run_id"] for _, d in bobs.quiet()} <= {bobs_run}
        assert outsiders.quiet() == []
    for client_ in other.clients:
        await client_.aclose()


async def test_feed_needs_the_runs_read_privilege(
    anon: httpx.AsyncClient, tenant: TenantWorld
) -> None:
    assert (await anon.get("/api/v1/runs/events")).status_code == 401
    nobody = await tenant.member(None, name="norole")
    resp = await nobody.get("/api/v1/runs/events", headers={"Tenant-Id": tenant.id})
    assert resp.status_code == 403


async def test_validate_a_flow_without_saving_it(client: httpx.AsyncClient) -> None:
    fine = await client.post("/api/v1/validate/flow", json={"data": ECHO})
    assert fine.status_code == 200, fine.text
    assert fine.json() == {"valid": True, "errors": []}
    broken = {
        "nodes": [*ECHO["nodes"], {"id": "x", "type": "NoSuchComponent"}],
        "edges": [*ECHO["edges"], {"from": "in.message", "to": "out.nowhere"}],
    }
    found = await client.post("/api/v1/validate/flow", json={"data": broken})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["valid"] is False
    assert {p["node_id"] for p in body["errors"]} >= {"x", "out"}
    assert all(p["message"] for p in body["errors"])
    # Nothing was saved.
    names = [f["name"] for f in (await client.get("/api/v1/flows/")).json()]
    assert names == []
    missing = await client.post("/api/v1/validate/flow", json={})
    assert missing.status_code == 422
    assert "data" in missing.text


async def test_a_runs_graph_is_the_one_that_ran(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await _versioned(app, client)  # v1 Hello (online), v2 Hi, the draft Hey
    body = {"input_value": "there"}
    runs = {
        "v2": await client.post(f"/api/v1/run/release/{flow_id}", params={"v": "v2"}, json=body),
        "draft": await client.post(f"/api/v1/run/dev/{flow_id}", json=body),
    }
    graphs = {}
    for label, resp in runs.items():
        assert resp.status_code == 200, resp.text
        got = await client.get(f"/api/v1/runs/{resp.json()['run_id']}/graph")
        assert got.status_code == 200, got.text
        graphs[label] = got.json()
    assert graphs["v2"]["source"] == "version"
    assert graphs["v2"]["version"] == "v2"
    assert graphs["v2"]["data"] == greeting("Hi")
    assert graphs["draft"]["source"] == "flow"
    assert graphs["draft"]["changed_since"] is False
    edited = await client.patch(f"/api/v1/flows/{flow_id}", json={"data": greeting("Yo")})
    assert edited.status_code == 200, edited.text
    draft_run = runs["draft"].json()["run_id"]
    again = (await client.get(f"/api/v1/runs/{draft_run}/graph")).json()
    assert again["changed_since"] is True
    missing = await client.get("/api/v1/runs/no-such-run/graph")
    assert missing.status_code == 404


async def test_a_person_lists_the_tenants_they_may_act_in(
    app: FastAPI, tenant: TenantWorld, platform: httpx.AsyncClient
) -> None:
    alice = await tenant.member("developer", name="alice")
    name = tenant.last_name
    other = await new_tenant(app, platform)
    mine = await alice.get("/api/v1/users/whoami/tenants")
    assert mine.status_code == 200, mine.text
    assert [(t["tenant_id"], t["is_default"]) for t in mine.json()] == [(tenant.id, True)]
    # A role in a second tenant: alice may act there too, and may list it without privileges.
    bound = await platform.post(
        "/api/v1/tenants/user-roles",
        json={"tenant_id": other.id, "role_id": "developer", "username": name},
        headers={"Tenant-Id": other.id},
    )
    assert bound.status_code == 201, bound.text
    both = {t["tenant_id"]: t for t in (await alice.get("/api/v1/users/whoami/tenants")).json()}
    assert set(both) == {tenant.id, other.id}
    assert both[other.id]["is_default"] is False
    assert both[other.id]["tenant_name"]
    # ...and acting there works with its Tenant-Id.
    there = await alice.get("/api/v1/runs/", headers={"Tenant-Id": other.id})
    assert there.status_code == 200, there.text
    everyone = {t["tenant_id"] for t in (await platform.get("/api/v1/users/whoami/tenants")).json()}
    assert {tenant.id, other.id} <= everyone
    for client_ in other.clients:
        await client_.aclose()
