"""Queries behind the control and inspector dialects: a flow's runs, and its deployment status."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, or_, select, update

from flowdeck.db.models import Flow, Run
from flowdeck.db.repositories.base import Repository
from flowdeck.db.repositories.flows import FlowRepository


class FlowRunRepository(Repository[Run]):
    """Runs of flows within a tenant, whoever started them (controlling a flow controls them)."""

    model = Run
    per_owner = False
    label = "run"

    async def of_flow(self, flow_id: str, states: Collection[str]) -> list[Run]:
        """A flow's runs in one of `states`, oldest first (held runs are released in order)."""
        return await self.list(
            Run.flow_id == flow_id,
            Run.state.in_(list(states)),
            order_by=(Run.created_at, Run.id),
        )

    async def counts(
        self, flow_ids: Sequence[str], states: Collection[str]
    ) -> dict[str, dict[str, int]]:
        """flow id -> {state: number of runs} for runs in one of `states`."""
        if not flow_ids:
            return {}
        stmt = select(Run.flow_id, Run.state, func.count()).where(
            Run.tenant_id == self.scope.tenant_id,
            Run.flow_id.in_(list(flow_ids)),
            Run.state.in_(list(states)),
        )
        out: dict[str, dict[str, int]] = {}
        for flow_id, state, n in await self.session.execute(stmt.group_by(Run.flow_id, Run.state)):
            out.setdefault(str(flow_id), {})[state] = int(n)
        return out

    async def latest_of(self, flow_id: str, user_id: int) -> Run | None:
        """The newest run of a flow that `user_id` started."""
        rows = await self.list(
            Run.flow_id == flow_id,
            Run.user_id == user_id,
            order_by=(Run.created_at.desc(), Run.id.desc()),
            limit=1,
        )
        return rows[0] if rows else None

    async def in_session(
        self, flow_id: str, user_id: int, session_id: str, limit: int
    ) -> list[Run]:
        """A caller's newest runs of a flow in a session (or the run of that id), in order."""
        rows = await self.list(
            Run.flow_id == flow_id,
            Run.user_id == user_id,
            or_(Run.session_id == session_id, Run.id == session_id),
            order_by=(Run.created_at.desc(), Run.id.desc()),
            limit=limit,
        )
        return rows[::-1]


class DeploymentFlowRepository(FlowRepository):
    """Flows with their deployment status; a status change is not an edit of the flow."""

    async def set_status(self, flow: Flow, status: str) -> None:
        self.check_owner(flow)
        # updated_at is kept: clients holding the flow for an edit must not get a 409 for this.
        await self.session.execute(
            update(Flow)
            .where(Flow.id == flow.id)
            .values(deployment_status=status, updated_at=Flow.updated_at)
            .execution_options(synchronize_session=False)
        )
        flow.deployment_status = status

    async def by_slug_in_tenant(self, ref: str) -> Flow | None:
        """A live flow of the scope's tenant by slug (or id), whoever owns it."""
        stmt = select(Flow).where(
            Flow.tenant_id == self.scope.tenant_id,
            Flow.deleted_at.is_(None),
            or_(Flow.slug == ref, Flow.id == ref),
        )
        rows = list((await self.session.execute(stmt)).scalars())
        return next((r for r in rows if r.slug == ref), rows[0] if rows else None)
