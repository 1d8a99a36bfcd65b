"""MCP client state that any API process must find: in-flight calls and SSE sessions.

Behind a load balancer a client's requests land on any process. Streamable HTTP is served
stateless, so the only state is which run a client's in-flight request started (its cancel
notification may reach another process). An SSE stream lives in the process holding its GET;
messages POSTed elsewhere are relayed to it over Redis. In the embedded mode (one process)
both live in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import orjson

from flowdeck.services.container import Services

log = logging.getLogger("flowdeck.mcp")
# The streamable transport's session header: flowdeck mints the id (see flowdeck.api.mcp).
SESSION_HEADER = "mcp-session-id"
# How long a record outlives the call or stream it names, should its process die.
CALL_TTL = 3600
SSE_TTL = 24 * 3600

Relay = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


class McpSessions:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.redis: Any = services.extras.get("redis")
        self.prefix = f"{services.settings.redis_prefix}:mcp"
        self._calls: dict[str, str] = {}
        self._sse: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- in-flight calls: (client session, JSON-RPC request id) -> run id -----------------

    def _call_key(self, session: str, request_id: Any) -> str:
        return f"{self.prefix}:call:{session}:{orjson.dumps(request_id).decode()}"

    async def remember_call(self, session: str, request_id: Any, run_id: str) -> None:
        key = self._call_key(session, request_id)
        if self.redis is None:
            self._calls[key] = run_id
        else:
            await self.redis.set(key, run_id, ex=CALL_TTL)

    async def call_run(self, session: str, request_id: Any) -> str | None:
        key = self._call_key(session, request_id)
        if self.redis is None:
            return self._calls.get(key)
        found = await self.redis.get(key)
        return found.decode() if isinstance(found, bytes) else found

    async def forget_call(self, session: str, request_id: Any) -> None:
        key = self._call_key(session, request_id)
        if self.redis is None:
            self._calls.pop(key, None)
        else:
            await self.redis.delete(key)

    # -- SSE sessions: session id -> owner, and a relay to the process holding the stream --

    def _sse_key(self, session_id: str) -> str:
        return f"{self.prefix}:sse:{session_id}"

    async def open_sse(self, session_id: str, user_id: int, relay: Relay) -> None:
        """Record a stream held here; messages for it from other processes reach `relay`."""
        self._sse[session_id] = user_id
        if self.redis is None or self.services.subscriber is None:
            return
        await self.redis.set(self._sse_key(session_id), user_id, ex=SSE_TTL)

        def deliver(raw: bytes) -> None:
            task = asyncio.create_task(relay(orjson.loads(raw)))
            self._tasks.add(task)
            task.add_done_callback(self._done)

        await self.services.subscriber.add(self._sse_key(session_id), deliver)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("relayed MCP message failed: %s", task.exception())

    async def close_sse(self, session_id: str) -> None:
        self._sse.pop(session_id, None)
        if self.redis is None or self.services.subscriber is None:
            return
        await self.services.subscriber.remove(self._sse_key(session_id))
        await self.redis.delete(self._sse_key(session_id))

    def held_here(self, session_id: str) -> int | None:
        """The owner of a stream this process holds, if it holds it."""
        return self._sse.get(session_id)

    async def owner(self, session_id: str) -> int | None:
        """The owner of a stream held by any process, if it is open."""
        here = self._sse.get(session_id)
        if here is not None or self.redis is None:
            return here
        found = await self.redis.get(self._sse_key(session_id))
        return int(found) if found is not None else None

    async def forward(self, session_id: str, message: dict[str, Any]) -> bool:
        """Relay a POSTed message to the process holding its stream; False if none listens."""
        if self.redis is None:
            return False
        listeners = await self.redis.publish(self._sse_key(session_id), orjson.dumps(message))
        return bool(listeners)


def mcp_sessions(services: Services) -> McpSessions:
    """The process's McpSessions, kept with the services."""
    found = services.extras.get("mcp_sessions")
    if found is None:
        found = services.extras["mcp_sessions"] = McpSessions(services)
    assert isinstance(found, McpSessions)
    return found
