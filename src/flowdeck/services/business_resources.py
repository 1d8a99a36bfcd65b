"""What belongs to a business, by kind, among what the caller may read.

A kind is a model with a `business_id` and the privilege that reads it; the kinds the seed
names that this server has no model for (variables, skills, plugins, knowledge bases, and
components until they are stored per business) hold nothing, so their lists are empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.access.catalog import Module, Op, Privilege
from flowdeck.access.principal import Principal
from flowdeck.db.models import Flow, McpServer, Project
from flowdeck.db.repositories.base import Repository, Scope
from flowdeck.schemas.businesses import BusinessResource, ResourceType


@dataclass(frozen=True, slots=True)
class Kind:
    repository: type[Repository[Any]]
    module: Module
    id: str
    name: str
    description: str
    owner: str
    created: str
    updated: str


def _rows(model: type[Any]) -> type[Repository[Any]]:
    return type(f"{model.__name__}BusinessRows", (Repository,), {"model": model})


KINDS: dict[ResourceType, Kind] = {
    ResourceType.FLOW: Kind(
        _rows(Flow),
        Module.FLOWS,
        "id",
        "name",
        "description",
        "user_id",
        "created_at",
        "updated_at",
    ),
    ResourceType.PROJECT: Kind(
        _rows(Project),
        Module.PROJECTS,
        "id",
        "name",
        "description",
        "user_id",
        "created_at",
        "updated_at",
    ),
    ResourceType.MCP: Kind(
        _rows(McpServer), Module.MCP, "server_id", "name", "note", "c_uid", "ctime", "utime"
    ),
}


async def belonging_to(
    session: AsyncSession,
    principal: Principal,
    business_id: int,
    kind_name: ResourceType,
    search: str | None,
    sort_by: str,
    sort_order: str,
) -> list[BusinessResource]:
    kind = KINDS.get(kind_name)
    read = Privilege(kind.module, Op.READ).priv_id if kind is not None else ""
    if kind is None or not principal.can(read):
        return []
    # The rows the caller would see through the kind's own routes: their own, those of the
    # businesses where their business roles grant READ on it, or the tenant's (admins).
    scope = principal.scope
    if not scope.tenant_wide:
        scope = Scope(scope.tenant_id, scope.user_id, False, principal.businesses_for(read))
    model = kind.repository.model
    column = getattr(model, kind.id if sort_by == "id" else kind.name)
    stmt = kind.repository(session, scope).scoped(
        select(model).where(model.business_id == business_id)
    )
    if search:
        stmt = stmt.where(getattr(model, kind.name).ilike(f"%{search}%"))
    stmt = stmt.order_by(column.desc() if sort_order == "desc" else column.asc())
    return [
        BusinessResource(
            resource_type=kind_name,
            id=str(getattr(row, kind.id)),
            name=getattr(row, kind.name),
            description=getattr(row, kind.description),
            business_id=business_id,
            user_id=getattr(row, kind.owner),
            created_at=getattr(row, kind.created),
            updated_at=getattr(row, kind.updated),
        )
        for row in (await session.execute(stmt)).scalars()
    ]
