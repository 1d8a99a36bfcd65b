"""Build a flow and watch its events (Langflow's /build routes), public builds included."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import Body, Request, Response
from fastapi.responses import StreamingResponse

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import public, requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import CurrentUser, ScopeDep, ServicesDep, SessionDep
from flowdeck.db.models import Run, User
from flowdeck.db.models.runs import PUBLIC_CLIENT
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.flows import FlowRepository
from flowdeck.db.repositories.run_records import RunRepository
from flowdeck.engine.events import FLOWDECK_EVENTS, encode_event
from flowdeck.errors import InvalidStateError, NotFoundError, PermissionDeniedError
from flowdeck.schemas.common import Count, FlowdeckEvents, QueryBool
from flowdeck.schemas.monitor import MessageRead
from flowdeck.services.container import Services
from flowdeck.services.execution import events_since, start_run
from flowdeck.services.monitor import MonitorService

router = guarded_router(prefix="/api/v1", tags=["Chat"])

Delivery = Literal["streaming", "polling", "direct"]
NDJSON = "application/x-ndjson"
POLL_WAIT = 1.0


def build_request(
    inputs: dict[str, Any] | None, start: str | None, stop: str | None, session: str | None = None
) -> dict[str, Any]:
    inputs = inputs or {}
    return {
        "input_value": inputs.get("input_value"),
        "input_type": inputs.get("type") or "any",
        "session_id": inputs.get("session") or inputs.get("session_id") or session,
        "start_component_id": start,
        "stop_component_id": stop,
        "output_type": "any",
    }


async def _build(
    services: Services,
    session: SessionDep,
    scope: Scope,
    user: User | None,
    flow_id: str,
    body: dict[str, Any] | None,
    start: str | None,
    stop: str | None,
    delivery: Delivery,
    public: bool = False,
    client_id: str | None = None,
    own: bool = False,
) -> Any:
    repo = FlowRepository(session, scope)
    flow = await repo.get(flow_id)
    if public and flow.access_type != "PUBLIC":
        raise PermissionDeniedError(f"flow {flow_id} is not public")
    body = body or {}
    request = build_request(body.get("inputs"), start, stop, client_id)
    data = body.get("data")
    graph_data = data if isinstance(data, dict) and data.get("nodes") else None
    meta = {PUBLIC_CLIENT: client_id} if public and client_id else {}
    run = await start_run(
        services,
        flow=flow,
        user=user,
        trigger="build",
        request=request,
        graph_data=graph_data,
        meta=meta,
    )
    await session.commit()
    if delivery == "direct":
        return _stream(services, run, 0, own)
    return {"job_id": run.id}


def _stream(services: Services, run: Run, after: int, own: bool) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        async for _, name, data in events_since(services, run, after):
            if own or name not in FLOWDECK_EVENTS:
                yield encode_event(name, data)

    return StreamingResponse(body(), media_type=NDJSON)


async def _events(
    services: Services, run: Run, delivery: Delivery, cursor: int | None, reader: str, own: bool
) -> Any:
    if delivery in ("streaming", "direct"):
        return _stream(services, run, cursor or 0, own)
    # Polling: what arrived since the caller's cursor (or since this reader's last poll).
    bus = services.bus
    after = cursor if cursor is not None else await bus.poll_position(run.id, reader)
    events = await bus.read(run.id, after, wait=POLL_WAIT)
    if not events and await bus.is_finished(run.id) is None:
        events = [item async for item in events_since(services, run, after)]
    last = events[-1][0] if events else after
    if last != after:
        await bus.set_poll_position(run.id, reader, last)
    content = b"".join(
        encode_event(name, data) for _, name, data in events if own or name not in FLOWDECK_EVENTS
    )
    return Response(content, media_type=NDJSON, headers={"X-Flowdeck-Cursor": str(last)})


async def _job(services: Services, job_id: str, scope: Scope) -> Run:
    run = await services.runs.store.get(job_id) if _is_uuid(job_id) else None
    if run is None or not RunRepository.visible_row(scope, run):
        raise NotFoundError(f"no build job {job_id}", field="job_id")
    return run


async def _public_job(services: Services, job_id: str, client_id: str | None) -> Run:
    """A run that build_public_tmp started for this client_id cookie; any other run is 404.

    Only runs marked at their start qualify: a private build, a /run or a v2 job has no
    public client, and a missing cookie matches nothing.
    """
    run = await services.runs.store.get(job_id) if client_id and _is_uuid(job_id) else None
    owner = (run.meta or {}).get(PUBLIC_CLIENT) if run is not None else None
    if run is None or not isinstance(owner, str) or not client_id:
        raise NotFoundError(f"no build job {job_id}", field="job_id")
    if not hmac.compare_digest(owner.encode(), client_id.encode()):
        raise NotFoundError(f"no build job {job_id}", field="job_id")
    return run


async def _cancel(services: Services, run: Run) -> dict[str, Any]:
    try:
        await services.runs.cancel(run.id)
    except InvalidStateError as exc:
        return {"success": False, "message": exc.message}
    return {"success": True, "message": "Flow build cancelled successfully"}


@router.post("/build/{flow_id}/flow")
@requires(Module.RUNS, Op.WRITE)
async def build_flow(
    flow_id: str,
    services: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
    start_component_id: str | None = None,
    stop_component_id: str | None = None,
    log_builds: QueryBool = True,
    flow_name: str | None = None,
    event_delivery: Delivery = "polling",
    flowdeck_events: FlowdeckEvents = False,
) -> Any:
    return await _build(
        services,
        session,
        scope,
        user,
        flow_id,
        body,
        start_component_id,
        stop_component_id,
        event_delivery,
        own=flowdeck_events,
    )


@router.get("/build/{job_id}/events")
@requires(Module.RUNS, Op.READ)
async def get_build_events(
    job_id: str,
    services: ServicesDep,
    user: CurrentUser,
    scope: ScopeDep,
    event_delivery: Delivery = "streaming",
    cursor: Count | None = None,
    flowdeck_events: FlowdeckEvents = False,
) -> Any:
    run = await _job(services, job_id, scope)
    reader = f"user:{user.id}"
    return await _events(services, run, event_delivery, cursor, reader, flowdeck_events)


@router.post("/build/{job_id}/cancel")
@requires(Module.RUNS, Op.MODIFY)
async def cancel_build(
    job_id: str, services: ServicesDep, user: CurrentUser, scope: ScopeDep
) -> dict[str, Any]:
    return await _cancel(services, await _job(services, job_id, scope))


@router.post("/build_public_tmp/{flow_id}/flow")
@public
async def build_public_tmp(
    flow_id: str,
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
    start_component_id: str | None = None,
    stop_component_id: str | None = None,
    log_builds: QueryBool = True,
    flow_name: str | None = None,
    event_delivery: Delivery = "polling",
    flowdeck_events: FlowdeckEvents = False,
) -> Any:
    client_id = request.cookies.get("client_id")
    if not client_id:
        raise PermissionDeniedError("a public build needs a client_id cookie")
    flow = await _public_flow(services, session, flow_id)
    owner_scope = Scope(flow.tenant_id, flow.user_id, True)
    return await _build(
        services,
        session,
        owner_scope,
        None,
        flow_id,
        body,
        start_component_id,
        stop_component_id,
        event_delivery,
        public=True,
        client_id=client_id,
        own=flowdeck_events,
    )


@router.get("/build_public_tmp/{job_id}/events")
@public
async def get_public_build_events(
    job_id: str,
    request: Request,
    services: ServicesDep,
    event_delivery: Delivery = "streaming",
    cursor: Count | None = None,
    flowdeck_events: FlowdeckEvents = False,
) -> Any:
    client_id = request.cookies.get("client_id")
    run = await _public_job(services, job_id, client_id)
    reader = f"client:{client_id}"
    return await _events(services, run, event_delivery, cursor, reader, flowdeck_events)


@router.post("/build_public_tmp/{job_id}/cancel")
@public
async def cancel_public_build(
    job_id: str, request: Request, services: ServicesDep
) -> dict[str, Any]:
    run = await _public_job(services, job_id, request.cookies.get("client_id"))
    return await _cancel(services, run)


@router.get("/build_public_tmp/{flow_id}/messages", response_model=list[MessageRead])
@public
async def get_public_chat_messages(
    flow_id: str,
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    session_id: str | None = None,
    sender: str | None = None,
    sender_name: str | None = None,
    order_by: str | None = "id",
) -> list[MessageRead]:
    """The messages of the caller's own public sessions of a PUBLIC flow (its client_id
    cookie); without the cookie there are none."""
    flow = await _public_flow(services, session, flow_id)
    client_id = request.cookies.get("client_id")
    if not client_id:
        return []
    monitor = MonitorService(session, Scope(flow.tenant_id, flow.user_id, True))
    return await monitor.list_messages(
        flow_id=flow.id,
        session_id=session_id,
        sender=sender,
        sender_name=sender_name,
        order_by=order_by,
        public_client=client_id,
    )


async def _public_flow(services: Services, session: SessionDep, flow_id: str) -> Any:
    """A PUBLIC flow to build or read the messages of, while the server serves public flows."""
    from flowdeck.db.models import Flow

    if not services.settings.public_flows:
        raise PermissionDeniedError("public flows are disabled on this server")
    flow = await session.get(Flow, flow_id) if _is_uuid(flow_id) else None
    if flow is None or flow.deleted_at is not None or flow.access_type != "PUBLIC":
        raise NotFoundError(f"public flow {flow_id} not found", field="flow_id")
    return flow


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
