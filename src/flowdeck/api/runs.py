"""Run records and run control: list, read, cancel, pause, resume, answer `[new]`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict

from flowdeck.api.deps import CurrentUser, ServicesDep, SessionDep, scope_of
from flowdeck.db.models import Run, User
from flowdeck.db.repositories.base import Repository
from flowdeck.runs.states import RunState

router = APIRouter(prefix="/api/v1/runs", tags=["Runs"])


class RunRead(BaseModel):
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


class Answer(BaseModel):
    value: Any = None
    vertex_id: str | None = None


class RunRepository(Repository[Run]):
    model = Run
    label = "run"


async def _get(session: SessionDep, user: User, run_id: str) -> Run:
    return await RunRepository(session, scope_of(user)).get(run_id)


@router.get("/", response_model=list[RunRead])
async def list_runs(
    session: SessionDep,
    user: CurrentUser,
    flow_id: str | None = None,
    state: RunState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Run]:
    conditions = []
    if flow_id:
        conditions.append(Run.flow_id == flow_id)
    if state:
        conditions.append(Run.state == state.value)
    return await RunRepository(session, scope_of(user)).list(
        *conditions, offset=offset, limit=limit, order_by=[Run.created_at.desc()]
    )


@router.get("/{run_id}", response_model=RunRead)
async def read_run(run_id: str, session: SessionDep, user: CurrentUser) -> Run:
    return await _get(session, user, run_id)


@router.post("/{run_id}/cancel", response_model=RunRead)
async def cancel_run(
    run_id: str, services: ServicesDep, session: SessionDep, user: CurrentUser
) -> Run:
    await _get(session, user, run_id)
    return await services.runs.cancel(run_id)


@router.post("/{run_id}/pause", response_model=RunRead)
async def pause_run(
    run_id: str, services: ServicesDep, session: SessionDep, user: CurrentUser
) -> Run:
    await _get(session, user, run_id)
    return await services.runs.pause(run_id)


@router.post("/{run_id}/resume", response_model=RunRead)
async def resume_run(
    run_id: str, services: ServicesDep, session: SessionDep, user: CurrentUser
) -> Run:
    await _get(session, user, run_id)
    return await services.runs.resume(run_id)


@router.post("/{run_id}/answer", response_model=RunRead)
async def answer_run(
    run_id: str,
    body: Annotated[Answer, Body()],
    services: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
) -> Run:
    """Answer the step waiting for input or approval; records who reviewed it and when."""
    await _get(session, user, run_id)
    return await services.runs.answer(run_id, body.value, vertex_id=body.vertex_id, user_id=user.id)
