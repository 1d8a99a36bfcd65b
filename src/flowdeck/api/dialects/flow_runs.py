"""The flow-runs dialect: `/api/v1/flow-runs`, run records in camelCase with cursor pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.responses import JSONResponse

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import PrincipalDep, ServicesDep, SessionDep
from flowdeck.api.responses import JSON
from flowdeck.errors import ConflictError, InvalidInputError, PermissionDeniedError
from flowdeck.schemas.flow_runs import (
    ID_PATTERN,
    STATE_OF,
    CursorPage,
    FlowRunCreate,
    FlowRunRead,
    FlowRunUpsert,
    Phase,
)
from flowdeck.services.run_views import RunFilter, RunViews

router = guarded_router(prefix="/api/v1/flow-runs", tags=["Flow runs"])

RunId = Annotated[str, Path(pattern=ID_PATTERN, max_length=36)]


def run_views(services: ServicesDep, session: SessionDep, caller: PrincipalDep) -> RunViews:
    return RunViews(services, session, caller.user, caller.scope)


ViewsDep = Annotated[RunViews, Depends(run_views)]


def _dump(read: FlowRunRead) -> dict[str, object]:
    return read.model_dump(mode="json", by_alias=True)


@router.get("", response_model=CursorPage[FlowRunRead])
@requires(Module.RUNS, Op.READ)
async def get_flow_runs(
    views: ViewsDep,
    cursor: str | None = None,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
    flow_id: Annotated[str | None, Query(alias="flowId")] = None,
    phase: Phase | None = None,
    flow_type: Annotated[str | None, Query(alias="flowType", max_length=32)] = None,
) -> CursorPage[FlowRunRead]:
    """The caller's runs, newest first; `cursor` is a page cursor from an earlier answer."""
    states = (STATE_OF[phase],) if phase is not None else ()
    flt = RunFilter(flow_id=flow_id, states=states, flow_type=flow_type)
    page = await views.page(flt, cursor=cursor, size=size)
    return CursorPage[FlowRunRead].of(page, FlowRunRead.from_run)


@router.post("", response_model=FlowRunRead, status_code=201)
@requires(Module.RUNS, Op.WRITE)
async def create_flow_run(body: FlowRunCreate, views: ViewsDep) -> FlowRunRead:
    """Start a run of `flowId` with `args` (input_value, tweaks, `component.field` values)."""
    flow = await views.flow(body.flow_id, "flowId")
    _check_flow_type(body.flow_type, flow.flow_type)
    run = await views.create(
        flow,
        body.args,
        params_field="args",
        flow_field="flowId",
        run_id=body.id,
        tags=[t.model_dump() for t in body.tags],
        meta={"dialect": "flow-runs"},
    )
    return FlowRunRead.from_run(run)


@router.get("/{id_}", response_model=FlowRunRead)
@requires(Module.RUNS, Op.READ)
async def get_flow_run(id_: str, views: ViewsDep) -> FlowRunRead:
    return FlowRunRead.from_run(await views.get(id_))


@router.put("/{id_}", response_model=FlowRunRead)
@requires(Module.RUNS, Op.MODIFY)
async def upsert_flow_run(id_: RunId, body: FlowRunUpsert, views: ViewsDep) -> JSONResponse:
    """Create the run `id_` (201), or change an existing one's tags and phase (200)."""
    if body.id is not None and body.id != id_:
        raise InvalidInputError(f"id {body.id} does not match the path's {id_}", field="id")
    flow = await views.flow(body.flow_id, "flowId")
    _check_flow_type(body.flow_type, flow.flow_type)
    tags = [t.model_dump() for t in body.tags] if body.tags is not None else None
    run = await views.find(id_)
    if run is None:
        if await views.id_taken_elsewhere(id_):
            raise PermissionDeniedError(f"run {id_} belongs to someone else", field="id")
        run = await views.create(
            flow,
            body.args or {},
            params_field="args",
            flow_field="flowId",
            run_id=id_,
            tags=tags,
            meta={"dialect": "flow-runs"},
        )
        return JSON(_dump(FlowRunRead.from_run(run)), status_code=201)
    if flow.id != run.flow_id:
        raise ConflictError(f"run {id_} is a run of flow {run.flow_id}", field="flowId")
    current = FlowRunRead.from_run(run)
    if body.args is not None and body.args != current.args:
        raise ConflictError(f"run {id_} already started; its args cannot change", field="args")
    if tags is not None:
        run = await views.update(run, {"tags": tags})
    if body.phase is not None and body.phase != current.phase:
        run = await views.control(run, STATE_OF[body.phase])
    return JSON(_dump(FlowRunRead.from_run(run)))


@router.delete("/{id_}")
@requires(Module.RUNS, Op.DELETE)
async def delete_flow_run(id_: RunId, views: ViewsDep) -> None:
    """Delete a finished run's record (an unfinished run must be cancelled first)."""
    await views.delete(await views.get(id_))


def _check_flow_type(asked: object, actual: str) -> None:
    if asked is not None and asked != actual:
        raise InvalidInputError(f"the flow is of type {actual}, not {asked}", field="flowType")
