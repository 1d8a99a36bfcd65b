"""A real flowdeck server on 127.0.0.1 and the real `mcp` client, for the MCP tests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import httpx2
import uvicorn
from fastapi import FastAPI
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

# Two text inputs joined into one output: a tool with two arguments.
JOIN = {
    "nodes": [
        {"id": "first", "type": "TextInput"},
        {"id": "second", "type": "TextInput"},
        {"id": "join", "type": "CombineText", "params": {"delimiter": " + "}},
        {"id": "out", "type": "TextOutput"},
    ],
    "edges": [
        {"from": "first.text", "to": "join.text1"},
        {"from": "second.text", "to": "join.text2"},
        {"from": "join.combined_text", "to": "out.input_value"},
    ],
}


def slow(seconds: float) -> dict[str, Any]:
    """One input, a delay, one output: a call that runs until cancelled."""
    return {
        "nodes": [
            {"id": "in", "type": "TextInput"},
            {"id": "wait", "type": "Delay", "params": {"seconds": seconds}},
            {"id": "out", "type": "TextOutput"},
        ],
        "edges": [
            {"from": "in.text", "to": "wait.input_value"},
            {"from": "wait.message", "to": "out.input_value"},
        ],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve an app (its lifespan already entered) over real sockets on 127.0.0.1."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def make_flow(client: httpx.AsyncClient, name: str, data: Any, **extra: Any) -> str:
    made = await client.post(
        "/api/v1/flows/", json={"name": name, "data": data, "mcp_enabled": True, **extra}
    )
    assert made.status_code == 201, made.text
    flow_id: str = made.json()["id"]
    return flow_id


async def api_key(client: httpx.AsyncClient) -> str:
    made = await client.post("/api/v1/api_key/", json={"name": "mcp"})
    assert made.status_code == 200, made.text
    key: str = made.json()["api_key"]
    return key


@contextlib.asynccontextmanager
async def mcp_session(
    url: str, headers: dict[str, str], transport: str = "streamable"
) -> AsyncIterator[ClientSession]:
    """An initialised MCP client session over SSE or streamable HTTP."""
    if transport == "sse":
        async with (
            sse_client(url, headers=headers) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session
        return
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def endpoint(base: str, transport: str, project_id: str | None = None) -> str:
    root = f"{base}/api/v1/mcp" + (f"/project/{project_id}" if project_id else "")
    return f"{root}/sse" if transport == "sse" else f"{root}/streamable"
