"""Flows at Langflow's paths: CRUD, listing, batch, upload, download, public, examples."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Body, Depends, Query, UploadFile
from fastapi.responses import Response

from flowdeck.access.catalog import Module, Op, Privilege
from flowdeck.access.declare import public, requires
from flowdeck.access.guard import demand, guarded_router
from flowdeck.api.deps import CurrentUser, PrincipalDep, ScopeDep, ServicesDep, SessionDep
from flowdeck.api.paths import both
from flowdeck.api.responses import JSON
from flowdeck.db.repositories.flows import SORTABLE, FlowQuery
from flowdeck.errors import NotFoundError
from flowdeck.schemas.common import PageNumber, QueryBool
from flowdeck.schemas.flows import (
    FlowBatch,
    FlowCreate,
    FlowHeader,
    FlowProblems,
    FlowRead,
    FlowToValidate,
    FlowUpdate,
    GraphDump,
    GraphProblem,
    Page,
)
from flowdeck.services.component_types import starter_projects
from flowdeck.services.flow_files import (
    export,
    read_flow_file,
    strip_secrets,
    zip_flows,
    zip_name,
)
from flowdeck.services.flows import FlowService, public_flow
from flowdeck.services.graphs import snapshot

router = guarded_router(prefix="/api/v1", tags=["Flows"])


def flow_service(session: SessionDep, scope: ScopeDep, services: ServicesDep) -> FlowService:
    return FlowService(session, scope, services.engine)


FlowsDep = Annotated[FlowService, Depends(flow_service)]
IdList = Annotated[list[UUID], Body()]


def zip_response(docs: list[dict[str, Any]], label: str) -> Response:
    return Response(
        zip_flows(docs),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{zip_name(label)}"'},
    )


# Fixed paths first: `/flows/{flow_id}` would otherwise take them.
@both(router, "GET", "/flows/public_flow/{flow_id}", response_model=FlowRead)
@public
async def read_public_flow(flow_id: UUID, session: SessionDep, services: ServicesDep) -> FlowRead:
    """Read a PUBLIC flow without credentials (secrets blanked)."""
    flow = await public_flow(session, str(flow_id), enabled=services.settings.public_flows)
    read = FlowRead.model_validate(flow)
    read.data = strip_secrets(snapshot(read.data)) if read.data is not None else None
    return read


@both(router, "POST", "/flows/batch/", response_model=list[FlowRead], status_code=201)
@requires(Module.FLOWS, Op.WRITE)
async def create_flows(body: FlowBatch, flows: FlowsDep) -> list[FlowRead]:
    """Create many flows at once; all or none."""
    return await flows.reads([await flows.create(item) for item in body.flows])


@both(router, "POST", "/flows/upload/", response_model=list[FlowRead], status_code=201)
@requires(Module.FLOWS, Op.WRITE)
async def upload_file(
    file: UploadFile,
    flows: FlowsDep,
    project_id: str | None = None,
    folder_id: str | None = None,
) -> list[FlowRead]:
    """Create flows from a flow JSON, a JSON list, {"flows": [...]}, or a zip of JSON files."""
    content = await file.read()
    parsed = read_flow_file(file.filename, content)
    created = await flows.import_docs(
        parsed.flows, project_id or folder_id, source=file.filename or "upload"
    )
    return await flows.reads(created)


@both(router, "POST", "/flows/download/", response_model=None)
@requires(Module.FLOWS, Op.READ)
async def download_multiple_file(flow_ids: IdList, flows: FlowsDep) -> Response:
    """One flow as JSON; several as a zip of JSON files (Langflow's behaviour)."""
    rows = await flows.repo.by_ids([str(i) for i in flow_ids])
    if not rows:
        raise NotFoundError("no flows found", field="flow_ids")
    docs = [export(r) for r in await flows.reads(rows)]
    if len(docs) == 1:
        return JSON(docs[0])
    return zip_response(docs, "flowdeck_flows")


@both(router, "GET", "/flows/basic_examples/", response_model=list[FlowRead])
@requires(Module.FLOWS, Op.READ)
async def read_basic_examples(services: ServicesDep) -> list[FlowRead]:
    """The flows shipped with flowdeck, their nodes in Langflow's full shape."""
    return [FlowRead.model_validate(doc) for doc in starter_projects(services.engine.registry)]


@both(router, "GET", "/starter-projects/", response_model=list[GraphDump])
@requires(Module.FLOWS, Op.READ)
async def get_starter_projects(services: ServicesDep) -> list[GraphDump]:
    """The shipped flows as Langflow's graph dumps: `{data, name, description, ...}`."""
    return [GraphDump.model_validate(doc) for doc in starter_projects(services.engine.registry)]


@router.post("/validate/flow", response_model=FlowProblems)
@requires(Module.FLOWS, Op.READ)
async def validate_flow(body: FlowToValidate, flows: FlowsDep) -> FlowProblems:
    """Check a flow's graph without saving it: the problems per node id and field (200 even
    when invalid; a document that is not a flow graph at all is a 4xx)."""
    found = [GraphProblem(**issue.to_dict()) for issue in flows.problems(body.data)]
    return FlowProblems(valid=not found, errors=found)


@both(router, "POST", "/flows/", response_model=FlowRead, status_code=201)
@requires(Module.FLOWS, Op.WRITE)
async def create_flow(body: FlowCreate, flows: FlowsDep) -> FlowRead:
    """Create a flow; its graph is validated, a taken name gets ` (n)`."""
    return await flows.read(await flows.create(body))


@both(router, "GET", "/flows/", response_model=None)
@requires(Module.FLOWS, Op.READ)
async def read_flows(
    flows: FlowsDep,
    user: CurrentUser,
    get_all: QueryBool = True,
    header_flows: QueryBool = False,
    components_only: QueryBool = False,
    remove_example_flows: QueryBool = False,
    project_id: str | None = None,
    folder_id: str | None = None,
    keyword: str | None = None,
    flow_type: str | None = None,
    sort_by: Annotated[str | None, Query(json_schema_extra={"enum": [*SORTABLE]})] = None,
    sort_order: Literal["asc", "desc"] = "desc",
    page: PageNumber | None = None,
    size: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> JSON:
    """The caller's flows: a list, a page ({items, total, page, size, pages}), or headers."""
    query = FlowQuery(
        owner_id=user.id,
        project_id=project_id or folder_id,
        components_only=components_only,
        without_examples=remove_example_flows,
        keyword=keyword or None,
        flow_type=flow_type or None,
        sort_by=sort_by or "updated_at",
        descending=sort_order == "desc",
    )
    shape = FlowHeader if header_flows else None
    if get_all and (page is None or size is None):
        rows = await flows.search(query)
        return JSON([_dump(r, shape) for r in await flows.reads(rows)])
    page, size = page or 1, size or 50
    rows, total = await flows.page(query, page, size)
    items = [_dump(r, shape) for r in await flows.reads(rows)]
    return JSON(Page[dict[str, Any]].of(items, total, page, size).model_dump(mode="json"))


def _dump(read: FlowRead, shape: type[FlowHeader] | None) -> dict[str, Any]:
    if shape is None:
        return read.model_dump(mode="json")
    header = shape.model_validate(read.model_dump())
    if not header.is_component:
        header.data = None
    return header.model_dump(mode="json")


@both(router, "DELETE", "/flows/")
@requires(Module.FLOWS, Op.DELETE)
async def delete_multiple_flows(flow_ids: IdList, flows: FlowsDep) -> dict[str, int]:
    """Delete the listed flows the caller can see; how many were deleted."""
    return {"deleted": await flows.delete_many([str(i) for i in flow_ids])}


@both(router, "GET", "/flows/{flow_id}", response_model=FlowRead)
@requires(Module.FLOWS, Op.READ)
async def read_flow(flow_id: UUID, flows: FlowsDep) -> FlowRead:
    return await flows.read(await flows.get(str(flow_id)))


@both(router, "PATCH", "/flows/{flow_id}", response_model=FlowRead)
@requires(Module.FLOWS, Op.MODIFY)
async def update_flow(flow_id: UUID, body: FlowUpdate, flows: FlowsDep) -> FlowRead:
    """Update a flow; a stale `last_known_updated_at` is 409 and nothing is written."""
    return await flows.read(await flows.update(str(flow_id), body))


@both(
    router,
    "PUT",
    "/flows/{flow_id}",
    response_model=FlowRead,
    responses={201: {"model": FlowRead, "description": "Created with this id"}},
)
@requires(Module.FLOWS, Op.MODIFY)
async def upsert_flow(
    flow_id: UUID, body: FlowCreate, flows: FlowsDep, principal: PrincipalDep
) -> JSON:
    """Langflow's upsert: update the flow with this id (200), or create it with this id
    (201; creating needs the WRITE privilege too)."""
    flow, created = await flows.upsert(
        str(flow_id), body, lambda: demand(principal, Privilege(Module.FLOWS, Op.WRITE))
    )
    read = await flows.read(flow)
    return JSON(read.model_dump(mode="json"), status_code=201 if created else 200)


@both(router, "DELETE", "/flows/{flow_id}")
@requires(Module.FLOWS, Op.DELETE)
async def delete_flow(flow_id: UUID, flows: FlowsDep) -> dict[str, str]:
    await flows.delete(str(flow_id))
    return {"message": "Flow deleted successfully"}
