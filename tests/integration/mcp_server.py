"""A real MCP server for the tests (the `mcp` SDK's MCPServer, formerly FastMCP).

`python mcp_server.py` serves it over stdio; `app()` is its streamable-HTTP ASGI app.
"""

from __future__ import annotations

import os
import sys

from mcp.server import MCPServer

server = MCPServer("flowdeck-test-tools")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@server.tool()
def shout(text: str) -> str:
    """The text in capitals, with the server's greeting (from its environment) before it."""
    greeting = os.environ.get("TOOL_GREETING", "")
    return f"{greeting}{text.upper()}"


@server.tool()
def fail(reason: str) -> str:
    """Always fails, saying why."""
    raise ValueError(reason)


def app():  # type: ignore[no-untyped-def]
    return server.streamable_http_app()


if __name__ == "__main__":
    if "--silent-hang" in sys.argv:
        # A process that never speaks MCP: a connection test must give up on it in time.
        import time

        time.sleep(3600)
    server.run("stdio")
