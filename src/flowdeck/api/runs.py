"""Run records and run control: list, read, cancel, pause, resume, answer `[new]`."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import Body, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import ConfigDict

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import CurrentUser, ScopeDep, ServicesDep, SessionDep
from flowdeck.db.models import Run
from flowdeck.db.repositories.run_records import RunRepository
from flowdeck.runs import feed
from flowdeck.runs.states import RunState
from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Count
from flowdeck.services.graphs import graph_that_ran

router = guarded_router(prefix="/api/v1/runs", tags=["Runs"])

KEEPALIVE_SECONDS = 15.0


class RunRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: str
    flow_id: str | None
    flow_version_id: int | None
    trigger: str
    state: str
    progress: float
    request: dict[str, Any]
    steps: list[Any]
    logs: list[Any]
    outputs: dict[str, Any] | None
    tags: list[Any]
    error: str | None
    session_id: str | None
    waiting_on: str | None
    attempts: int
    worker: str | None
    user_id: int | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    reviewed_by: int | None
    reviewed_at: datetime | None


class Answer(Schema):
    value: Any = None
    vertex_id: str | None = None


async def owned_run(run_id: str, session: SessionDep, scope: ScopeDep) -> Run:
    """The run, if the caller may see it (404 otherwise)."""
    return await RunRepository(session, scope).get(run_id)


OwnedRun = Annotated[Run, Depends(owned_run)]


@router.get("/", response_model=list[RunRead])
@requires(Module.RUNS, Op.READ)
async def list_runs(
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    flow_id: str | None = None,
    state: RunState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Count = 0,
) -> list[Run]:
    conditions = []
    if flow_id:
        conditions.append(Run.flow_id == flow_id)
    if state:
        conditions.append(Run.state == state.value)
    return await RunRepository(session, scope).list(
        *conditions, offset=offset, limit=limit, order_by=[Run.created_at.desc()]
    )


async def _sse(changes: AsyncIterator[dict[str, Any] | None]) -> AsyncIterator[bytes]:
    async for entry in changes:
        if entry is None:
            yield b": keep-alive\n\n"
        else:
            name = next((k for k in ("ready", "lost") if k in entry), "run")
            yield b"event: " + name.encode() + b"\ndata: " + orjson.dumps(entry) + b"\n\n"


# Declared before /{run_id}, which would otherwise take `events` for a run id.
@router.get("/events", summary="Follow run changes", response_class=StreamingResponse)
@requires(Module.RUNS, Op.READ)
async def follow_runs(services: ServicesDep, scope: ScopeDep) -> StreamingResponse:
    """Server-sent events, one per change of a run the caller may read in the acting tenant.

    `ready` first (from then on nothing is missed: read the list, then apply the changes),
    then `run` events `{run_id, flow_id, user_id, state?, progress?, step?: {id, state},
    timestamp}`; `lost` when the reader fell behind and should read the list again.
    """
    subscription = await services.bus.follow_runs(scope.tenant_id)
    changes = feed.follow(subscription, scope, KEEPALIVE_SECONDS)
    return StreamingResponse(
        _sse(changes),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{run_id}", response_model=RunRead)
@requires(Module.RUNS, Op.READ)
async def read_run(run: OwnedRun) -> Run:
    return run


class RunGraph(Schema):
    source: Literal["run", "version", "flow"]
    data: dict[str, Any]
    version_id: int | None
    version: str | None
    changed_since: bool


@router.get("/{run_id}/graph", response_model=RunGraph)
@requires(Module.RUNS, Op.READ)
async def read_run_graph(run: OwnedRun, session: SessionDep, scope: ScopeDep) -> RunGraph:
    """The graph the run executed: the graph sent with it, else the flow version it ran,
    else its flow (`changed_since` when the flow was edited after the run was created)."""
    found = await graph_that_ran(session, scope, run)
    return RunGraph(**dataclasses.asdict(found))


def _control_route(command: str, doc: str) -> None:
    """POST /{run_id}/{command}: one route per control command, all alike."""

    async def control(run: OwnedRun, services: ServicesDep) -> Run:
        action: Callable[[str], Awaitable[Run]] = getattr(services.runs, command)
        return await action(run.id)

    control.__doc__ = doc
    requires(Module.RUNS, Op.MODIFY)(control)
    router.add_api_route(
        f"/{{run_id}}/{command}",
        control,
        methods=["POST"],
        response_model=RunRead,
        name=f"{command}_run",
    )


_control_route("cancel", "Cancel a queued or running run.")
_control_route("pause", "Pause a running run at its next step boundary.")
_control_route("resume", "Resume a paused run.")


@router.post("/{run_id}/answer", response_model=RunRead)
@requires(Module.RUNS, Op.MODIFY)
async def answer_run(
    run: OwnedRun, body: Annotated[Answer, Body()], services: ServicesDep, user: CurrentUser
) -> Run:
    """Answer the step waiting for input or approval; records who reviewed it and when."""
    return await services.runs.answer(run.id, body.value, vertex_id=body.vertex_id, user_id=user.id)
