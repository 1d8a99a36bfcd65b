"""The MCP server registry's bodies and answers (the seed's MCP group, /api/v2/mcp/servers).

Values of `env` and `headers` are secrets: stored sealed, read back masked (their names
stay visible). An update that sends a masked value back keeps the stored one.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool

from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id

McpType = Literal["stdio", "streamable_http", "sse"]
# Names clients use for the same transports (Langflow's modes among them).
MCP_TYPE_ALIASES: dict[str, McpType] = {
    "stdio": "stdio",
    "streamable_http": "streamable_http",
    "streamable-http": "streamable_http",
    "streamablehttp": "streamable_http",
    "http": "streamable_http",
    "sse": "sse",
}

ServerName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^/\s][^/]*$")]
_Text = Annotated[str, Field(max_length=8192)]


class McpScope(IntEnum):
    """Who a server is registered for: the whole tenant, or one business in it."""

    TENANT = 1
    BUSINESS = 2


class McpServerBody(Schema):
    """Add (POST) or change (PATCH) a server; on PATCH only the fields sent change."""

    # The seed allows other properties: they are accepted and not kept.
    model_config = ConfigDict(extra="ignore")

    mcp_scope: McpScope | None = None
    business_id: Id | None = None
    new_name: ServerName | None = None
    mcp_type: str | None = Field(None, max_length=32)
    command: str | None = Field(None, max_length=1024)
    args: list[_Text] | None = Field(None, max_length=256)
    env: dict[str, _Text] | None = Field(None, max_length=256)
    headers: dict[str, _Text] | None = Field(None, max_length=256)
    url: str | None = Field(None, max_length=2048)
    logo: str | None = Field(None, max_length=2048)
    note: str | None = Field(None, max_length=2000)
    is_active: StrictBool | None = None


class McpServerRead(Schema):
    server_id: int
    name: str
    mcp_scope: int
    business_id: int | None
    mcp_type: McpType
    mode: McpType  # Langflow's name for the transport
    command: str | None
    args: list[str]
    env: dict[str, str]  # values masked
    headers: dict[str, str]  # values masked
    url: str | None
    logo: str | None
    note: str | None
    is_active: bool
    c_uid: int | None
    m_uid: int | None
    ctime: datetime
    utime: datetime
    # With `action_count=true`: the tools the server lists now, or why it could not be asked.
    toolsCount: int | None = None  # Langflow's name
    error: str | None = None


class McpTool(Schema):
    name: str
    description: str
    input_schema: dict[str, object]


class McpTestResult(Schema):
    success: bool
    server_name: str
    mcp_type: McpType
    tool_count: int | None = None
    tools: list[McpTool] = Field(default_factory=list)
    error: str | None = None
    error_kind: Literal["timeout", "refused", "bad_configuration", "error"] | None = None
    elapsed_ms: int
