"""The MCP server registry, per tenant (the seed's MCP group at /api/v2/mcp/servers).

Servers are addressed by name. Reads mask the values of `env` and `headers`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Path, Query, Response

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.resources.routes import ContextDep
from flowdeck.schemas.common import Id, QueryBool, SortOrder
from flowdeck.schemas.mcp_servers import McpServerBody, McpServerRead, McpTestResult
from flowdeck.services.mcp_servers import McpServers

router = guarded_router(prefix="/api/v2/mcp", tags=["MCP"])

Name = Annotated[str, Path(min_length=1, max_length=128)]
Timeout = Annotated[
    float | None, Query(alias="timeout", gt=0, le=300, description="seconds; default: the setting")
]


@both(router, "GET", "/servers", response_model=list[McpServerRead])
@requires(Module.MCP, Op.READ)
async def get_servers(
    ctx: ContextDep,
    action_count: QueryBool | None = None,
    mcp_scope: Id | None = None,
    business_id: Id | None = None,
    all_scopes: QueryBool = False,
    include_sub_businesses: QueryBool = False,
    mcp_type: Annotated[str | None, Query(max_length=32)] = None,
    is_active: QueryBool | None = None,
    keyword: Annotated[str | None, Query(max_length=200)] = None,
    sort_by: Annotated[str | None, Query(max_length=32)] = None,
    sort_order: SortOrder = "desc",
) -> list[McpServerRead]:
    """The tenant's servers; with `action_count`, each one's tool count (asked concurrently)."""
    servers = McpServers(ctx)
    rows = await servers.list(
        mcp_scope=None if all_scopes else mcp_scope,
        business_id=None if all_scopes else business_id,
        include_sub_businesses=include_sub_businesses,
        mcp_type=mcp_type,
        is_active=is_active,
        keyword=keyword,
        sort_by=sort_by,
        descending=sort_order == "desc",
    )
    if not action_count:
        return [servers.read(row) for row in rows]
    limit = ctx.services.settings.mcp_test_timeout
    counts = await asyncio.gather(*(servers.tool_count(row, limit) for row in rows))
    return [servers.read(row, n, err) for row, (n, err) in zip(rows, counts, strict=True)]


@both(router, "PATCH", "/servers", response_model=McpServerRead)
@requires(Module.MCP, Op.MODIFY)
async def update_server_by_query(
    ctx: ContextDep, server_id: Annotated[Id, Query()], body: McpServerBody
) -> McpServerRead:
    """Change the server with this id (the seed's Update Server Endpoint By Query)."""
    servers = McpServers(ctx)
    row = await servers.update(await servers.by_id(server_id), body)
    return servers.read(row)


@both(router, "GET", "/servers/{server_name}", response_model=McpServerRead)
@requires(Module.MCP, Op.READ)
async def get_server(
    ctx: ContextDep,
    server_name: Name,
    server_id: Id | None = None,
    mcp_scope: Id | None = None,
    business_id: Id | None = None,
) -> McpServerRead:
    servers = McpServers(ctx)
    row = await servers.get(
        server_name, server_id=server_id, mcp_scope=mcp_scope, business_id=business_id
    )
    return servers.read(row)


@both(router, "POST", "/servers/{server_name}", response_model=McpServerRead, status_code=201)
@requires(Module.MCP, Op.WRITE)
async def add_server(ctx: ContextDep, server_name: Name, body: McpServerBody) -> McpServerRead:
    servers = McpServers(ctx)
    return servers.read(await servers.add(server_name, body))


@both(router, "PATCH", "/servers/{server_name}", response_model=McpServerRead)
@requires(Module.MCP, Op.MODIFY)
async def update_server(
    ctx: ContextDep, server_name: Name, body: McpServerBody, business_id: Id | None = None
) -> McpServerRead:
    servers = McpServers(ctx)
    row = await servers.update(await servers.get(server_name, business_id=business_id), body)
    return servers.read(row)


@both(router, "DELETE", "/servers/{server_name}", status_code=204)
@requires(Module.MCP, Op.DELETE)
async def delete_server(
    ctx: ContextDep,
    server_name: Name,
    mcp_scope: Id | None = None,
    business_id: Id | None = None,
) -> Response:
    servers = McpServers(ctx)
    row = await servers.get(server_name, mcp_scope=mcp_scope, business_id=business_id)
    await servers.delete(row)
    return Response(status_code=204)


@both(router, "POST", "/servers/{server_name}/test", response_model=McpTestResult)
@requires(Module.MCP, Op.READ)
async def check_server_connection(
    ctx: ContextDep,
    server_name: Name,
    mcp_scope: Id | None = None,
    business_id: Id | None = None,
    time_limit: Timeout = None,
) -> McpTestResult:
    """Connect, list the tools and report their count, or the error, within the time limit."""
    servers = McpServers(ctx)
    row = await servers.get(server_name, mcp_scope=mcp_scope, business_id=business_id)
    return await servers.test(row, time_limit or ctx.services.settings.mcp_test_timeout)
