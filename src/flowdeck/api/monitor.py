"""Langflow's monitor API: messages and sessions, vertex builds, transactions."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Body, Depends, Query
from fastapi.responses import Response

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import ScopeDep, SessionDep
from flowdeck.api.paths import both
from flowdeck.schemas.common import PageNumber
from flowdeck.schemas.monitor import (
    MessageRead,
    MessageUpdate,
    Page,
    SessionCreate,
    SessionRead,
    TransactionRead,
    VertexBuildMap,
)
from flowdeck.services.monitor import MonitorService

router = guarded_router(prefix="/api/v1/monitor", tags=["Monitor"])


def monitor_service(session: SessionDep, scope: ScopeDep) -> MonitorService:
    return MonitorService(session, scope)


MonitorDep = Annotated[MonitorService, Depends(monitor_service)]
FlowIdQuery = Annotated[UUID, Query(description="The flow whose records to use")]
NO_CONTENT = {"status_code": 204, "response_class": Response}


def no_content() -> Response:
    return Response(status_code=204)


@both(router, "GET", "/builds", response_model=VertexBuildMap)
@requires(Module.MONITOR, Op.READ)
async def get_vertex_builds(flow_id: FlowIdQuery, monitor: MonitorDep) -> VertexBuildMap:
    """The flow's vertex builds, grouped by vertex id, oldest first."""
    return await monitor.vertex_builds(str(flow_id))


@both(router, "DELETE", "/builds", **NO_CONTENT)
@requires(Module.MONITOR, Op.DELETE)
async def delete_vertex_builds(flow_id: FlowIdQuery, monitor: MonitorDep) -> Response:
    await monitor.delete_vertex_builds(str(flow_id))
    return no_content()


@both(router, "GET", "/messages/sessions", response_model=list[str])
@requires(Module.MONITOR, Op.READ)
async def get_message_sessions(monitor: MonitorDep, flow_id: UUID | None = None) -> list[str]:
    """The distinct session ids of the caller's messages, optionally of one flow."""
    return await monitor.sessions(str(flow_id) if flow_id else None)


@both(router, "POST", "/messages/sessions", response_model=SessionRead, status_code=201)
@requires(Module.MONITOR, Op.WRITE)
async def create_message_session(
    body: Annotated[SessionCreate, Body()], monitor: MonitorDep
) -> SessionRead:
    """Create a session before its first message (an id is generated when none is given)."""
    return await monitor.create_session(body)


@both(router, "GET", "/messages", response_model=list[MessageRead])
@requires(Module.MONITOR, Op.READ)
async def get_messages(
    monitor: MonitorDep,
    flow_id: UUID | None = None,
    session_id: str | None = None,
    sender: str | None = None,
    sender_name: str | None = None,
    order_by: Annotated[
        str | None, Query(description="A column; prefix '-' for descending")
    ] = "timestamp",
) -> list[MessageRead]:
    return await monitor.list_messages(
        flow_id=str(flow_id) if flow_id else None,
        session_id=session_id,
        sender=sender,
        sender_name=sender_name,
        order_by=order_by,
    )


@both(router, "DELETE", "/messages", **NO_CONTENT)
@requires(Module.MONITOR, Op.DELETE)
async def delete_messages(
    message_ids: Annotated[list[UUID], Body()], monitor: MonitorDep
) -> Response:
    """Delete messages by id; ids of messages the caller cannot see are ignored."""
    await monitor.delete_messages([str(i) for i in message_ids])
    return no_content()


@both(router, "PUT", "/messages/{message_id}", response_model=MessageRead)
@requires(Module.MONITOR, Op.MODIFY)
async def update_message(
    message_id: UUID, body: Annotated[MessageUpdate, Body()], monitor: MonitorDep
) -> MessageRead:
    return await monitor.update_message(str(message_id), body)


@both(router, "PATCH", "/messages/session/{old_session_id}", response_model=list[MessageRead])
@requires(Module.MONITOR, Op.MODIFY)
async def update_session_id(
    old_session_id: str,
    monitor: MonitorDep,
    new_session_id: Annotated[str | None, Query(max_length=255)] = None,
    new_session_name: Annotated[
        str | None, Query(max_length=255, description="SkillFlaw's name for new_session_id")
    ] = None,
) -> list[MessageRead]:
    """Rename a session: its messages move to the new session id."""
    return await monitor.rename_session(old_session_id, new_session_id or new_session_name)


@both(router, "DELETE", "/messages/session/{session_id}", **NO_CONTENT)
@requires(Module.MONITOR, Op.DELETE)
async def delete_messages_session(session_id: str, monitor: MonitorDep) -> Response:
    await monitor.delete_session(session_id)
    return no_content()


@both(router, "GET", "/transactions", response_model=Page[TransactionRead])
@requires(Module.MONITOR, Op.READ)
async def get_transactions(
    flow_id: FlowIdQuery,
    monitor: MonitorDep,
    page: Annotated[PageNumber, Query(description="Page number")] = 1,
    size: Annotated[int, Query(ge=1, le=100, description="Page size")] = 50,
) -> Page[TransactionRead]:
    """The flow's transactions, oldest first, a page at a time."""
    return await monitor.transactions_page(str(flow_id), page, size)
