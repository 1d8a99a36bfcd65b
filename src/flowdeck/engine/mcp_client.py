"""Talking to an MCP server (stdio, streamable HTTP or SSE): list its tools, call one.

Each use opens a connection and closes it (a stdio server's process ends with it), so no
process or session outlives the request or the flow step that needed it. Failures are
McpUnavailableError naming what went wrong: `timeout`, `refused` (nothing listening, an
address the network policy forbids) or `bad_configuration` (no such command, a bad URL).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TextIO, cast
from urllib.parse import urlsplit

from flowdeck.engine.netpolicy import NetworkPolicy
from flowdeck.engine.registries import McpEndpoint
from flowdeck.errors import FlowdeckError

Failure = Literal["timeout", "refused", "bad_configuration", "error"]
_STDERR_CHARS = 300


class McpUnavailableError(FlowdeckError):
    """An MCP server could not be reached or used; `kind` says why."""

    code = "mcp_unavailable"

    def __init__(self, message: str, kind: Failure) -> None:
        super().__init__(message, kind=kind)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class ToolInfo:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResult:
    text: str  # every text block of the reply, joined
    content: list[dict[str, Any]]
    structured: Any
    is_error: bool


async def list_tools(
    endpoint: McpEndpoint, policy: NetworkPolicy, time_limit: float
) -> list[ToolInfo]:
    async def work(client: Any) -> list[ToolInfo]:
        tools: list[ToolInfo] = []
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools += [ToolInfo(t.name, t.description or "", t.input_schema) for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                return tools

    result: list[ToolInfo] = await _with_client(endpoint, policy, time_limit, work)
    return result


async def call_tool(
    endpoint: McpEndpoint,
    policy: NetworkPolicy,
    tool: str,
    arguments: dict[str, Any],
    time_limit: float,
) -> ToolResult:
    async def work(client: Any) -> ToolResult:
        reply = await client.call_tool(tool, arguments)
        blocks = [
            b.model_dump(mode="json", by_alias=True, exclude_none=True) for b in reply.content
        ]
        text = "\n".join(b["text"] for b in blocks if b.get("type") == "text")
        return ToolResult(text, blocks, reply.structured_content, bool(reply.is_error))

    result: ToolResult = await _with_client(endpoint, policy, time_limit, work)
    return result


async def _with_client(
    endpoint: McpEndpoint, policy: NetworkPolicy, time_limit: float, work: Any
) -> Any:
    where = f"MCP server {endpoint.name!r}"
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr:
        # The server's stderr, kept for the error message (and out of this server's logs).
        errlog = cast(TextIO, stderr)
        try:
            async with asyncio.timeout(time_limit):
                async with _connected(endpoint, policy, errlog) as client:
                    return await work(client)
        except McpUnavailableError:
            raise
        except TimeoutError:
            raise McpUnavailableError(
                f"{where} did not answer within {time_limit:g}s", "timeout"
            ) from None
        except BaseException as exc:  # the SDK raises groups of anything
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            kind, detail = _classify(_leaf(exc))
            said = _tail(errlog)
            raise McpUnavailableError(
                f"{where}: {detail}" + (f" (it said: {said})" if said else ""), kind
            ) from None


@asynccontextmanager
async def _connected(
    endpoint: McpEndpoint, policy: NetworkPolicy, errlog: TextIO
) -> AsyncIterator[Any]:
    from mcp import Client  # loaded on first use: the SDK takes a while to import

    # The SDK's HTTP client logs each request line at INFO; a URL may carry credentials.
    logging.getLogger("httpx2").setLevel(logging.WARNING)

    if endpoint.mcp_type == "stdio":
        from mcp.client.stdio import StdioServerParameters, stdio_client

        if not endpoint.command:
            raise McpUnavailableError("a stdio MCP server needs a command", "bad_configuration")
        params = StdioServerParameters(
            command=endpoint.command, args=list(endpoint.args), env=endpoint.env or None
        )
        transport: Any = stdio_client(params, errlog=errlog)
    else:
        url = await _checked_url(endpoint, policy)
        if endpoint.mcp_type == "sse":
            from mcp.client.sse import sse_client

            transport = sse_client(url, headers=endpoint.headers or None)
        else:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            http = create_mcp_http_client(headers=endpoint.headers or None)
            transport = streamable_http_client(url, http_client=http)
    async with Client(transport, cache=None) as client:
        yield client


async def _checked_url(endpoint: McpEndpoint, policy: NetworkPolicy) -> str:
    """The server's URL, once the network policy allows its address (as for HTTP steps)."""
    from flowdeck.engine.netguard import checked_address

    url = endpoint.url or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise McpUnavailableError(
            f"MCP server {endpoint.name!r} needs an http(s) URL, not {url!r}", "bad_configuration"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        await checked_address(policy, parts.hostname, port)
    except Exception as exc:  # a refusal, or a name that does not resolve
        raise McpUnavailableError(f"MCP server {endpoint.name!r}: {exc}", "refused") from None
    return url


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _classify(exc: BaseException) -> tuple[Failure, str]:
    import httpx2
    from mcp.shared.exceptions import MCPError
    from pydantic import ValidationError

    if isinstance(exc, MCPError):
        # The SDK reports a server that went away (a stdio process that exited) this way.
        closed = "closed" in exc.error.message.lower()
        return "refused" if closed else "error", f"server error: {exc.error.message}"
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        return "timeout", "timed out"
    if isinstance(exc, ConnectionRefusedError | httpx2.ConnectError):
        return "refused", f"connection refused ({exc})"
    if isinstance(exc, FileNotFoundError | PermissionError | NotADirectoryError):
        return "bad_configuration", f"cannot start its command ({exc})"
    if isinstance(exc, ValueError | ValidationError | httpx2.UnsupportedProtocol):
        return "bad_configuration", f"bad configuration ({exc})"
    if isinstance(exc, httpx2.HTTPStatusError):
        return "refused", f"HTTP {exc.response.status_code} from {exc.request.url}"
    if isinstance(exc, OSError):
        return "refused", f"connection failed ({exc})"
    return "error", str(exc) or type(exc).__name__


def _tail(errlog: TextIO) -> str:
    errlog.seek(0)
    text = errlog.read().strip()
    return text[-_STDERR_CHARS:]
