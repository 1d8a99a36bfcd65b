"""What runs look up in their tenant: registered chat models, MCP servers, stored components.

The engine knows no database: a host (the server) gives it a `Registries`, and each run
asks it for what the run's own tenant registered. A run with no tenant (the CLI) or an
engine without registries cannot use registered providers or servers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from flowdeck.engine.components.base import Component

McpType = Literal["stdio", "streamable_http", "sse"]


@dataclass(frozen=True, slots=True)
class ChatModelTarget:
    """Where and how to call one registered model of a provider."""

    provider_key: str
    base_url: str
    model: str
    api_key: str = field(repr=False)  # never in a repr, a log line or an error
    max_tokens_field: str = "max_tokens"


@dataclass(frozen=True, slots=True)
class McpEndpoint:
    """How to reach one MCP server: a command to launch (stdio), or a URL (HTTP, SSE)."""

    name: str
    mcp_type: McpType
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict, repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    url: str | None = None


class Registries(Protocol):
    """Looks up what a tenant registered; NotFoundError when it has no such entry."""

    async def chat_model(
        self, tenant_id: str, provider_key: str, model_name: str
    ) -> ChatModelTarget: ...

    async def mcp_server(self, tenant_id: str, name: str) -> McpEndpoint: ...

    async def components(self, tenant_id: str, names: Collection[str]) -> list[type[Component]]:
        """The tenant's active stored components of these names (the others are left out)."""
        ...
