"""Run plans (the inspector dialect): a run's ordered stages, where it is, and what comes next.

A plan is the graph's layers in order, each vertex a stage with its step state. The caller's
session is the runs of one flow that share a `session_id` (a run started without one is a
session of its own); its history holds one plan per stage the session's runs went through.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.models import Flow, Run, User
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.deployment import DeploymentFlowRepository, FlowRunRepository
from flowdeck.engine import Graph
from flowdeck.engine import events as ev
from flowdeck.errors import FlowdeckError, InvalidInputError, NotFoundError, PermissionDeniedError
from flowdeck.runs.states import RunState
from flowdeck.schemas.flows import as_utc
from flowdeck.schemas.inspector import (
    FlowInspection,
    FlowPlan,
    InspectorFlow,
    Stage,
    StageBinding,
)
from flowdeck.services.container import Services
from flowdeck.services.graphs import DbGraphSource

# How many of a session's runs the history covers (the newest ones).
SESSION_RUNS = 20
FINISHED_STEP = frozenset({"completed", "failed"})
NAMESPACE = uuid.UUID("6f1c2b1e-3d4a-5b6c-8d7e-9f0a1b2c3d4e")
# A flow run serves its caller: of the schema's designations (an enum), `authorization`
# fits; the flow's own type is in the plan context (`flow_type`).
DESIGNATION = "authorization"


class NoFlowPlanError(InvalidInputError):
    """The caller has no run of the flow in the session (the seed's 400)."""

    code = "no_flow_plan"


@dataclass(slots=True)
class StagePoint:
    id: str
    type_name: str
    name: str
    kind: str
    layer: int
    state: str = "pending"


@dataclass(slots=True)
class RunPlan:
    run: Run
    stages: list[StagePoint]
    # Vertex ids in the order their steps started.
    started: list[str] = field(default_factory=list)
    prompt: str | None = None


class PlanService:
    """What the inspector shows: the caller's plans of one flow in one session."""

    def __init__(self, services: Services, session: AsyncSession, user: User, scope: Scope) -> None:
        self.services = services
        self.user = user
        self.flows = DeploymentFlowRepository(session, scope)
        self.runs = FlowRunRepository(session, scope)
        self.graphs = DbGraphSource(services.db, services.graphs)

    async def inspect(self, ref: str, session_id: str | None) -> FlowInspection:
        flow = await self._flow(ref)
        runs, key = await self._session(flow, session_id)
        plans = [await self._plan(run) for run in runs]
        target = _flow_ref(flow)
        history = [p for rp in plans for p in self._history(flow, target, rp, key)]
        latest = plans[-1]
        if not RunState(latest.run.state).terminal:
            current = self._snapshot(flow, target, latest, key, _live_stage(latest))
            return FlowInspection(plans=history, current_plan=current, is_completed=False)
        last = history[-1] if history else self._snapshot(flow, target, latest, key, None)
        return FlowInspection(plans=history, current_plan=last, is_completed=True)

    async def _flow(self, ref: str) -> Flow:
        flow = await self.flows.by_slug_in_tenant(ref)
        if flow is None:
            raise NotFoundError(f"flow {ref} not found", field="flow_slug")
        mine = self.user.is_superuser or flow.user_id == self.user.id
        if not mine and flow.access_type != "PUBLIC":
            raise PermissionDeniedError(
                "You do not have permission to perform this action.", field="flow_slug"
            )
        return flow

    async def _session(self, flow: Flow, session_id: str | None) -> tuple[list[Run], str]:
        key = session_id
        if not key:
            latest = await self.runs.latest_of(flow.id, self.user.id)
            if latest is None:
                raise NoFlowPlanError("No flow plan in session.")
            key = latest.session_id or latest.id
        runs = await self.runs.in_session(flow.id, self.user.id, key, SESSION_RUNS)
        if not runs:
            raise NoFlowPlanError("No flow plan in session.")
        return runs, key

    async def _plan(self, run: Run) -> RunPlan:
        """The run's stages in plan order with their states (live ones from its events)."""
        graph: Graph | None
        try:
            graph = await self.graphs.graph_for(run)
        except FlowdeckError:
            graph = None  # the flow changed or went away: the recorded steps still tell a plan
        steps = {s["id"]: dict(s) for s in run.steps or [] if isinstance(s, dict) and "id" in s}
        plan = RunPlan(run, [])
        members: list[str] | None = list(steps) or None
        if steps:
            timed = [s for s in steps.values() if s.get("start")]
            plan.started = [s["id"] for s in sorted(timed, key=lambda s: str(s["start"]))]
        elif not RunState(run.state).terminal:
            members = await self._replay(run.id, steps, plan)
        if run.waiting_on and plan.prompt is None:
            # The record has the steps once the progress writer stored them, but never the
            # prompt: that is only in the run's events.
            plan.prompt = await self._prompt(run.id)
        if run.waiting_on:
            steps.setdefault(run.waiting_on, {"id": run.waiting_on})["state"] = "waiting"
        layers = graph.layers if graph is not None else [[vid] for vid in steps]
        for index, layer in enumerate(layers):
            for vid in layer:
                if members is not None and vid not in members:
                    continue
                step = steps.get(vid, {})
                vertex = graph.vertices.get(vid) if graph is not None else None
                type_name = vertex.type_name if vertex else str(step.get("component") or vid)
                plan.stages.append(
                    StagePoint(
                        id=vid,
                        type_name=type_name,
                        name=vertex.display_name if vertex else vid,
                        kind=vertex.component.display_name if vertex else type_name,
                        layer=index,
                        state=str(step.get("state") or "pending"),
                    )
                )
        return plan

    async def _replay(
        self, run_id: str, steps: dict[str, dict[str, Any]], plan: RunPlan
    ) -> list[str] | None:
        """Step states of a run in flight, from its events (its record has them at the end)."""
        members: list[str] | None = None
        for _, name, data in await self.services.bus.read(run_id, 0):
            if name == ev.VERTICES_SORTED:
                members = [str(v) for v in data.get("to_run") or []]
            elif name == ev.BUILD_START:
                steps.setdefault(data["id"], {"id": data["id"]})["state"] = "running"
                plan.started.append(data["id"])
            elif name == ev.END_VERTEX:
                build = data["build_data"]
                state = "completed" if build.get("valid") else "failed"
                steps.setdefault(build["id"], {"id": build["id"]})["state"] = state
                for vid in build.get("inactivated_vertices") or []:
                    step = steps.setdefault(vid, {"id": vid})
                    step.setdefault("state", "inactive")
            elif name == ev.WAITING:
                steps.setdefault(data["id"], {"id": data["id"]})["state"] = "waiting"
                plan.prompt = data.get("prompt")
        return members

    async def _prompt(self, run_id: str) -> str | None:
        for _, name, data in reversed(await self.services.bus.read(run_id, 0)):
            if name == ev.WAITING:
                prompt: str | None = data.get("prompt")
                return prompt
        return None

    def _history(
        self, flow: Flow, target: InspectorFlow, plan: RunPlan, key: str
    ) -> list[FlowPlan]:
        """One plan per stage the run went through (finished ones, or all once it ended)."""
        ended = RunState(plan.run.state).terminal
        by_id = {s.id: s for s in plan.stages}
        return [
            self._snapshot(flow, target, plan, key, by_id[vid])
            for vid in plan.started
            if vid in by_id and (ended or by_id[vid].state in FINISHED_STEP)
        ]

    def _snapshot(
        self,
        flow: Flow,
        target: InspectorFlow,
        plan: RunPlan,
        key: str,
        current: StagePoint | None,
    ) -> FlowPlan:
        following = _next_stage(plan, current)
        # The schema's stages are never null: where no step is left, the plan's end stands.
        end = _binding(flow, target, _end_of(plan))
        return FlowPlan(
            current_stage=_binding(flow, target, current) if current else end,
            next_planned_stage=_binding(flow, target, following) if following else end,
            plan_context={**_context(plan), "flow_type": flow.flow_type},
            session_id=key,
        )


def _live_stage(plan: RunPlan) -> StagePoint | None:
    """Where a run in flight is: a waiting step, else a running one, else the next to run."""
    for state in ("waiting", "running", "pending"):
        stage = next((s for s in plan.stages if s.state == state), None)
        if stage is not None:
            return stage
    return None


def _next_stage(plan: RunPlan, current: StagePoint | None) -> StagePoint | None:
    """The first stage after `current` in plan order that is still to run."""
    if current is None:
        return None
    after = plan.stages[plan.stages.index(current) + 1 :]
    if RunState(plan.run.state).terminal:
        return next((s for s in after if s.state != "inactive"), None)
    return next((s for s in after if s.state == "pending"), None)


def _end_of(plan: RunPlan) -> StagePoint:
    """The stage after the last step: where a finished plan stands."""
    last = max((s.layer for s in plan.stages), default=-1)
    return StagePoint(id=END_STAGE, type_name="End", name="End", kind="end", layer=last + 1)


END_STAGE = "__end__"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _flow_ref(flow: Flow) -> InspectorFlow:
    return InspectorFlow(
        pk=flow.id,
        policybindingmodel_ptr_id=flow.id,
        name=flow.name,
        slug=flow.slug,
        title=flow.name,
        designation=DESIGNATION,
        background=flow.icon or "",
        background_url=flow.icon or "",
        export_url=f"/api/v1/flows/{flow.id}",
    )


def _binding(flow: Flow, target: InspectorFlow, stage: StagePoint) -> StageBinding:
    stage_pk, binding_pk = _uuid(flow.id, "stage", stage.id), _uuid(flow.id, "binding", stage.id)
    return StageBinding(
        pk=binding_pk,
        policybindingmodel_ptr_id=binding_pk,
        target=flow.id,
        stage=stage_pk,
        stage_obj=Stage(
            pk=stage_pk,
            name=stage.name,
            component=stage.type_name,
            verbose_name=stage.kind,
            verbose_name_plural=f"{stage.kind}s",
            meta_model_name=f"flowdeck_components.{stage.type_name.lower().replace(' ', '_')}",
            flow_set=[target],
        ),
        order=stage.layer,
    )


def _context(plan: RunPlan) -> dict[str, Any]:
    """The plan's variables: the run's inputs and tweaks, where it stands, its stages."""
    run, req = plan.run, plan.run.request or {}
    layers: dict[int, list[str]] = {}
    for s in plan.stages:
        layers.setdefault(s.layer, []).append(s.id)
    return {
        "run_id": run.id,
        "state": run.state,
        "progress": run.progress or 0.0,
        "trigger": run.trigger,
        "flow_version_id": run.flow_version_id,
        "input_value": req.get("input_value"),
        "input_type": req.get("input_type"),
        "inputs": req.get("inputs") or {},
        "tweaks": req.get("tweaks") or {},
        "waiting_on": run.waiting_on,
        "prompt": plan.prompt if run.state == RunState.WAITING else None,
        "error": run.error,
        "layers": [layers[k] for k in sorted(layers)],
        "stages": [{"id": s.id, "component": s.type_name, "state": s.state} for s in plan.stages],
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }


def _iso(value: datetime | None) -> str | None:
    stamp = as_utc(value)
    return stamp.isoformat() if stamp is not None else None
