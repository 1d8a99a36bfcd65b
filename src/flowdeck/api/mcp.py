"""Flows as MCP tools over SSE and streamable HTTP (Langflow's paths), on the `mcp` SDK.

Every request is authenticated (API key or bearer token) and needs READ on MCP; listing
and calling tools need RUNS WRITE too (flowdeck.services.mcp_tools). Streamable HTTP is
served stateless so any API process answers any request; see flowdeck.services.mcp_sessions
for what must still be found across processes. The SDK itself (flowdeck.api.mcp_server) is
loaded by the first MCP request, not at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from starlette.types import Message, Receive, Scope, Send

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import access_of, requires
from flowdeck.access.guard import guarded_router
from flowdeck.access.principal import Principal
from flowdeck.api.paths import both
from flowdeck.db.repositories.flows import ProjectRepository
from flowdeck.errors import NotFoundError
from flowdeck.services.container import Services
from flowdeck.services.mcp_sessions import SESSION_HEADER, mcp_sessions
from flowdeck.services.mcp_tools import cancel_call

if TYPE_CHECKING:
    from flowdeck.api.mcp_server import Transports

router = guarded_router(prefix="/api/v1/mcp", tags=["mcp"])
# A request that carries one wants progress notifications, which only an event stream can
# carry (flowdeck.api.mcp_server.Transports). Matched in the raw body: a false match costs
# only the stream.
PROGRESS_TOKEN = b'"progressToken"'


class LazyTransports:
    """The app's MCP transports, built and started by the first request that needs them."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._lock = asyncio.Lock()
        self._transports: Transports | None = None

    async def get(self) -> Transports:
        if self._transports is None:
            async with self._lock:
                if self._transports is None:
                    from flowdeck.api.mcp_server import Transports

                    transports = Transports(self.app)
                    await transports.start()
                    self._transports = transports
        return self._transports

    async def close(self) -> None:
        if self._transports is not None:
            await self._transports.stop()


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[None]:
    """The app's MCP transports, for its lifetime (started on first use)."""
    transports = app.state.mcp = LazyTransports(app)
    try:
        yield
    finally:
        await transports.close()


async def _transports(request: Request) -> Transports:
    lazy: LazyTransports = request.app.state.mcp
    return await lazy.get()


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
    relay = (await _transports(request)).sse
    return Handoff(relay.stream_app(messages), request.scope, request.receive)


async def _sse_head() -> Response:
    return Response(media_type="text/event-stream")


async def _message(request: Request) -> Response:
    relay = (await _transports(request)).sse
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
    session = request.headers.get(SESSION_HEADER)
    if request.method == "DELETE":
        # Nothing lives past a request (stateless): ending a session frees nothing.
        return Response(status_code=200 if session else 400)
    transports = await _transports(request)
    body = await request.body() if request.method == "POST" else b""
    manager = transports.streamable
    if body:
        await _cancel_if_asked(request, session, body)
        if PROGRESS_TOKEN not in body:
            manager = transports.streamable_json
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
