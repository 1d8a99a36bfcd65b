"""The inspector dialect: a run's plan (stages, current and next), its session history."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.integration.api.flow_docs import ASK

pytestmark = pytest.mark.asyncio(loop_scope="module")

Json = dict[str, Any]

ECHO = {
    "nodes": [{"id": "in", "type": "ChatInput"}, {"id": "out", "type": "ChatOutput"}],
    "edges": [{"from": "in.message", "to": "out.input_value"}],
}
BINDING_KEYS = {
    "pk",
    "policybindingmodel_ptr_id",
    "target",
    "stage",
    "stage_obj",
    "evaluate_on_plan",
    "re_evaluate_policies",
    "order",
    "policy_engine_mode",
    "invalid_response_action",
}
STAGE_KEYS = {
    "pk",
    "name",
    "component",
    "verbose_name",
    "verbose_name_plural",
    "meta_model_name",
    "flow_set",
}
FLOW_KEYS = {
    "pk",
    "policybindingmodel_ptr_id",
    "name",
    "slug",
    "title",
    "designation",
    "background",
    "background_url",
    "policy_engine_mode",
    "compatibility_mode",
    "export_url",
    "layout",
    "denied_action",
}


async def add(client: httpx.AsyncClient, name: str, data: Json) -> Json:
    resp = await client.post("/api/v1/flows/", json={"name": name, "data": data})
    assert resp.status_code == 201, resp.text
    body: Json = resp.json()
    return body


async def until(client: httpx.AsyncClient, run_id: str, state: str) -> Json:
    record: Json = {}
    for _ in range(250):
        record = (await client.get(f"/api/v1/runs/{run_id}")).json()
        if record["state"] == state:
            return record
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} never became {state}: {record.get('state')}")


def component(binding: Json | None) -> str | None:
    return None if binding is None else str(binding["stage_obj"]["component"])


def check_schema(plan: Json, flow: Json) -> None:
    assert set(plan) == {"current_stage", "next_planned_stage", "plan_context", "session_id"}
    for binding in (plan["current_stage"], plan["next_planned_stage"]):
        assert set(binding) == BINDING_KEYS
        assert binding["pk"] == binding["policybindingmodel_ptr_id"]
        assert binding["target"] == flow["id"]
        assert binding["stage"] == binding["stage_obj"]["pk"]
        assert set(binding["stage_obj"]) == STAGE_KEYS
        (owner,) = binding["stage_obj"]["flow_set"]
        assert set(owner) == FLOW_KEYS
        assert owner["pk"] == flow["id"]
        assert owner["slug"] == flow["slug"]
        assert owner["designation"] == "authorization"  # an enum value of the schema
    assert plan["plan_context"]["flow_type"] == flow["flow_type"]


async def test_plan_of_a_waiting_run_then_completed(client: httpx.AsyncClient) -> None:
    flow = await add(client, "Ask me", ASK)
    url = f"/api/v3/flows/inspector/{flow['slug']}/"
    job = await client.post(
        f"/api/v1/build/{flow['id']}/flow",
        json={"inputs": {"input_value": "the context", "session": "chat-1"}},
    )
    run_id = job.json()["job_id"]
    await until(client, run_id, "waiting")

    resp = await client.get(url, params={"session_id": "chat-1"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"plans", "current_plan", "is_completed"}
    assert body["is_completed"] is False
    current = body["current_plan"]
    check_schema(current, flow)
    assert component(current["current_stage"]) == "WaitForInput"
    assert current["current_stage"]["stage_obj"]["name"] == "Wait for Input"
    assert current["current_stage"]["order"] == 1
    assert component(current["next_planned_stage"]) == "ChatOutput"
    assert current["session_id"] == "chat-1"
    context = current["plan_context"]
    assert context["run_id"] == run_id
    assert context["input_value"] == "the context"
    assert context["state"] == "waiting"
    assert context["prompt"].startswith("Go on?")
    assert context["layers"] == [["in"], ["ask"], ["out"]]
    # The history so far: the chat input, which is done.
    assert [component(p["current_stage"]) for p in body["plans"]] == ["ChatInput"]
    check_schema(body["plans"][0], flow)

    # Without a session id (or the trailing slash): the session of the caller's latest run.
    fallback = await client.get(url.rstrip("/"))
    assert fallback.status_code == 200
    assert fallback.json()["current_plan"]["session_id"] == "chat-1"
    by_header = await client.get(url, headers={"X-Session-Id": "chat-1"})
    assert component(by_header.json()["current_plan"]["current_stage"]) == "WaitForInput"

    answer = await client.post(f"/api/v1/runs/{run_id}/answer", json={"value": "yes"})
    assert answer.status_code == 200, answer.text
    await until(client, run_id, "completed")
    done = (await client.get(url, params={"session_id": "chat-1"})).json()
    assert done["is_completed"] is True
    assert [component(p["current_stage"]) for p in done["plans"]] == [
        "ChatInput",
        "WaitForInput",
        "ChatOutput",
    ]
    assert component(done["current_plan"]["current_stage"]) == "ChatOutput"
    # The schema's stages are never null: past the last step, the plan stands at its end.
    end = done["current_plan"]["next_planned_stage"]
    assert component(end) == "End"
    assert end["order"] == 3
    assert done["current_plan"]["plan_context"]["state"] == "completed"
    assert [s["state"] for s in done["current_plan"]["plan_context"]["stages"]] == ["completed"] * 3


async def test_session_history_and_plan_variables(client: httpx.AsyncClient) -> None:
    flow = await add(client, "Echo", ECHO)
    for text in ("one", "two"):
        resp = await client.post(
            f"/api/v1/run/{flow['id']}",
            json={"input_value": text, "session_id": "s-2", "tweaks": {"in": {"sender_name": "Q"}}},
        )
        assert resp.status_code == 200, resp.text
    body = (await client.get(f"/api/v3/flows/inspector/{flow['slug']}/?session_id=s-2")).json()
    assert body["is_completed"] is True
    plans = body["plans"]
    assert [p["plan_context"]["input_value"] for p in plans] == ["one", "one", "two", "two"]
    assert [component(p["current_stage"]) for p in plans] == ["ChatInput", "ChatOutput"] * 2
    assert component(plans[0]["next_planned_stage"]) == "ChatOutput"
    assert plans[0]["plan_context"]["tweaks"] == {"in": {"sender_name": "Q"}}
    assert body["current_plan"] == plans[-1]
    # A run without a session id is a session of its own.
    await client.post(f"/api/v1/run/{flow['id']}", json={"input_value": "alone"})
    alone = (await client.get(f"/api/v3/flows/inspector/{flow['slug']}/")).json()
    assert [p["plan_context"]["input_value"] for p in alone["plans"]] == ["alone", "alone"]
    run_id = alone["current_plan"]["plan_context"]["run_id"]
    assert alone["current_plan"]["session_id"] == run_id


async def test_no_plan_is_400(client: httpx.AsyncClient) -> None:
    flow = await add(client, "Never run", ECHO)
    resp = await client.get(f"/api/v3/flows/inspector/{flow['slug']}/")
    assert resp.status_code == 400
    assert resp.json()["detail"] == "No flow plan in session."
    assert resp.json()["code"] == "no_flow_plan"
    await client.post(f"/api/v1/run/{flow['id']}", json={"input_value": "x"})
    other = await client.get(
        f"/api/v3/flows/inspector/{flow['slug']}/", params={"session_id": "other"}
    )
    assert other.status_code == 400
    assert other.json()["detail"] == "No flow plan in session."


async def test_access(client: httpx.AsyncClient, anon: httpx.AsyncClient, make_user: Any) -> None:
    flow = await add(client, "Private", ECHO)
    url = f"/api/v3/flows/inspector/{flow['slug']}/"
    unauthenticated = await anon.get(url)
    assert unauthenticated.status_code == 403
    assert unauthenticated.json()["detail"]
    bob = await make_user("bob")
    assert (await bob.get(url)).status_code == 403
    assert (await client.get("/api/v3/flows/inspector/no-such-flow/")).status_code == 404
    # Bob's own runs of a public flow are his to inspect; the owner's runs are not shown.
    await client.patch(f"/api/v1/flows/{flow['id']}", json={"access_type": "PUBLIC"})
    await client.post(f"/api/v1/run/{flow['id']}", json={"input_value": "admin's"})
    assert (await bob.get(url)).status_code == 400
