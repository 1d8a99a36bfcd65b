"""The MCP server registry of a tenant: servers by name, their sealed secrets, and tests.

A stdio server is a command this host runs; like custom code it needs
FLOWDECK_ALLOW_CUSTOM_CODE before it is started (tested, or called from a flow).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import or_, select

from flowdeck.auth.sealing import SecretBox, keep_unchanged, masked_map
from flowdeck.db.models import McpServer
from flowdeck.db.repositories.base import Repository
from flowdeck.engine.mcp_client import McpUnavailableError, list_tools
from flowdeck.engine.registries import McpEndpoint
from flowdeck.errors import (
    ConflictError,
    CustomCodeDisabledError,
    NotFoundError,
    UnprocessableError,
)
from flowdeck.resources.declaration import Context
from flowdeck.schemas.mcp_servers import (
    MCP_TYPE_ALIASES,
    McpScope,
    McpServerBody,
    McpServerRead,
    McpTestResult,
    McpTool,
    McpType,
)
from flowdeck.services.businesses import in_subtrees, in_tenant

SORT: dict[str, Any] = {
    "server_id": McpServer.server_id,
    "name": McpServer.name,
    "mcp_type": McpServer.mcp_type,
    "mcp_scope": McpServer.mcp_scope,
    "is_active": McpServer.is_active,
    "ctime": McpServer.ctime,
    "utime": McpServer.utime,
}
DEFAULT_SORT = "ctime"
STDIO_DISABLED = (
    "stdio MCP servers run a command on this host: set FLOWDECK_ALLOW_CUSTOM_CODE to start them"
)


class McpServerRows(Repository[McpServer]):
    model = McpServer
    label = "MCP server"


def endpoint_of(row: McpServer, secrets: SecretBox) -> McpEndpoint:
    """How to reach a stored server, its secrets opened (for the connection only)."""
    return McpEndpoint(
        name=row.name,
        mcp_type=_mcp_type(row.mcp_type),
        command=row.command,
        args=tuple(str(a) for a in row.args or ()),
        env=secrets.open_map(row.env_sealed),
        headers=secrets.open_map(row.headers_sealed),
        url=row.url,
    )


def _mcp_type(value: str) -> McpType:
    found = MCP_TYPE_ALIASES.get(value.strip().lower())
    if found is None:
        raise UnprocessableError(
            f"mcp_type must be one of stdio, streamable_http, sse; not {value!r}", field="mcp_type"
        )
    return found


class McpServers:
    """One request's view of the tenant's servers (the caller's scope applies)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rows = McpServerRows(ctx.session, ctx.principal.scope)
        secrets: SecretBox | None = ctx.services.secrets
        if secrets is None:
            raise RuntimeError("the services hold no SecretBox")
        self.secrets = secrets

    async def list(
        self,
        *,
        mcp_scope: int | None = None,
        business_id: int | None = None,
        include_sub_businesses: bool = False,
        mcp_type: str | None = None,
        is_active: bool | None = None,
        keyword: str | None = None,
        sort_by: str | None = None,
        descending: bool = True,
    ) -> list[McpServer]:
        stmt = self.rows.scoped(select(McpServer))
        if mcp_scope is not None:
            stmt = stmt.where(McpServer.mcp_scope == mcp_scope)
        if business_id is not None and include_sub_businesses:
            stmt = stmt.where(in_subtrees(McpServer.business_id, [business_id]))
        elif business_id is not None:
            stmt = stmt.where(McpServer.business_id == business_id)
        if mcp_type is not None:
            stmt = stmt.where(McpServer.mcp_type == _mcp_type(mcp_type))
        if is_active is not None:
            stmt = stmt.where(McpServer.is_active.is_(is_active))
        if keyword:
            pattern = f"%{keyword}%"
            stmt = stmt.where(
                or_(*(c.ilike(pattern) for c in (McpServer.name, McpServer.note, McpServer.url)))
            )
        key = sort_by or DEFAULT_SORT
        if key not in SORT:
            raise UnprocessableError(
                f"cannot sort by {key!r}; one of {', '.join(SORT)}", field="sort_by"
            )
        column = SORT[key]
        stmt = stmt.order_by(column.desc() if descending else column.asc(), McpServer.server_id)
        return list((await self.ctx.session.execute(stmt)).scalars())

    async def get(
        self,
        name: str,
        *,
        server_id: int | None = None,
        mcp_scope: int | None = None,
        business_id: int | None = None,
    ) -> McpServer:
        """The named server; the other parameters, when given, must match it too."""
        stmt = self.rows.scoped(select(McpServer)).where(McpServer.name == name)
        if server_id is not None:
            stmt = stmt.where(McpServer.server_id == server_id)
        if mcp_scope is not None:
            stmt = stmt.where(McpServer.mcp_scope == mcp_scope)
        if business_id is not None:
            stmt = stmt.where(McpServer.business_id == business_id)
        row: McpServer | None = (await self.ctx.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"MCP server {name!r} not found", field="server_name")
        return row

    async def by_id(self, server_id: int) -> McpServer:
        row = await self.rows.find(server_id)
        if row is None:
            raise NotFoundError(f"MCP server {server_id} not found", field="server_id")
        return row

    async def add(self, name: str, body: McpServerBody) -> McpServer:
        values = await self._checked(body, None)
        values["name"] = body.new_name or name
        await self._check_name_free(values["name"])
        user = self.ctx.principal.user.id
        return await self.rows.create(**values, c_uid=user, m_uid=user)

    async def update(self, row: McpServer, body: McpServerBody) -> McpServer:
        values = await self._checked(body, row)
        if body.new_name and body.new_name != row.name:
            await self._check_name_free(body.new_name)
            values["name"] = body.new_name
        values["m_uid"] = self.ctx.principal.user.id
        await self.rows.update(row, values)
        await self.ctx.session.refresh(row)
        return row

    async def delete(self, row: McpServer) -> None:
        await self.rows.delete(row)

    async def _check_name_free(self, name: str) -> None:
        taken = await self.ctx.session.execute(
            self.rows.scoped(select(McpServer.server_id)).where(McpServer.name == name)
        )
        if taken.first() is not None:
            raise ConflictError(f"MCP server {name!r} already exists", field="server_name")

    async def _checked(self, body: McpServerBody, row: McpServer | None) -> dict[str, Any]:
        values = self._values(body, row)
        if values.get("business_id") is not None:  # one of this tenant's, or 404
            await in_tenant(self.ctx.session, self.ctx.principal.tenant_id, values["business_id"])
        return values

    def _values(self, body: McpServerBody, row: McpServer | None) -> dict[str, Any]:
        """The columns to write, checked as the server will be once written."""
        sent = body.model_dump(exclude_unset=True, exclude={"new_name"})
        values: dict[str, Any] = {}
        for key in ("command", "url", "logo", "note", "is_active", "business_id"):
            if key in sent:
                values[key] = sent[key]
        if sent.get("args") is not None:
            values["args"] = list(sent["args"])
        if sent.get("mcp_scope") is not None:
            values["mcp_scope"] = int(sent["mcp_scope"])
        if "env" in sent:
            old = self.secrets.open_map(row.env_sealed) if row is not None else {}
            values["env_sealed"] = self.secrets.seal_map(keep_unchanged(sent["env"] or {}, old))
        if "headers" in sent:
            old = self.secrets.open_map(row.headers_sealed) if row is not None else {}
            merged = keep_unchanged(sent["headers"] or {}, old)
            values["headers_sealed"] = self.secrets.seal_map(merged)

        def final(key: str, default: Any = None) -> Any:
            if key in values:
                return values[key]
            return getattr(row, key) if row is not None else default

        command, url = final("command"), final("url")
        if sent.get("mcp_type"):
            values["mcp_type"] = _mcp_type(sent["mcp_type"])
        elif row is None:
            values["mcp_type"] = "stdio" if command or not url else "streamable_http"
        kind = final("mcp_type")
        if kind == "stdio" and not command:
            raise UnprocessableError("a stdio MCP server needs a command", field="command")
        if kind != "stdio" and not (url or "").startswith(("http://", "https://")):
            raise UnprocessableError(f"a {kind} MCP server needs an http(s) url", field="url")
        if final("mcp_scope", int(McpScope.TENANT)) == McpScope.BUSINESS and (
            final("business_id") is None
        ):
            raise UnprocessableError(
                "a server registered for a business needs its business_id", field="business_id"
            )
        return values

    def read(
        self, row: McpServer, tools: int | None = None, error: str | None = None
    ) -> McpServerRead:
        kind = _mcp_type(row.mcp_type)
        return McpServerRead(
            server_id=row.server_id,
            name=row.name,
            mcp_scope=row.mcp_scope,
            business_id=row.business_id,
            mcp_type=kind,
            mode=kind,
            command=row.command,
            args=[str(a) for a in row.args or ()],
            env=masked_map(self.secrets.open_map(row.env_sealed)),
            headers=masked_map(self.secrets.open_map(row.headers_sealed)),
            url=row.url,
            logo=row.logo,
            note=row.note,
            is_active=row.is_active,
            c_uid=row.c_uid,
            m_uid=row.m_uid,
            ctime=row.ctime,
            utime=row.utime,
            toolsCount=tools,
            error=error,
        )

    async def tool_count(self, row: McpServer, time_limit: float) -> tuple[int | None, str | None]:
        """How many tools a server lists now, or why that could not be found out."""
        endpoint = endpoint_of(row, self.secrets)
        if endpoint.mcp_type == "stdio" and not self.ctx.services.settings.allow_custom_code:
            return None, STDIO_DISABLED
        try:
            tools = await list_tools(endpoint, self.ctx.services.engine.network, time_limit)
        except McpUnavailableError as exc:
            return None, exc.message
        return len(tools), None if tools else "No tools found"

    async def test(self, row: McpServer, time_limit: float) -> McpTestResult:
        """Connect, list the tools, and say how many there are or what went wrong."""
        endpoint = endpoint_of(row, self.secrets)
        if endpoint.mcp_type == "stdio" and not self.ctx.services.settings.allow_custom_code:
            raise CustomCodeDisabledError(STDIO_DISABLED, field="mcp_type")
        started = time.perf_counter()
        base = {"server_name": row.name, "mcp_type": endpoint.mcp_type}
        try:
            tools = await list_tools(endpoint, self.ctx.services.engine.network, time_limit)
        except McpUnavailableError as exc:
            elapsed = int((time.perf_counter() - started) * 1000)
            return McpTestResult(
                success=False, error=exc.message, error_kind=exc.kind, elapsed_ms=elapsed, **base
            )
        elapsed = int((time.perf_counter() - started) * 1000)
        listed = [
            McpTool(name=t.name, description=t.description, input_schema=t.input_schema)
            for t in tools
        ]
        return McpTestResult(
            success=True, tool_count=len(listed), tools=listed, elapsed_ms=elapsed, **base
        )
