"""The inspector dialect: the caller's plans of one flow in one session (`/api/v3/...`).

The session is the `session_id` query parameter, else the `X-Session-Id` header, else the
session of the caller's latest run of the flow (a run started without a session id is a
session of its own).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import PrincipalDep, ServicesDep, SessionDep
from flowdeck.api.paths import both
from flowdeck.schemas.inspector import FlowInspection
from flowdeck.services.plans import PlanService

router = guarded_router(prefix="/api/v3", tags=["Inspector"])


@both(router, "GET", "/flows/inspector/{flow_slug}/", response_model=FlowInspection)
# The seed answers a caller it cannot identify with 403.
@requires(Module.RUNS, Op.READ, anonymous_forbidden=True)
async def flows_inspector_get(
    flow_slug: str,
    services: ServicesDep,
    session: SessionDep,
    caller: PrincipalDep,
    session_id: Annotated[str | None, Query(max_length=255)] = None,
    x_session_id: Annotated[str | None, Header(max_length=255)] = None,
) -> FlowInspection:
    """Current and recent plans of a flow: stages, where the run is, what runs next."""
    plans = PlanService(services, session, caller.user, caller.scope)
    return await plans.inspect(flow_slug, session_id or x_session_id)
