"""Flow versions, rollback, publishing, and the online and released copies of a flow."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.flows import FlowsDep
from flowdeck.api.paths import both
from flowdeck.db.models import FlowVersion
from flowdeck.schemas.common import Id
from flowdeck.schemas.flows import FlowRead, FlowVersionCreate, FlowVersionRead
from flowdeck.services.flow_versions import FlowVersionService

router = guarded_router(prefix="/api/v1/flows/{flow_id}", tags=["Flow Versions"])


def version_service(flows: FlowsDep) -> FlowVersionService:
    return FlowVersionService(flows)


VersionsDep = Annotated[FlowVersionService, Depends(version_service)]


@both(router, "GET", "/versions/", response_model=list[FlowVersionRead])
@requires(Module.FLOWS, Op.READ)
async def read_flow_versions(flow_id: UUID, versions: VersionsDep) -> list[FlowVersion]:
    """The flow's versions, newest first."""
    return await versions.of_flow(str(flow_id))


@both(router, "POST", "/versions/", response_model=FlowVersionRead, status_code=201)
@requires(Module.FLOWS, Op.WRITE)
async def create_flow_version(
    flow_id: UUID, body: FlowVersionCreate, versions: VersionsDep
) -> FlowVersion:
    """Freeze the flow's current graph under a version string unique to the flow."""
    return await versions.create(str(flow_id), body)


@both(router, "POST", "/versions/{version_id}/rollback", response_model=FlowRead)
@requires(Module.FLOWS, Op.MODIFY)
async def rollback_flow_version(flow_id: UUID, version_id: Id, versions: VersionsDep) -> FlowRead:
    """Copy the version's graph into the draft."""
    flow = await versions.rollback(str(flow_id), version_id)
    return await versions.flows.read(flow)


@both(router, "POST", "/versions/{version_id}/publish", response_model=FlowRead)
@requires(Module.FLOWS, Op.MODIFY)
async def publish_flow_version(flow_id: UUID, version_id: Id, versions: VersionsDep) -> FlowRead:
    """Make the version the one served online."""
    flow, _ = await versions.publish(str(flow_id), version_id)
    return await versions.flows.read(flow)


@both(router, "GET", "/online", response_model=FlowRead)
@requires(Module.FLOWS, Op.READ)
async def read_online_flow(flow_id: UUID, versions: VersionsDep) -> FlowRead:
    """The flow as its published version froze it; 404 when nothing is published."""
    flow, version = await versions.online(str(flow_id))
    return await versions.flows.read_version(flow, version)


@both(router, "DELETE", "/online", response_model=FlowRead)
@requires(Module.FLOWS, Op.MODIFY)
async def delete_online_flow(flow_id: UUID, versions: VersionsDep) -> FlowRead:
    """Unpublish: the flow has no online version afterwards."""
    return await versions.flows.read(await versions.unpublish(str(flow_id)))


@both(router, "GET", "/release", response_model=FlowRead)
@requires(Module.FLOWS, Op.READ)
async def read_release_flow(
    flow_id: UUID, versions: VersionsDep, v: Annotated[str, Query(min_length=1)]
) -> FlowRead:
    """The flow as the named version froze it."""
    flow, version = await versions.release(str(flow_id), v)
    return await versions.flows.read_version(flow, version)
