"""authentik's own generated client (`authentik-client`, PyPI) reads the inspector dialect.

Its models are strict: every field holds its schema's type, every enum field one of the
enum's values, and the two stages of a plan are never null.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from authentik_client import ApiClient, Configuration, FlowsApi
from authentik_client.models import (
    DeniedActionEnum,
    FlowDesignationEnum,
    FlowInspection,
    FlowLayoutEnum,
    InvalidResponseActionEnum,
    PolicyEngineMode,
)

from tests.clients.conftest import GREETING, Deck

ASK: dict[str, Any] = {
    "nodes": [
        {"id": "in", "type": "ChatInput"},
        {"id": "ask", "type": "WaitForInput", "params": {"prompt": "Go on?"}},
        {"id": "out", "type": "ChatOutput"},
    ],
    "edges": [
        {"from": "in.message", "to": "ask.input_value"},
        {"from": "ask.message", "to": "out.input_value"},
    ],
}


def inspect(deck: Deck, slug: str, session: str) -> FlowInspection:
    # The API key as authentik's bearer token: flowdeck tells a key from a token by its prefix.
    config = Configuration(host=f"{deck.url}/api/v3", access_token=deck.api_key)
    with ApiClient(config) as api:
        return FlowsApi(api).flows_inspector_get(slug, _headers={"X-Session-Id": session})


def run_until(http: httpx.Client, flow_id: str, session: str, state: str) -> str:
    job = http.post(
        f"/api/v1/build/{flow_id}/flow",
        json={"inputs": {"input_value": "hi", "session": session}},
    )
    assert job.status_code == 200, job.text
    run_id: str = job.json()["job_id"]
    deadline = time.monotonic() + 20
    while http.get(f"/api/v1/runs/{run_id}").json()["state"] != state:
        assert time.monotonic() < deadline, f"run {run_id} never became {state}"
        time.sleep(0.02)
    return run_id


def check_enums(inspection: FlowInspection) -> None:
    plans = [*inspection.plans, *([inspection.current_plan] if inspection.current_plan else [])]
    assert plans
    for plan in plans:
        for binding in (plan.current_stage, plan.next_planned_stage):
            assert isinstance(binding.policy_engine_mode, PolicyEngineMode)
            assert isinstance(binding.invalid_response_action, InvalidResponseActionEnum)
            for flow in binding.stage_obj.flow_set:
                assert isinstance(flow.designation, FlowDesignationEnum)
                assert isinstance(flow.layout, FlowLayoutEnum)
                assert isinstance(flow.denied_action, DeniedActionEnum)
                assert isinstance(flow.policy_engine_mode, PolicyEngineMode)


def test_a_waiting_then_finished_run_parses(deck: Deck) -> None:
    flow = deck.add_flow(ASK)
    with deck.http() as http:
        run_id = run_until(http, flow["id"], "ask-1", "waiting")
        waiting = inspect(deck, flow["slug"], "ask-1")
        assert waiting.is_completed is False
        assert waiting.current_plan is not None
        assert waiting.current_plan.current_stage.stage_obj.component == "WaitForInput"
        assert waiting.current_plan.next_planned_stage.stage_obj.component == "ChatOutput"
        assert waiting.current_plan.plan_context["flow_type"] == flow["flow_type"]
        check_enums(waiting)
        answer = http.post(f"/api/v1/runs/{run_id}/answer", json={"value": "yes"})
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 20
        while http.get(f"/api/v1/runs/{run_id}").json()["state"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.02)
    done = inspect(deck, flow["slug"], "ask-1")
    assert done.is_completed is True
    assert [p.current_stage.stage_obj.component for p in done.plans] == [
        "ChatInput",
        "WaitForInput",
        "ChatOutput",
    ]
    assert done.current_plan is not None
    assert done.current_plan.next_planned_stage.stage_obj.component == "End"
    check_enums(done)


def test_a_finished_run_parses(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    with deck.http() as http:
        run_until(http, flow["id"], "greet-1", "completed")
    done = inspect(deck, flow["slug"], "greet-1")
    assert done.is_completed is True
    assert len(done.plans) == 3
    check_enums(done)
