"""The executions (polling) dialect: `/api/v1/executions`, and `{prefix}/flows` for its clients.

A client of the polling API creates an execution of a template (a flow), polls it until its
`state` is completed, failed or aborted, then reads its outputs. The same routes are served
under the configured `executions_prefix` as `{prefix}/flows`, so such a client only changes
its base URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import PrincipalDep, ServicesDep, SessionDep
from flowdeck.errors import InvalidStateError
from flowdeck.runs.states import RunState
from flowdeck.schemas.executions import (
    METADATA,
    ExecutionCreate,
    ExecutionOutputs,
    ExecutionPatch,
    ExecutionRead,
    ExecutionState,
    run_filter,
    state_of,
)
from flowdeck.schemas.flow_runs import CursorPage
from flowdeck.services.run_views import RunViews


def run_views(services: ServicesDep, session: SessionDep, caller: PrincipalDep) -> RunViews:
    return RunViews(services, session, caller.user, caller.scope)


ViewsDep = Annotated[RunViews, Depends(run_views)]


@requires(Module.RUNS, Op.READ)
async def list_executions(
    views: ViewsDep,
    cursor: str | None = None,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
    template: Annotated[str | None, Query(max_length=255)] = None,
    state: ExecutionState | None = None,
) -> CursorPage[ExecutionRead]:
    """The caller's executions, newest first, by cursor pages."""
    page = await views.page(run_filter(template, state), cursor=cursor, size=size)
    return CursorPage[ExecutionRead].of(page, ExecutionRead.from_run)


@requires(Module.RUNS, Op.WRITE)
async def create_execution(body: ExecutionCreate, views: ViewsDep) -> ExecutionRead:
    """Run `template` with `parameters`; with `start: false` it stays `created` until started."""
    flow = await views.flow(body.template, "template")
    run = await views.create(
        flow,
        body.parameters,
        params_field="parameters",
        flow_field="template",
        meta={"dialect": "executions", METADATA: body.metadata},
        hold=not body.start,
    )
    return ExecutionRead.from_run(run)


@requires(Module.RUNS, Op.READ)
async def get_execution(execution_id: str, views: ViewsDep) -> ExecutionRead:
    """An execution's state, progress (0.0 to 1.0), timestamps, parameters and metadata."""
    return ExecutionRead.from_run(await views.get(execution_id))


@requires(Module.RUNS, Op.MODIFY)
async def update_execution(
    execution_id: str, body: ExecutionPatch, views: ViewsDep
) -> ExecutionRead:
    """`{action: "start"}` starts a created execution, `{action: "abort"}` aborts one."""
    run = await views.get(execution_id)
    if body.metadata is not None:
        run = await views.update(run, {"meta": {**(run.meta or {}), METADATA: body.metadata}})
    if body.action == "start":
        run = await views.start(run)
    elif body.action == "abort":
        if state_of(run).terminal:
            raise InvalidStateError(
                f"execution {run.id} already ended ({state_of(run)})", field="action"
            )
        run = await views.control(run, RunState.CANCELLED)
    return ExecutionRead.from_run(run)


@requires(Module.RUNS, Op.READ)
async def get_execution_outputs(execution_id: str, views: ViewsDep) -> ExecutionOutputs:
    """What a finished execution produced, `{component_id: {output: value}}`."""
    run = await views.get(execution_id)
    if not state_of(run).terminal:
        raise InvalidStateError(
            f"execution {run.id} is {state_of(run)}; outputs are ready once it has ended",
            field="state",
        )
    return ExecutionOutputs.from_run(run)


def _routes(router: APIRouter, base: str) -> APIRouter:
    add: Callable[..., Any] = router.add_api_route
    add(base, list_executions, methods=["GET"], response_model=CursorPage[ExecutionRead])
    add(base, create_execution, methods=["POST"], response_model=ExecutionRead, status_code=201)
    one = f"{base}/{{execution_id}}"
    add(one, get_execution, methods=["GET"], response_model=ExecutionRead)
    add(one, update_execution, methods=["PATCH"], response_model=ExecutionRead)
    add(
        f"{one}/outputs",
        get_execution_outputs,
        methods=["GET"],
        response_model=ExecutionOutputs,
        responses={409: {"description": "The execution has not ended yet"}},
    )
    return router


# The `{prefix}/flows` twin: the prefix is a setting, known once the app starts.
prefixed_router = _routes(guarded_router(tags=["Executions"]), "/flows")


@asynccontextmanager
async def _mount_prefixed(app: FastAPI) -> AsyncIterator[None]:
    prefix: str = app.state.services.settings.executions_prefix
    if prefix and not getattr(app.state, "executions_prefix_mounted", False):
        app.include_router(prefixed_router, prefix=prefix)
        app.state.executions_prefix_mounted = True
    yield


router = _routes(
    guarded_router(prefix="/api/v1", tags=["Executions"], lifespan=_mount_prefixed), "/executions"
)
