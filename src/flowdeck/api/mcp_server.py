"""The MCP SDK's side of flows as tools: the server's handlers and its two transports.

Imported on the first MCP request (flowdeck.api.mcp): the SDK takes longer to import than the
rest of the app, and most servers never serve MCP.
"""

from __future__ import annotations

import asyncio
from typing import Any

import mcp_types as types
from fastapi import FastAPI, Request
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from flowdeck import __version__
from flowdeck.access.principal import Principal
from flowdeck.api.mcp_sse import SseRelay
from flowdeck.errors import FlowdeckError
from flowdeck.services.container import Services
from flowdeck.services.mcp_sessions import SESSION_HEADER, mcp_sessions
from flowdeck.services.mcp_tools import call_tool, find_tool, list_tools


def _context(ctx: Any) -> tuple[Services, Principal, str | None]:
    request: Request = ctx.request
    principal: Principal = request.state.principal
    return request.app.state.services, principal, request.path_params.get("project_id")


async def _list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> Any:
    services, principal, project_id = _context(ctx)
    tools = await list_tools(services, principal, project_id)
    return types.ListToolsResult(
        tools=[
            types.Tool(name=t.name, description=t.description, input_schema=t.schema) for t in tools
        ]
    )


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> Any:
    services, principal, project_id = _context(ctx)
    request: Request = ctx.request
    session = request.headers.get(SESSION_HEADER)
    sessions = mcp_sessions(services)

    async def progress(done: float, total: float | None, message: str | None) -> None:
        await ctx.session.report_progress(done, total, message)

    async def remember(run: Any) -> None:
        if session is not None and ctx.request_id is not None:
            await sessions.remember_call(session, ctx.request_id, run.id)

    try:
        tool = await find_tool(services, principal, params.name, project_id)
        # Following the run's steps costs a bus subscription: only for a client that asked.
        wants_progress = bool(ctx.meta and ctx.meta.get("progress_token") is not None)
        outcome = await call_tool(
            services,
            principal,
            tool,
            params.arguments,
            progress=progress if wants_progress else None,
            on_start=remember,
        )
    except FlowdeckError as exc:
        # An unknown tool or argument, a stopped flow: the model reads why and may retry.
        return types.CallToolResult(content=[types.TextContent(text=str(exc))], is_error=True)
    finally:
        if session is not None and ctx.request_id is not None:
            await sessions.forget_call(session, ctx.request_id)
    return types.CallToolResult(
        content=[types.TextContent(text=outcome.text)],
        is_error=outcome.is_error,
        meta={"run_id": outcome.run.id, "state": outcome.run.state},
    )


SERVER: Server[Any] = Server(
    "flowdeck", version=__version__, on_list_tools=_list_tools, on_call_tool=_call_tool
)


class Transports:
    """The streamable HTTP managers and the SSE relay of one app, for its lifetime.

    A POSTed request may be answered with one JSON object or with an event stream (the
    transport's spec lets the server choose). The stream costs the SDK about twice the
    CPU of the JSON answer, and it is needed only to send something before the result:
    progress, which a client asks for with a progress token. `streamable_json` answers
    the rest.
    """

    def __init__(self, app: FastAPI) -> None:
        self.streamable = StreamableHTTPSessionManager(app=SERVER, stateless=True)
        self.streamable_json = StreamableHTTPSessionManager(
            app=SERVER, stateless=True, json_response=True
        )
        self.sse = SseRelay(SERVER, app)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = asyncio.Event()

        async def run() -> None:
            # In a task of its own: the manager's task group must be left by the task that
            # entered it, and it is entered by a request but left at the app's shutdown.
            async with self.streamable.run(), self.streamable_json.run():
                ready.set()
                await self._stop.wait()

        self._task = asyncio.create_task(run(), name="flowdeck-mcp")
        await ready.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
