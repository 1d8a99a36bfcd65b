"""The inspector dialect: a run's plan in the seed's flow-plan schema (stages, bindings, plans)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from flowdeck.schemas.base import Schema

# The enums of authentik's flow schema: every enum field holds one of their values.
Designation = Literal[
    "authentication",
    "authorization",
    "invalidation",
    "enrollment",
    "unenrollment",
    "recovery",
    "stage_configuration",
]
PolicyEngineMode = Literal["all", "any"]
Layout = Literal[
    "stacked",
    "content_left",
    "content_right",
    "sidebar_left",
    "sidebar_right",
    "sidebar_left_frame_background",
    "sidebar_right_frame_background",
]
DeniedAction = Literal["message_continue", "message", "continue"]
InvalidResponseAction = Literal["retry", "restart", "restart_with_context"]


class InspectorFlow(Schema):
    """A flow as a stage's `flow_set` lists it."""

    pk: str
    policybindingmodel_ptr_id: str
    name: str
    slug: str
    title: str
    designation: Designation
    background: str = ""
    # authentik's generated clients read `background_url`; the seed names it `background`.
    background_url: str = ""
    policy_engine_mode: PolicyEngineMode = "all"
    compatibility_mode: bool = False
    export_url: str
    layout: Layout = "stacked"
    denied_action: DeniedAction = "message_continue"


class Stage(Schema):
    """One component of the flow (a vertex of its graph)."""

    pk: str
    name: str
    component: str
    verbose_name: str
    verbose_name_plural: str
    meta_model_name: str
    flow_set: list[InspectorFlow]


class StageBinding(Schema):
    """A stage placed in the flow's plan; `order` is its graph layer."""

    pk: str
    policybindingmodel_ptr_id: str
    target: str
    stage: str
    stage_obj: Stage
    evaluate_on_plan: bool = True
    re_evaluate_policies: bool = False
    order: int
    policy_engine_mode: PolicyEngineMode = "all"
    invalid_response_action: InvalidResponseAction = "retry"


class FlowPlan(Schema):
    # Required and never null in the schema: a finished plan stands at its end stage.
    current_stage: StageBinding
    next_planned_stage: StageBinding
    plan_context: dict[str, Any] = Field(default_factory=dict)
    session_id: str


class FlowInspection(Schema):
    """`plans`: the session's plan history; `current_plan`: the live (or last) one."""

    plans: list[FlowPlan]
    current_plan: FlowPlan | None
    is_completed: bool
