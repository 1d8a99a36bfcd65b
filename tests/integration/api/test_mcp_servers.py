"""The MCP server registry: real stdio and streamable-HTTP servers, tests and flow steps."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from tests.integration import mcp_server
from tests.integration.api.test_models import build_events
from tests.integration.api.test_tenants import _bind, _tenant
from tests.unit.engine.components._support import closed_port, serve

from flowdeck.settings import Settings

SERVERS = "/api/v2/mcp/servers"
SERVER_SCRIPT = str(Path(mcp_server.__file__).resolve())
GREETING = "hey-secret-greeting "


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Flows may reach 127.0.0.1 and start stdio servers (commands) on this host."""
    return settings.model_copy(
        update={"allow_private_networks": True, "allow_custom_code": True, "mcp_test_timeout": 20}
    )


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """The same MCP server over streamable HTTP, on uvicorn at 127.0.0.1."""
    with serve(mcp_server.app(), lifespan="on") as url:
        yield f"{url}/mcp"


@pytest.fixture(scope="module")
def sse_url() -> Iterator[str]:
    """The same MCP server over the older HTTP+SSE transport."""
    with serve(mcp_server.server.sse_app(), lifespan="on") as url:
        yield f"{url}/sse"


def stdio(**fields: Any) -> dict[str, Any]:
    return {
        "mcp_type": "stdio",
        "command": sys.executable,
        "args": [SERVER_SCRIPT],
        "env": {"TOOL_GREETING": GREETING},
        **fields,
    }


async def add(client: httpx.AsyncClient, name: str, body: dict[str, Any], **kw: Any) -> Any:
    made = await client.post(f"{SERVERS}/{name}", json=body, **kw)
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_stdio_server_registered_tested_changed_and_removed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = await add(client, "tools", stdio(note="local tools", logo="icon.png"))
    assert made["mcp_type"] == made["mode"] == "stdio"
    assert made["env"] == {"TOOL_GREETING": "********"}
    assert made["args"] == [SERVER_SCRIPT]
    assert made["mcp_scope"] == 1
    assert made["business_id"] is None
    assert made["is_active"] is True
    assert made["c_uid"] == made["m_uid"]
    async with app.state.services.db.session() as session:
        raw = (
            await session.execute(text("SELECT env_sealed FROM mcp_servers WHERE name = 'tools'"))
        ).scalar_one()
    assert GREETING.strip() not in raw
    read = await client.get(f"{SERVERS}/tools")
    assert read.status_code == 200
    assert GREETING.strip() not in read.text

    tested = await client.post(f"{SERVERS}/tools/test")
    assert tested.status_code == 200, tested.text
    result = tested.json()
    assert result["success"] is True, result
    assert result["tool_count"] == 3
    assert {t["name"] for t in result["tools"]} == {"add", "shout", "fail"}
    assert result["error"] is None

    await add(client, "other", stdio(args=[SERVER_SCRIPT, "--silent-hang"], is_active=False))
    listed = (await client.get(SERVERS)).json()
    assert [s["name"] for s in listed] == ["other", "tools"]  # newest first
    assert [s["name"] for s in (await client.get(SERVERS, params={"sort_by": "name"})).json()] == [
        "tools",
        "other",
    ]
    asc = await client.get(f"{SERVERS}/", params={"sort_by": "name", "sort_order": "asc"})
    assert [s["name"] for s in asc.json()] == ["other", "tools"]
    assert [s["name"] for s in (await client.get(SERVERS, params={"keyword": "local"})).json()] == [
        "tools"
    ]
    active = await client.get(SERVERS, params={"is_active": "true", "action_count": "true"})
    assert [(s["name"], s["toolsCount"]) for s in active.json()] == [("tools", 3)]
    assert (await client.get(SERVERS, params={"mcp_type": "sse"})).json() == []
    assert (await client.get(SERVERS, params={"sort_by": "nope"})).status_code == 422
    assert (await client.get(SERVERS, params={"mcp_type": "carrier"})).status_code == 422

    # The mask sent back keeps the stored value; a new variable is added beside it.
    changed = await client.patch(
        f"{SERVERS}/tools",
        json={"env": {"TOOL_GREETING": "********", "EXTRA": "x"}, "note": "changed"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["env"] == {"TOOL_GREETING": "********", "EXTRA": "********"}
    assert changed.json()["note"] == "changed"
    opened = app.state.services.secrets.open_map
    async with app.state.services.db.session() as session:
        raw = (
            await session.execute(text("SELECT env_sealed FROM mcp_servers WHERE name = 'tools'"))
        ).scalar_one()
    assert opened(raw) == {"TOOL_GREETING": GREETING, "EXTRA": "x"}
    renamed = await client.patch(
        SERVERS, params={"server_id": made["server_id"]}, json={"new_name": "renamed"}
    )
    assert renamed.json()["name"] == "renamed"
    assert (await client.get(f"{SERVERS}/tools")).status_code == 404
    sid = made["server_id"]
    assert (await client.get(f"{SERVERS}/renamed", params={"server_id": sid})).status_code == 200
    assert (await client.get(f"{SERVERS}/renamed", params={"mcp_scope": 2})).status_code == 404
    taken = await client.patch(f"{SERVERS}/other", json={"new_name": "renamed"})
    assert taken.status_code == 409
    assert (await client.post(f"{SERVERS}/renamed", json=stdio())).status_code == 409
    assert (await client.patch(SERVERS, params={"server_id": 999999}, json={})).status_code == 404

    assert (await client.delete(f"{SERVERS}/renamed")).status_code == 204
    assert (await client.delete(f"{SERVERS}/renamed")).status_code == 404
    assert (await client.post(f"{SERVERS}/renamed/test")).status_code == 404


async def test_bad_configurations_are_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    cases = {
        "command": {"mcp_type": "stdio"},
        "url": {"mcp_type": "streamable_http", "url": "ftp://example"},
        "mcp_type": {"mcp_type": "carrier-pigeon", "command": "x"},
        "business_id": {**stdio(), "mcp_scope": 2},
    }
    for field, body in cases.items():
        resp = await client.post(f"{SERVERS}/bad", json=body)
        assert resp.status_code == 422, (field, resp.text)
        assert field in resp.text, (field, resp.text)
    tenant = (await client.get("/api/v1/users/whoami")).json()["tenant_id"]
    top = await _business(client, tenant)
    sub = await _business(client, tenant, top)
    missing = await client.post(
        f"{SERVERS}/bad", json={**stdio(), "mcp_scope": 2, "business_id": 999999}
    )
    assert missing.status_code == 404, missing.text
    assert "business_id" in missing.text
    scoped = await add(client, "biz", {**stdio(), "mcp_scope": 2, "business_id": top})
    assert (scoped["mcp_scope"], scoped["business_id"]) == (2, top)
    await add(client, "sub-biz", {**stdio(), "mcp_scope": 2, "business_id": sub})
    await add(client, "plain", stdio())
    in_biz = await client.get(SERVERS, params={"business_id": top})
    assert [s["name"] for s in in_biz.json()] == ["biz"]
    with_subs = await client.get(
        SERVERS, params={"business_id": top, "include_sub_businesses": "true"}
    )
    assert {s["name"] for s in with_subs.json()} == {"biz", "sub-biz"}
    only_sub = await client.get(SERVERS, params={"business_id": sub, "include_sub_businesses": 1})
    assert only_sub.status_code == 422  # a boolean is true or false
    assert [s["name"] for s in (await client.get(SERVERS, params={"mcp_scope": 1})).json()] == [
        "plain"
    ]
    every = await client.get(SERVERS, params={"mcp_scope": 1, "all_scopes": "true"})
    assert {s["name"] for s in every.json()} == {"biz", "sub-biz", "plain"}
    assert (await client.delete(f"{SERVERS}/biz", params={"business_id": sub})).status_code == 404
    assert (await client.delete(f"{SERVERS}/biz", params={"business_id": top})).status_code == 204
    # A server registered for a business goes with it.
    assert (await client.delete(f"/api/v1/businesses/{sub}")).status_code == 204
    left = await client.get(SERVERS, params={"all_scopes": "true"})
    assert {s["name"] for s in left.json()} == {"plain"}


async def _business(client: httpx.AsyncClient, tenant: str, parent: int = 0) -> int:
    body = {"tenant_id": tenant, "business_name": f"b{parent}", "business_level": 1}
    if parent:
        body.update(business_level=2, first_business_id=parent)
    made = await client.post("/api/v1/businesses/", json=body)
    assert made.status_code == 201, made.text
    business_id: int = made.json()["business_id"]
    return business_id


async def test_connection_tests_report_each_failure(client: httpx.AsyncClient) -> None:
    await add(client, "missing-command", stdio(command="/no/such/mcp-server"))
    await add(client, "silent", stdio(args=[SERVER_SCRIPT, "--silent-hang"]))
    await add(client, "refused", {"url": f"http://127.0.0.1:{closed_port()}/mcp"})

    missing = (await client.post(f"{SERVERS}/missing-command/test")).json()
    assert missing["success"] is False
    assert missing["error_kind"] == "bad_configuration"
    assert "/no/such/mcp-server" in missing["error"]

    started = time.monotonic()
    silent = (await client.post(f"{SERVERS}/silent/test", params={"timeout": 1})).json()
    assert silent["error_kind"] == "timeout", silent
    assert "1s" in silent["error"]
    assert time.monotonic() - started < 8  # the limit, and the process's shutdown

    refused = (await client.post(f"{SERVERS}/refused/test")).json()
    assert refused["mcp_type"] == "streamable_http"
    assert refused["error_kind"] == "refused", refused
    assert refused["tool_count"] is None
    assert (await client.post(f"{SERVERS}/silent/test", params={"timeout": 0})).status_code == 422


async def test_a_streamable_http_server(
    app: FastAPI, client: httpx.AsyncClient, http_url: str
) -> None:
    made = await add(
        client,
        "remote",
        {"mcp_type": "streamable-http", "url": http_url, "headers": {"X-Key": "k1"}},
    )
    assert made["mcp_type"] == "streamable_http"
    assert made["headers"] == {"X-Key": "********"}
    async with app.state.services.db.session() as session:
        raw = (
            await session.execute(
                text("SELECT headers_sealed FROM mcp_servers WHERE name = 'remote'")
            )
        ).scalar_one()
    # A Fernet token is random base64, so only the plaintext JSON shape is a meaningful probe.
    assert raw.startswith("gAAAA")
    assert "X-Key" not in raw
    tested = (await client.post(f"{SERVERS}/remote/test")).json()
    assert tested["success"] is True, tested
    assert tested["tool_count"] == 3
    counted = (await client.get(SERVERS, params={"action_count": "true"})).json()
    assert [(s["name"], s["toolsCount"], s["error"]) for s in counted] == [("remote", 3, None)]

    flow = tool_flow("remote", "add", {"a": 40, "b": 2})
    events = await build_events(client, flow, "ignored", {})
    assert output_text(events) == "42"


async def test_an_sse_server(client: httpx.AsyncClient, sse_url: str) -> None:
    made = await add(client, "old-style", {"mcp_type": "sse", "url": sse_url})
    assert made["mode"] == "sse"
    tested = (await client.post(f"{SERVERS}/old-style/test")).json()
    assert (tested["success"], tested["tool_count"]) == (True, 3), tested
    flow = tool_flow("old-style", "shout", {}, "text")
    assert output_text(await build_events(client, flow, "quiet", {})) == "QUIET"


def tool_flow(server: str, tool: str, arguments: dict[str, Any], field: str = "") -> dict[str, Any]:
    params = {"server": server, "tool": tool, "arguments": arguments, "input_field": field}
    return {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {"id": "tool", "type": "MCPTool", "params": params},
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "tool.input_value"},
            {"from": "tool.message", "to": "out.input_value"},
        ],
    }


def output_text(events: list[dict[str, Any]]) -> str:
    assert events[-1]["event"] == "end", events[-1]
    messages = [e["data"] for e in events if e["event"] == "add_message"]
    text_: str = messages[-1]["text"]
    return text_


def error_of(events: list[dict[str, Any]]) -> str:
    errors = [e for e in events if e["event"] == "error"]
    assert errors, [e["event"] for e in events]
    return str(errors[-1]["data"])


async def test_a_flow_calls_a_stdio_tool_in_its_own_tenant(
    app: FastAPI, client: httpx.AsyncClient, make_user: Any
) -> None:
    await add(client, "tools", stdio())
    events = await build_events(client, tool_flow("tools", "shout", {}, "text"), "hello", {})
    assert output_text(events) == f"{GREETING}HELLO"  # the sealed env reached the process
    failing = await build_events(client, tool_flow("tools", "fail", {"reason": "no"}), "x", {})
    assert "fail" in error_of(failing)

    acme = await _tenant(client, "acme")
    in_acme = {"Tenant-Id": acme}
    elsewhere = await build_events(client, tool_flow("tools", "add", {}), "x", in_acme)
    assert "'tools' is not registered" in error_of(elsewhere)
    for method, url in (
        ("GET", f"{SERVERS}/tools"),
        ("PATCH", f"{SERVERS}/tools"),
        ("DELETE", f"{SERVERS}/tools"),
        ("POST", f"{SERVERS}/tools/test"),
    ):
        resp = await client.request(
            method, url, json={} if method == "PATCH" else None, headers=in_acme
        )
        assert resp.status_code == 404, (method, url, resp.text)
    assert (await client.get(SERVERS, headers=in_acme)).json() == []
    await add(client, "tools", stdio(), headers=in_acme)  # names are unique per tenant

    viewer = await make_user("vic")
    await _bind(client, acme, "vic", "viewer")
    assert (await viewer.get(SERVERS, headers=in_acme)).status_code == 200
    for method, url in (
        ("POST", f"{SERVERS}/new"),
        ("PATCH", f"{SERVERS}/tools"),
        ("DELETE", f"{SERVERS}/tools"),
    ):
        resp = await viewer.request(method, url, json=stdio(), headers=in_acme)
        assert resp.status_code == 403, (method, url, resp.text)
        assert "mcp" in resp.text

    # Without custom code allowed, stdio servers (commands on this host) are not started.
    app.state.services.settings.allow_custom_code = False
    app.state.services.engine.allow_custom_code = False
    refused = await client.post(f"{SERVERS}/tools/test")
    assert refused.status_code == 403
    assert "FLOWDECK_ALLOW_CUSTOM_CODE" in refused.text
    blocked = await build_events(client, tool_flow("tools", "shout", {"text": "x"}), "x", {})
    assert "FLOWDECK_ALLOW_CUSTOM_CODE" in error_of(blocked)
