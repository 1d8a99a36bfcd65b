"""Flows as MCP tools over SSE and streamable HTTP (Langflow's paths), on the `mcp` SDK.

Every request is authenticated (API key or bearer token) and needs READ on MCP; listing
and calling tools need RUNS WRITE too (flowdeck.services.mcp_tools). Streamable HTTP is
served stateless so any API process answers any request; see flowdeck.services.mcp_sessions
for what must still be found across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import mcp_types as types
import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Message, Receive, Scope, Send

from flowdeck import __version__
from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import access_of, requires
from flowdeck.access.guard import guarded_router
from flowdeck.access.principal import Principal
from flowdeck.api.mcp_sse import SseRelay
from flowdeck.api.paths import both
from flowdeck.db.repositories.flows import ProjectRepository
from flowdeck.errors import FlowdeckError, NotFoundError
from flowdeck.services.container import Services
from flowdeck.services.mcp_sessions import mcp_sessions
from flowdeck.services.mcp_tools import call_tool, cancel_call, find_tool, list_tools

router = guarded_router(prefix="/api/v1/mcp", tags=["mcp"])
SESSION_HEADER = "mcp-session-id"


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


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[None]:
    """The app's MCP transports, for its lifetime (the SDK's manager runs a task group)."""
    manager = StreamableHTTPSessionManager(app=SERVER, stateless=True)
    app.state.mcp_streamable = manager
    app.state.mcp_sse = SseRelay(SERVER, app)
    ready, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        # In a task of its own: the manager's task group must be left by the task that
        # entered it, and a lifespan's start and end may run in different tasks.
        async with manager.run():
            ready.set()
            await stop.wait()

    task = asyncio.create_task(run(), name="flowdeck-mcp")
    await ready.wait()
    try:
        yield
    finally:
        stop.set()
        await task


class Handoff(Response):
    """Hands the request to an ASGI app (the SDK's transport), which sends the answer."""

    def __init__(self, app: Any, scope: Scope, receive: Receive) -> None:
        super().__init__()
        self.app, self.scope, self.receive = app, scope, receive

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(self.scope, self.receive, send)


F = TypeVar("F", bound=Callable[..., Any])


def every(router: APIRouter, path: str) -> Callable[[F], F]:
    """The streamable endpoint's three methods, each with and without the trailing slash."""

    def register(endpoint: F) -> F:
        for method in ("GET", "POST", "DELETE"):
            both(router, method, path)(endpoint)
        return endpoint

    return register


async def _project(request: Request, project_id: str) -> None:
    """A project of the caller's scope, or 404 naming it."""
    services: Services = request.app.state.services
    principal: Principal = request.state.principal
    async with services.db.session() as session:
        if await ProjectRepository(session, principal.scope).find(project_id) is None:
            raise NotFoundError(f"project {project_id} not found", field="project_id")


# -- SSE ------------------------------------------------------------------------------------


async def _sse(request: Request, messages: str) -> Response:
    relay: SseRelay = request.app.state.mcp_sse
    return Handoff(relay.stream_app(messages), request.scope, request.receive)


async def _sse_head() -> Response:
    return Response(media_type="text/event-stream")


async def _message(request: Request) -> Response:
    relay: SseRelay = request.app.state.mcp_sse
    body = await request.body()
    return await relay.post(request, body)


@both(router, "HEAD", "/sse")
@requires(Module.MCP, Op.READ, cookie=False)
async def im_alive() -> Response:
    return await _sse_head()


@both(router, "GET", "/sse")
@requires(Module.MCP, Op.READ, cookie=False)
async def handle_sse(request: Request) -> Response:
    return await _sse(request, "/api/v1/mcp/")


@both(router, "POST", "/")
@requires(Module.MCP, Op.READ, cookie=False)
async def handle_messages(request: Request) -> Response:
    return await _message(request)


@both(router, "HEAD", "/project/{project_id}/sse")
@requires(Module.MCP, Op.READ, cookie=False)
async def project_im_alive(project_id: str, request: Request) -> Response:
    await _project(request, project_id)
    return await _sse_head()


@both(router, "GET", "/project/{project_id}/sse")
@requires(Module.MCP, Op.READ, cookie=False)
async def handle_project_sse(project_id: str, request: Request) -> Response:
    await _project(request, project_id)
    return await _sse(request, f"/api/v1/mcp/project/{project_id}/")


@both(router, "POST", "/project/{project_id}/")
@requires(Module.MCP, Op.READ, cookie=False)
async def handle_project_messages(project_id: str, request: Request) -> Response:
    await _project(request, project_id)
    return await _message(request)


# -- streamable HTTP ------------------------------------------------------------------------


async def _streamable(request: Request) -> Response:
    manager: StreamableHTTPSessionManager = request.app.state.mcp_streamable
    session = request.headers.get(SESSION_HEADER)
    if request.method == "DELETE":
        # Nothing lives past a request (stateless): ending a session frees nothing.
        return Response(status_code=200 if session else 400)
    body = await request.body() if request.method == "POST" else b""
    if body:
        await _cancel_if_asked(request, session, body)
    scope = request.scope
    if session is None:
        # The SDK keeps no session (any process may answer), yet an id lets a later cancel
        # notification name the call it cancels: the id is ours, minted here.
        session = uuid.uuid4().hex
        scope = {
            **scope,
            "headers": [*scope["headers"], (SESSION_HEADER.encode(), session.encode())],
        }

    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await request.receive()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != SESSION_HEADER.encode()]
                message = {
                    **message,
                    "headers": [*headers, (SESSION_HEADER.encode(), session.encode())],
                }
            await send(message)

        await manager.handle_request(scope, receive, with_session)

    return Handoff(app, scope, receive)


async def _cancel_if_asked(request: Request, session: str | None, body: bytes) -> None:
    """A cancel notification may reach any process: it cancels the run wherever it runs."""
    if session is None or b"notifications/cancelled" not in body:
        return
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return  # the SDK answers the parse error
    if not isinstance(message, dict) or message.get("method") != "notifications/cancelled":
        return
    params = message.get("params") or {}
    services: Services = request.app.state.services
    run_id = await mcp_sessions(services).call_run(session, params.get("requestId"))
    if run_id is not None:
        await cancel_call(services, request.state.principal, run_id)


@every(router, "/streamable")
@requires(Module.MCP, Op.READ, cookie=False)
async def handle_streamable(request: Request) -> Response:
    return await _streamable(request)


@every(router, "/project/{project_id}/streamable")
@requires(Module.MCP, Op.READ, cookie=False)
async def handle_project_streamable(project_id: str, request: Request) -> Response:
    await _project(request, project_id)
    return await _streamable(request)


ACCESS = access_of(handle_messages)
