"""Flow templates (the seed's Create / Read / Update / Delete Flow Template), their list, and
a flow made from a template.

A template is made from a flow, at `POST /api/v1/flows/{flow_id}/templates/`, and read,
changed and deleted at `/api/v1/flow_templates/{template_id}`; `POST
/api/v1/flow_templates/{template_id}/flows` makes a flow of it. Who sees a template is its
model's row scope (RowScope.SHARED: system, tenant, business, personal); who may write one
is the hooks' rule (services/flow_templates.py).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.db.base import Reach
from flowdeck.db.models import FlowTemplate
from flowdeck.resources.declaration import Context, Hooks, Resource
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep, ListFilter, mount
from flowdeck.schemas.flow_templates import (
    FlowFromTemplate,
    FlowTemplateCreate,
    FlowTemplateRead,
    FlowTemplateUpdate,
)
from flowdeck.schemas.flows import FlowRead
from flowdeck.services import flow_templates
from flowdeck.services.flows import FlowService

router = guarded_router(prefix="/api/v1", tags=["Flows"])


async def _check_write(ctx: Context, values: dict[str, Any], row: Any) -> dict[str, Any]:
    if row is None:
        return await flow_templates.placed_new(ctx.session, ctx.principal, values)
    return await flow_templates.changed(ctx.session, ctx.principal, row, values)


async def _check_delete(ctx: Context, row: Any) -> None:
    await flow_templates.may_delete(ctx.session, ctx.principal, row)


TEMPLATES = Resource(
    label="flow template",
    path="/flow_templates",
    module=Module.FLOWS,
    model=FlowTemplate,
    read=FlowTemplateRead,
    create=None,  # made from a flow (create_flow_template below)
    update=FlowTemplateUpdate,
    id_field="template_id",
    id_type=UUID,
    sort={
        "name": "name",
        "scope": "scope",
        "create_at": "created_at",
        "updated_at": "updated_at",
    },
    default_sort="name",
    search=("name", "description"),
    hooks=Hooks(before_write=_check_write, before_delete=_check_delete),
    audit=False,
)


def _flows(ctx: Context) -> FlowService:
    return FlowService(ctx.session, ctx.principal.scope, ctx.services.engine)


def _scope_is(_ctx: Context, reach: Any) -> Any:
    return None if reach is None else FlowTemplate.scope == reach


def _made_from(_ctx: Context, flow_id: Any) -> Any:
    return None if flow_id is None else FlowTemplate.source_flow_id == str(flow_id)


@both(
    router,
    "POST",
    "/flows/{flow_id}/templates",
    response_model=FlowTemplateRead,
    status_code=201,
)
@requires(Module.FLOWS, Op.WRITE)
async def create_flow_template(
    ctx: ContextDep, flow_id: UUID, body: FlowTemplateCreate
) -> FlowTemplate:
    """A template of the flow: its graph (secrets blanked) and looks, shared as `scope` says."""
    flow = await _flows(ctx).get(str(flow_id))
    values = flow_templates.from_flow(flow, body)
    created: FlowTemplate = await ResourceRepository(ctx, TEMPLATES).create(values)
    return created


@both(
    router,
    "POST",
    "/flow_templates/{template_id}/flows",
    response_model=FlowRead,
    status_code=201,
)
@requires(Module.FLOWS, Op.WRITE)
async def create_flow_from_template(
    ctx: ContextDep, template_id: UUID, body: FlowFromTemplate | None = None
) -> FlowRead:
    """A new flow of the caller's, with the template's graph and looks."""
    template = await ResourceRepository(ctx, TEMPLATES).get(str(template_id))
    flows = _flows(ctx)
    made = await flows.create(flow_templates.new_flow(template, body or FlowFromTemplate()))
    return await flows.read(made)


mount(
    router,
    TEMPLATES,
    {
        "scope": ListFilter(Reach | None, None, _scope_is),
        "flow_id": ListFilter(Annotated[UUID | None, Query()], None, _made_from),
    },
)
