"""Flow templates: who writes a template of each reach, what a template takes from a flow,
and the flow made from one.

What a caller sees is the model's row scope (RowScope.SHARED); what they may write is
decided here, for the reach a template has and the one a change gives it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.access.catalog import Module, Op, Privilege
from flowdeck.access.principal import Principal
from flowdeck.db.base import Reach
from flowdeck.db.models import Flow, FlowTemplate, Tenant
from flowdeck.errors import PermissionDeniedError, UnprocessableError
from flowdeck.schemas.flow_templates import FlowFromTemplate, FlowTemplateCreate
from flowdeck.schemas.flows import FlowCreate
from flowdeck.services.businesses import in_tenant
from flowdeck.services.flow_files import strip_secrets
from flowdeck.services.graphs import snapshot

# Columns an update may not set to null (a null there means "leave it as it is").
_KEPT = frozenset({"name", "tags", "flow_type"})


async def may_write(
    session: AsyncSession, principal: Principal, reach: Reach, business_id: int | None, op: Op
) -> None:
    """Refuse a write of `op` on a template of `reach` the caller may not make."""
    if reach is Reach.SYSTEM:
        if not principal.user.is_superuser:
            raise PermissionDeniedError(
                "only platform superusers write system templates", field="scope"
            )
        return
    if reach is Reach.PERSONAL:
        return  # the owner's alone, and no one else sees it to change it
    priv = Privilege(Module.FLOWS, op).priv_id
    if reach is Reach.TENANT:
        if priv not in principal.privileges:
            raise PermissionDeniedError(
                f"a tenant template needs {op} on flows in the tenant", field="scope"
            )
        return
    if not business_id:
        raise UnprocessableError("a business template names its business_id", field="business_id")
    await in_tenant(session, principal.tenant_id, business_id)
    if priv not in principal.privileges and business_id not in principal.businesses_for(priv):
        raise PermissionDeniedError(
            f"{op} on flows is not granted on business {business_id}", field="business_id"
        )


async def placed_new(
    session: AsyncSession, principal: Principal, values: dict[str, Any]
) -> dict[str, Any]:
    """A new template's reach and business, checked; system ones live in the system tenant."""
    reach = Reach(values.get("scope") or Reach.TENANT)
    business = values.get("business_id") or None
    if business and reach is not Reach.BUSINESS:
        raise UnprocessableError(
            f"a {reach} template belongs to no business (business_id)", field="business_id"
        )
    await may_write(session, principal, reach, business, Op.WRITE)
    values = {**values, "scope": reach, "business_id": business}
    if reach is Reach.SYSTEM:
        values["tenant_id"] = await _system_tenant(session)
    return values


def _reach_after(row: FlowTemplate, changes: dict[str, Any]) -> tuple[Reach, int | None]:
    """The reach a change gives: a business_id makes a business template, is_self a personal
    one; clearing them makes it the tenant's. A system template stays one."""
    reach, is_self = Reach(row.scope), changes.get("is_self")
    if "business_id" in changes:
        business = changes["business_id"] or None
        if business and is_self:
            raise UnprocessableError(
                "a personal template belongs to no business (business_id)", field="business_id"
            )
    else:
        business = row.business_id
    if reach is Reach.SYSTEM:
        if business or is_self:
            field = "is_self" if is_self else "business_id"
            raise UnprocessableError(
                "a system template belongs to no business or person", field=field
            )
        return reach, None
    if is_self or (is_self is None and reach is Reach.PERSONAL and not business):
        return Reach.PERSONAL, None
    return (Reach.BUSINESS, business) if business else (Reach.TENANT, None)


async def changed(
    session: AsyncSession, principal: Principal, row: FlowTemplate, changes: dict[str, Any]
) -> dict[str, Any]:
    """An update's values, once the caller may change the template as it is and as it would
    be."""
    await may_write(session, principal, Reach(row.scope), row.business_id, Op.MODIFY)
    reach, business = _reach_after(row, changes)
    if (reach, business) != (Reach(row.scope), row.business_id):
        await may_write(session, principal, reach, business, Op.MODIFY)
    values = {k: v for k, v in changes.items() if not (v is None and k in _KEPT)}
    values.pop("is_self", None)
    return {**values, "scope": reach, "business_id": business}


async def may_delete(session: AsyncSession, principal: Principal, row: FlowTemplate) -> None:
    await may_write(session, principal, Reach(row.scope), row.business_id, Op.DELETE)


def from_flow(flow: Flow, body: FlowTemplateCreate) -> dict[str, Any]:
    """A template's values from a flow. Secrets are blanked: a template reaches further
    than the flow it was made from."""
    return {
        "name": body.name,
        "description": body.note if body.note is not None else flow.description,
        "scope": body.scope,
        "business_id": body.business_id,
        "source_flow_id": flow.id,
        "data": strip_secrets(snapshot(flow.data)) if flow.data else None,
        "icon": flow.icon,
        "icon_bg_color": flow.icon_bg_color,
        "gradient": flow.gradient,
        "tags": list(flow.tags or []),
        "flow_type": flow.flow_type or "",
    }


def new_flow(template: FlowTemplate, body: FlowFromTemplate) -> FlowCreate:
    """What a flow made from `template` is created with (its graph is checked as any)."""
    return FlowCreate(
        name=body.name or template.name,
        description=body.description if body.description is not None else template.description,
        icon=template.icon,
        icon_bg_color=template.icon_bg_color,
        gradient=template.gradient,
        data=snapshot(template.data) if template.data else None,
        tags=[str(tag) for tag in template.tags or []],
        flow_type=template.flow_type or None,
        project_id=body.project_id,
        business_id=body.business_id,
    )


async def _system_tenant(session: AsyncSession) -> str:
    found = await session.execute(select(Tenant.id).where(Tenant.is_sys.is_(True)).limit(1))
    tenant_id: str = found.scalar_one()
    return tenant_id
