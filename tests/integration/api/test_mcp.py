"""Flows as MCP tools: the real `mcp` client over SSE and streamable HTTP against a real
flowdeck server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from tests.integration.api.mcp_support import (
    JOIN,
    api_key,
    endpoint,
    make_flow,
    mcp_session,
    serve,
    slow,
)
from tests.integration.api.test_privileges import rebind

from flowdeck.access.catalog import VIEWER
from flowdeck.api.app import create_app
from flowdeck.db.models import Flow
from flowdeck.settings import Settings

pytestmark = pytest.mark.timeout(120)
TRANSPORTS = ["streamable", "sse"]


async def _runs(client: httpx.AsyncClient, flow_id: str) -> list[dict[str, Any]]:
    found = await client.get("/api/v1/runs/", params={"flow_id": flow_id})
    assert found.status_code == 200, found.text
    runs: list[dict[str, Any]] = found.json()
    return runs


async def _wait_run(client: httpx.AsyncClient, flow_id: str, states: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        runs = await _runs(client, flow_id)
        if runs and runs[0]["state"] in states:
            return runs[0]
        assert time.monotonic() < deadline, f"no run of {flow_id} reached {states}: {runs}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_flow_is_a_tool_whose_call_is_a_recorded_run(
    app: FastAPI, client: httpx.AsyncClient, transport: str
) -> None:
    flow_id = await make_flow(
        client, "Join Two", JOIN, action_name="Join it!", action_description="Joins two texts"
    )
    await make_flow(client, "Plain", slow(0), description="waits for nothing")
    await make_flow(client, "Hidden", JOIN, mcp_enabled=False)
    headers = {"x-api-key": await api_key(client)}
    async with serve(app) as base, mcp_session(endpoint(base, transport), headers, transport) as s:
        tools = {t.name: t for t in (await s.list_tools()).tools}
        assert set(tools) == {"join_it", "plain"}
        join = tools["join_it"]
        assert join.description == "Joins two texts"
        assert tools["plain"].description == "waits for nothing"
        assert set(join.input_schema["properties"]) == {"text_input", "text_input_2"}
        assert tools["plain"].input_schema["required"] == ["input_value"]

        seen: list[tuple[float, float | None, str | None]] = []

        async def progress(done: float, total: float | None, message: str | None) -> None:
            seen.append((done, total, message))

        result = await s.call_tool(
            "join_it", {"text_input": "left", "text_input_2": "right"}, progress_callback=progress
        )
        assert not result.is_error, result
        assert [c.text for c in result.content] == ["left + right"]  # type: ignore[union-attr]
        assert seen
        assert seen[-1][0] == seen[-1][1] == 4.0

        bad = await s.call_tool("join_it", {"nope": "x"})
        assert bad.is_error
        assert "nope" in bad.content[0].text  # type: ignore[union-attr]
        missing = await s.call_tool("no_such_tool", {})
        assert missing.is_error

    run = (await _runs(client, flow_id))[0]
    assert run["trigger"] == "mcp"
    assert run["state"] == "completed"
    assert run["request"]["inputs"] == {
        "first": {"input_value": "left"},
        "second": {"input_value": "right"},
    }
    # A run like any other: every run view shows it.
    flow_runs = await client.get("/api/v1/flow-runs", params={"flowId": flow_id})
    assert run["id"] in [item["id"] for item in flow_runs.json()["items"]]
    executions = await client.get("/api/v1/executions")
    assert run["id"] in [item["id"] for item in executions.json()["items"]]


async def test_auto_login_lets_a_client_in_without_credentials(settings: Settings) -> None:
    opened = create_app(settings.model_copy(update={"auto_login": True}))
    async with opened.router.lifespan_context(opened):
        transport = httpx.ASGITransport(app=opened)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            await make_flow(c, "Join", JOIN)
            async with serve(opened) as base, mcp_session(endpoint(base, "streamable"), {}) as s:
                result = await s.call_tool("join", {"text_input": "x", "text_input_2": "y"})
            assert result.content[0].text == "x + y"  # type: ignore[union-attr]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_cancelling_a_long_call_cancels_its_run(
    app: FastAPI, client: httpx.AsyncClient, transport: str
) -> None:
    flow_id = await make_flow(client, "Slow", slow(60))
    headers = {"x-api-key": await api_key(client)}
    async with serve(app) as base, mcp_session(endpoint(base, transport), headers, transport) as s:
        call = asyncio.create_task(s.call_tool("slow", {"input_value": "x"}))
        await _wait_run(client, flow_id, {"running"})
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        run = await _wait_run(client, flow_id, {"cancelled"})
        assert run["trigger"] == "mcp"
        # The session goes on serving after a cancel.
        assert [t.name for t in (await s.list_tools()).tools] == ["slow"]


async def test_a_call_over_its_time_limit_fails(settings: Settings) -> None:
    limited = create_app(settings.model_copy(update={"mcp_call_timeout": 0.3}))
    async with limited.router.lifespan_context(limited):
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            login = await c.post(
                "/api/v1/login",
                data={"username": settings.superuser, "password": settings.superuser_password},
            )
            c.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            flow_id = await make_flow(c, "Slow", slow(30))
            headers = {"x-api-key": await api_key(c)}
            async with (
                serve(limited) as base,
                mcp_session(endpoint(base, "streamable"), headers) as s,
            ):
                result = await s.call_tool("slow", {"input_value": "x"})
            assert result.is_error
            assert "time limit" in result.content[0].text  # type: ignore[union-attr]
            assert (await _runs(c, flow_id))[0]["state"] == "failed"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_project_serves_its_own_flows(
    app: FastAPI, client: httpx.AsyncClient, transport: str
) -> None:
    made = await client.post("/api/v1/projects/", json={"name": "tools"})
    assert made.status_code == 201, made.text
    project_id = made.json()["id"]
    await make_flow(client, "In Project", JOIN, folder_id=project_id)
    await make_flow(client, "Elsewhere", JOIN)
    headers = {"x-api-key": await api_key(client)}
    async with serve(app) as base:
        url = endpoint(base, transport, project_id)
        async with mcp_session(url, headers, transport) as s:
            assert [t.name for t in (await s.list_tools()).tools] == ["in_project"]
            result = await s.call_tool("in_project", {"text_input": "a", "text_input_2": "b"})
            assert result.content[0].text == "a + b"  # type: ignore[union-attr]
            assert (await s.call_tool("elsewhere", {})).is_error
        async with httpx.AsyncClient(headers=headers) as http:
            gone = await http.get(
                endpoint(base, transport, "0" * 8 + "-0000-0000-0000-" + "0" * 12)
            )
            assert gone.status_code == 404


async def test_the_tools_follow_every_change_to_their_flows(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Tools are read from kept flows while their rows are unchanged: an edit, a flow no
    longer served as a tool and a deleted flow show in the very next list and call."""
    join = await make_flow(client, "Join", JOIN)
    plain = await make_flow(client, "Plain", slow(0))
    gone = await make_flow(client, "Gone", slow(0))
    headers = {"x-api-key": await api_key(client)}
    async with serve(app) as base, mcp_session(endpoint(base, "streamable"), headers) as s:
        assert [t.name for t in (await s.list_tools()).tools] == ["gone", "join", "plain"]
        renamed = await client.patch(
            f"/api/v1/flows/{join}", json={"action_name": "glue", "action_description": "Glues"}
        )
        assert renamed.status_code == 200, renamed.text
        hidden = await client.patch(f"/api/v1/flows/{plain}", json={"mcp_enabled": False})
        assert hidden.status_code == 200, hidden.text
        assert (await client.delete(f"/api/v1/flows/{gone}")).status_code in (200, 204)
        tools = (await s.list_tools()).tools
        assert [(t.name, t.description) for t in tools] == [("glue", "Glues")]
        assert (await s.call_tool("join", {"text_input": "a", "text_input_2": "b"})).is_error
        assert (await s.call_tool("plain", {"input_value": "x"})).is_error
        result = await s.call_tool("glue", {"text_input": "a", "text_input_2": "b"})
        assert result.content[0].text == "a + b"  # type: ignore[union-attr]


async def test_no_credentials_no_mcp(app: FastAPI, client: httpx.AsyncClient) -> None:
    await make_flow(client, "Join", JOIN)
    token = client.headers["Authorization"][7:]
    async with (
        serve(app) as base,
        httpx.AsyncClient(base_url=base) as anon,
        httpx.AsyncClient(base_url=base, cookies={"access_token_lf": token}) as cookie_only,
    ):
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        answers = {
            "sse": await anon.get("/api/v1/mcp/sse"),
            "head": await anon.head("/api/v1/mcp/sse"),
            "messages": await anon.post("/api/v1/mcp/?session_id=" + "0" * 32, json={}),
            "streamable": await anon.post("/api/v1/mcp/streamable", json=initialize),
            "cookie only": await cookie_only.post("/api/v1/mcp/streamable", json=initialize),
            "bad key": await anon.get("/api/v1/mcp/sse", headers={"x-api-key": "sk-nope"}),
        }
    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 401)


async def test_tools_are_the_callers_flows_in_the_acting_tenant(
    app: FastAPI, client: httpx.AsyncClient, make_user
) -> None:  # type: ignore[no-untyped-def]
    await make_flow(client, "Admins", JOIN)
    dave = await make_user("dave")
    await make_flow(dave, "Daves", JOIN)
    dave_key = {"x-api-key": await api_key(dave)}
    other = await client.post("/api/v1/tenants/", json={"tenant_name": "elsewhere"})
    assert other.status_code == 201, other.text
    bearer = {"Authorization": client.headers["Authorization"]}
    async with serve(app) as base:
        async with mcp_session(endpoint(base, "streamable"), dave_key) as s:
            assert [t.name for t in (await s.list_tools()).tools] == ["daves"]
            assert (await s.call_tool("admins", {})).is_error
        # The tenant administrator sees the whole tenant; in another tenant, nothing.
        async with mcp_session(endpoint(base, "sse"), bearer, "sse") as s:
            assert [t.name for t in (await s.list_tools()).tools] == ["admins", "daves"]
        in_other = {**bearer, "Tenant-Id": other.json()["tenant_id"]}
        async with mcp_session(endpoint(base, "streamable"), in_other) as s:
            assert (await s.list_tools()).tools == []

        # A viewer reads MCP but may not run flows: no tools, and no call runs.
        await rebind(app, "dave", VIEWER)
        async with mcp_session(endpoint(base, "streamable"), dave_key) as s:
            assert (await s.list_tools()).tools == []
            assert (await s.call_tool("daves", {})).is_error
        # No role holding MCP READ: refused before any MCP message.
        await rebind(app, "dave")
        async with httpx.AsyncClient(headers=dave_key) as http:
            refused = await http.get(endpoint(base, "sse"))
        assert refused.status_code == 403


async def test_a_call_answers_json_unless_it_asks_for_progress(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The transport lets the server answer a request with one JSON object or a stream; the
    stream is kept for the calls whose progress notifications need it."""
    await make_flow(client, "Plain", slow(0))
    headers = {
        "x-api-key": await api_key(client),
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18",
    }
    call: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "plain", "arguments": {"input_value": "hi"}},
    }
    async with serve(app) as base, httpx.AsyncClient(base_url=base, headers=headers) as http:
        url = "/api/v1/mcp/streamable/"
        plain = await http.post(url, json=call)
        assert plain.status_code == 200, plain.text
        assert plain.headers["content-type"].startswith("application/json")
        answer = plain.json()
        assert answer["id"] == 7
        assert answer["result"]["content"][0]["text"] == "hi"

        call["params"]["_meta"] = {"progressToken": "p1"}
        streamed = await http.post(url, json=call)
        assert streamed.status_code == 200, streamed.text
        assert streamed.headers["content-type"].startswith("text/event-stream")
        assert '"notifications/progress"' in streamed.text
        assert '"progressToken":"p1"' in streamed.text.replace(" ", "")
        assert '"text":"hi"' in streamed.text.replace(" ", "")


async def test_a_flow_that_breaks_renames_no_other_tool(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Tool names are given in name order to every tool flow, callable or not: of two flows
    whose action is "echo", the second stays echo_2 while the first does not compile."""
    first = await make_flow(client, "Echo", slow(0), action_name="echo")
    await make_flow(client, "Echo again", slow(0), action_name="echo")
    # As a flow saved before its component was removed: refused on save, so set in place.
    broken = {"nodes": [{"id": "x", "type": "NoSuchComponent"}], "edges": []}
    async with app.state.services.db.session() as session:
        await session.execute(update(Flow).where(Flow.id == first).values(data=broken))
        await session.commit()
    headers = {"x-api-key": await api_key(client)}
    async with serve(app) as base, mcp_session(endpoint(base, "streamable"), headers) as s:
        assert [t.name for t in (await s.list_tools()).tools] == ["echo_2"]
        result = await s.call_tool("echo_2", {"input_value": "hi"})
        assert not result.is_error, result
        assert result.content[0].text == "hi"  # type: ignore[union-attr]
        assert (await s.call_tool("echo", {"input_value": "hi"})).is_error
