"""Flow versions: frozen copies of a flow's graph, rollback into the draft, publishing."""

from __future__ import annotations

from flowdeck.db.database import Database
from flowdeck.db.models import Flow, FlowVersion
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.flows import FlowVersionRepository
from flowdeck.errors import ConflictError, NotFoundError
from flowdeck.schemas.flows import FlowUpdate, FlowVersionCreate
from flowdeck.services.flows import FlowService
from flowdeck.services.graphs import snapshot


class FlowVersionService:
    """Versions of the flows a scope can see; a version string is unique per flow."""

    def __init__(self, flows: FlowService) -> None:
        self.flows = flows
        self.repo = FlowVersionRepository(flows.session, flows.scope)

    async def of_flow(self, flow_id: str) -> list[FlowVersion]:
        flow = await self.flows.get(flow_id)
        return await self.repo.of_flow(flow.id)

    async def create(self, flow_id: str, body: FlowVersionCreate) -> FlowVersion:
        flow = await self.flows.get(flow_id)
        if await self.repo.by_label(flow.id, body.version) is not None:
            raise ConflictError(
                f"flow {flow.id} already has a version {body.version!r}", field="version"
            )
        return await self.repo.create(
            flow_id=flow.id,
            version=body.version,
            note=body.note,
            name=flow.name,
            description=flow.description,
            data=snapshot(flow.data) if flow.data is not None else None,
            created_by=self.flows.scope.user_id,
        )

    async def get(self, flow: Flow, version_id: int) -> FlowVersion:
        version = await self.repo.find_in(flow.id, version_id)
        if version is None:
            raise NotFoundError(f"flow {flow.id} has no version {version_id}", field="version_id")
        return version

    async def rollback(self, flow_id: str, version_id: int) -> Flow:
        """Copy the version's graph into the draft (a locked flow refuses, as any update)."""
        version = await self.get(await self.flows.get(flow_id), version_id)
        data = snapshot(version.data) if version.data is not None else {"nodes": [], "edges": []}
        return await self.flows.update(flow_id, FlowUpdate(data=data))

    async def publish(self, flow_id: str, version_id: int) -> tuple[Flow, FlowVersion]:
        flow = await self.flows.get(flow_id)
        version = await self.get(flow, version_id)
        return await self.flows.repo.set_online(flow, version.id), version

    async def online(self, flow_id: str) -> tuple[Flow, FlowVersion]:
        flow = await self.flows.get(flow_id)
        return flow, await pick_version(self.repo, flow, None)

    async def unpublish(self, flow_id: str) -> Flow:
        return await self.flows.repo.set_online(await self.flows.get(flow_id), None)

    async def release(self, flow_id: str, label: str) -> tuple[Flow, FlowVersion]:
        flow = await self.flows.get(flow_id)
        return flow, await pick_version(self.repo, flow, label)


async def version_to_run(
    db: Database, scope: Scope, flow: Flow, label: str | None = None
) -> FlowVersion:
    """The version a run of `flow` executes: the one named `label`, else the published one.

    Its own short session: a synchronous run holds no connection while it waits.
    """
    async with db.session() as session:
        return await pick_version(FlowVersionRepository(session, scope), flow, label)


async def pick_version(repo: FlowVersionRepository, flow: Flow, label: str | None) -> FlowVersion:
    """The flow's version named `label`, else its published one; NotFoundError if none."""
    if label is not None:
        version = await repo.by_label(flow.id, label)
        if version is None:
            raise NotFoundError(f"flow {flow.id} has no version {label!r}", field="v")
        return version
    published = flow.online_version_id if flow.is_online else None
    found = await repo.find_in(flow.id, published) if published is not None else None
    if found is None:
        raise NotFoundError(f"flow {flow.id} has no published version", field="flow_id")
    return found
