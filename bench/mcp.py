"""MCP tool calls over streamable HTTP: a two-node flow (ChatInput -> ChatOutput) as a tool.

A real `flowdeck serve` on loopback with a fresh SQLite data dir; the flow is created through
the API with `mcp_enabled`. Each call goes through the real `mcp` client (an initialised
ClientSession on /api/v1/mcp/streamable). Latency is one call at a time on one session;
throughput is CLIENTS sessions calling at once. The reference is a bare `mcp` SDK server
(the same stateless streamable HTTP transport with the SDK's default answers, an event stream
per request; same uvicorn options) whose tool returns the same text, measured in the same
rounds (the two servers alternate). flowdeck answers these calls, which ask for no progress,
with one JSON object, as the transport allows a server to.
Targets: p50 latency at most 5 ms; throughput at least 50% of the reference's.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from bench._server import (
    ECHO,
    PASSWORD,
    Server,
    flowdeck_server,
    median,
    pct,
    reference_server,
    run_loop,
)
from bench._util import header, quick_mode, verdict

TARGET_P50_MS = 5.0
TARGET_THROUGHPUT_RATIO = 0.5
CLIENTS = 8
TOOL = "echo"
TEXT = "hello"


def reference_app() -> Any:
    """uvicorn factory: the bare SDK server, its one tool answering TEXT."""
    import mcp_types as types
    from mcp.server.lowlevel.server import Server as McpServer
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        schema = {"type": "object", "properties": {"input_value": {"type": "string"}}}
        return types.ListToolsResult(tools=[types.Tool(name=TOOL, input_schema=schema)])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        text = str((params.arguments or {}).get("input_value", ""))
        return types.CallToolResult(content=[types.TextContent(text=text)])

    server = McpServer("bare", on_list_tools=list_tools, on_call_tool=call_tool)
    manager = StreamableHTTPSessionManager(app=server, stateless=True)

    async def health(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return Starlette(
        routes=[
            Route("/health", health),
            Mount("/api/v1/mcp/streamable", app=manager.handle_request),
        ],
        lifespan=lifespan,
    )


def _setup(server: Server) -> str:
    """The superuser's bearer token, with the two-node flow created as an MCP tool."""
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        resp = client.post("/api/v1/login", data={"username": "admin", "password": PASSWORD})
        token: str = resp.raise_for_status().json()["access_token"]
        client.headers["authorization"] = f"Bearer {token}"
        made = client.post("/api/v1/flows/", json={"name": TOOL, "data": ECHO, "mcp_enabled": True})
        if made.status_code != 201:
            raise RuntimeError(f"creating the flow failed: {made.status_code} {made.text}")
    return token


@contextlib.asynccontextmanager
async def _session(url: str, token: str | None) -> AsyncIterator[ClientSession]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=20, trust_env=False) as http,
        streamable_http_client(f"{url}/api/v1/mcp/streamable/", http_client=http) as (r, w),
        ClientSession(r, w) as session,
    ):
        await session.initialize()
        yield session


async def _call(session: ClientSession) -> None:
    result = await session.call_tool(TOOL, {"input_value": TEXT})
    text = getattr(result.content[0], "text", None) if result.content else None
    if result.is_error or text != TEXT:
        raise RuntimeError(f"the tool call failed: {result}")


async def _measure(server: Server, token: str | None, latency_n: int, total: int) -> Any:
    """Sequential call latencies on one session, calls per second over CLIENTS, and the
    server's CPU seconds per call (the figure a busy machine disturbs least)."""
    async with contextlib.AsyncExitStack() as stack:
        sessions = [
            await stack.enter_async_context(_session(server.url, token)) for _ in range(CLIENTS)
        ]
        for _ in range(20):  # warm up: connections, caches, the graph cache
            await _call(sessions[0])
        lat = []
        for _ in range(latency_n):
            start = time.perf_counter()
            await _call(sessions[0])
            lat.append(time.perf_counter() - start)
        remaining = total

        async def worker(session: ClientSession) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await _call(session)

        cpu = server.cpu()
        start = time.perf_counter()
        await asyncio.gather(*(worker(s) for s in sessions))
        rate = total / (time.perf_counter() - start)
        cpu = (server.cpu() - cpu) / total
    return lat, rate, cpu


def main(quick: bool | None = None) -> bool:
    """Print the figures and verdicts; True when both targets are met."""
    quick = quick_mode(quick)
    rounds, latency_n, total = (1, 20, 80) if quick else (3, 100, 300)
    header(f"MCP tool calls over streamable HTTP (two-node flow, {CLIENTS} sessions)")
    samples: dict[str, tuple[list[float], list[float], list[float]]] = {
        "flowdeck": ([], [], []),
        "bare": ([], [], []),
    }
    with flowdeck_server() as fd, reference_server("bench.mcp:reference_app") as ref:
        token = _setup(fd)
        for _ in range(rounds):
            for name, server, tok in (("flowdeck", fd, token), ("bare", ref, None)):
                lat, rate, cpu = run_loop(_measure(server, tok, latency_n, total))
                samples[name][0].extend(lat)
                samples[name][1].append(rate)
                samples[name][2].append(cpu)
    print(
        f"  {'server':10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'calls/s':>8}"
        f" {'CPU ms/call':>12}"
    )
    figures = {}
    for name, (lat, rates, cpus) in samples.items():
        figures[name] = (pct(lat, 0.5) * 1000, median(rates), median(cpus) * 1000)
        print(
            f"  {name:10} {figures[name][0]:8.2f} {pct(lat, 0.9) * 1000:8.2f}"
            f" {pct(lat, 0.99) * 1000:8.2f} {figures[name][1]:8.0f} {figures[name][2]:12.2f}"
        )
    (p50, rate, cpu), (ref_p50, ref_rate, ref_cpu) = figures["flowdeck"], figures["bare"]
    print(f"  flowdeck / bare SDK server: server CPU per call {cpu / ref_cpu:.1f}x")
    if quick:
        print("  (quick mode: too few calls for the targets)")
        return True
    ok = verdict(
        "p50 latency of a tool call",
        p50 <= TARGET_P50_MS,
        f"{p50:.2f} ms (target ≤ {TARGET_P50_MS:g} ms; bare SDK server {ref_p50:.2f} ms)",
    )
    ok &= verdict(
        "throughput against the bare SDK server",
        rate / ref_rate >= TARGET_THROUGHPUT_RATIO,
        f"{rate / ref_rate:.2f}x = {rate:.0f} vs {ref_rate:.0f} calls/s "
        f"(target ≥ {TARGET_THROUGHPUT_RATIO:g}x)",
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
