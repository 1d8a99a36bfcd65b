"""The inspector dialect: a run's plan in the seed's flow-plan schema (stages, bindings, plans)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class InspectorFlow(BaseModel):
    """A flow as a stage's `flow_set` lists it."""

    pk: str
    policybindingmodel_ptr_id: str
    name: str
    slug: str
    title: str
    designation: str
    background: str = ""
    policy_engine_mode: str = "all"
    compatibility_mode: bool = False
    export_url: str
    layout: str = "stacked"
    denied_action: str = "message_continue"


class Stage(BaseModel):
    """One component of the flow (a vertex of its graph)."""

    pk: str
    name: str
    component: str
    verbose_name: str
    verbose_name_plural: str
    meta_model_name: str
    flow_set: list[InspectorFlow]


class StageBinding(BaseModel):
    """A stage placed in the flow's plan; `order` is its graph layer."""

    pk: str
    policybindingmodel_ptr_id: str
    target: str
    stage: str
    stage_obj: Stage
    evaluate_on_plan: bool = True
    re_evaluate_policies: bool = False
    order: int
    policy_engine_mode: str = "all"
    invalid_response_action: str = "retry"


class FlowPlan(BaseModel):
    current_stage: StageBinding | None
    next_planned_stage: StageBinding | None
    plan_context: dict[str, Any] = Field(default_factory=dict)
    session_id: str


class FlowInspection(BaseModel):
    """`plans`: the session's plan history; `current_plan`: the live (or last) one."""

    plans: list[FlowPlan]
    current_plan: FlowPlan | None
    is_completed: bool
