"""MCP over SSE on any API process: the stream lives where its GET landed, messages may not.

The SDK keeps an SSE session in the memory of the process holding its stream, so a message
POSTed to another process would answer "Could not find session". Here a POST for a stream
held elsewhere is relayed over Redis (flowdeck.services.mcp_sessions) to the holder, which
authenticates it again from the forwarded headers and hands it to its transport.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request, Response
from mcp.server.lowlevel.server import Server
from mcp.server.sse import SseServerTransport
from starlette.types import Message, Receive, Scope, Send

from flowdeck.access.declare import Access
from flowdeck.access.guard import authorize
from flowdeck.access.principal import Principal
from flowdeck.errors import FlowdeckError
from flowdeck.services.mcp_sessions import McpSessions, mcp_sessions

_SESSION = re.compile(rb"session_id=([0-9a-f]{32})")


class SseRelay:
    def __init__(self, server: Server[Any], app: FastAPI) -> None:
        self.server = server
        self.app = app
        # One transport per message endpoint (the global one, one per project).
        self._transports: dict[str, SseServerTransport] = {}

    @property
    def sessions(self) -> McpSessions:
        return mcp_sessions(self.app.state.services)

    def transport(self, messages: str) -> SseServerTransport:
        found = self._transports.get(messages)
        if found is None:
            found = self._transports[messages] = SseServerTransport(messages)
        return found

    def stream_app(self, messages: str) -> Any:
        """The ASGI app serving one SSE stream, its session recorded before the client
        learns its id (so no message can arrive for an unknown session)."""
        transport = self.transport(messages)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            principal: Principal = scope["state"]["principal"]
            opened: list[str] = []

            async def watch(message: Message) -> None:
                if not opened and message["type"] == "http.response.body":
                    found = _SESSION.search(message.get("body", b""))
                    if found is not None:
                        opened.append(found.group(1).decode())
                        await self.sessions.open_sse(opened[0], principal.user.id, self._relayed)
                await send(message)

            try:
                async with transport.connect_sse(scope, receive, watch) as (read, write):
                    await self.server.run(read, write, self.server.create_initialization_options())
            finally:
                if opened:
                    await self.sessions.close_sse(opened[0])

        return app

    async def post(self, request: Request, body: bytes) -> Response:
        """A message for a stream: handed to the transport here, or relayed to its holder."""
        session_id = request.query_params.get("session_id") or ""
        principal: Principal = request.state.principal
        owner = await self.sessions.owner(session_id)
        if owner is None or owner != principal.user.id:
            # Another caller's stream answers as a missing one: its existence is not revealed.
            return Response("Could not find session", status_code=404)
        if self.sessions.held_here(session_id) is None:
            forwarded = {
                "path": request.url.path,
                "query": request.url.query,
                "headers": [
                    [k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw
                ],
                "path_params": dict(request.path_params),
                "body": body.decode(),
            }
            if await self.sessions.forward(session_id, forwarded):
                return Response("Accepted", status_code=202)
            return Response("Could not find session", status_code=404)
        await self._hand_over(request.scope, body, request.url.path)
        return Response("Accepted", status_code=202)

    async def _hand_over(self, scope: Scope, body: bytes, path: str) -> None:
        messages = path if path.endswith("/") else f"{path}/"
        transport = self._transports.get(messages)
        if transport is None:
            return
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def discard(message: Message) -> None:
            return None  # the client got its 202 from the process it posted to

        await transport.handle_post_message(scope, receive, discard)

    async def _relayed(self, forwarded: dict[str, Any]) -> None:
        from flowdeck.api.mcp import ACCESS

        scope: Scope = {
            "type": "http",
            "method": "POST",
            "path": forwarded["path"],
            "raw_path": forwarded["path"].encode(),
            "query_string": forwarded["query"].encode(),
            "headers": [
                (k.encode("latin-1"), v.encode("latin-1")) for k, v in forwarded["headers"]
            ],
            "path_params": forwarded["path_params"],
            "app": self.app,
            "state": {},
            "client": None,
            "server": None,
            "scheme": "http",
            "root_path": "",
            "http_version": "1.1",
        }
        assert isinstance(ACCESS, Access)
        request = Request(scope)
        try:
            principal = await authorize(request, ACCESS)
        except FlowdeckError:
            return  # the credentials were revoked between the POST and its delivery
        if self.sessions.held_here(request.query_params.get("session_id") or "") != (
            principal.user.id
        ):
            return
        await self._hand_over(scope, forwarded["body"].encode(), forwarded["path"])
