"""The assistant: check-config, assist, assist/stream and named flows, through a registered
provider served by a local OpenAI-compatible server (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from flowdeck.settings import Settings
from tests.tenancy import TenantWorld
from tests.unit.engine.components._support import serve
from tests.unit.engine.components.test_openai_chat import KEY, FakeOpenAI

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROVIDERS = "/api/v1/models/providers"
GOOD = "```python\nOUTPUTS = ['x']\ndef build():\n    return 1\n```"
BAD = "```python\nOUTPUTS = ['x']\ndef build(y):\n    return y\n```"


@pytest.fixture(scope="module")
def module_settings(module_settings: Settings) -> Settings:
    """The module's app may reach the local model server on 127.0.0.1."""
    return module_settings.model_copy(update={"allow_private_networks": True})


@pytest.fixture(scope="module")
def model_server() -> Iterator[tuple[str, FakeOpenAI]]:
    fake = FakeOpenAI()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    with serve(app) as url:
        yield f"{url}/v1", fake


async def register(
    client: httpx.AsyncClient, base_url: str | None, key: str = "local", **fields: Any
) -> int:
    body = {
        "provider_key": key,
        "provider_name": f"Provider {key}",
        "variable_name": "LOCAL_API_KEY",
        "model_class": "ChatOpenAI",
        "base_url": base_url,
        "api_key": KEY,
        **fields,
    }
    made = await client.post(PROVIDERS, json=body)
    assert made.status_code == 201, made.text
    provider_id: int = made.json()["provider_id"]
    for name, extra in (("gpt-test", {"is_default": True}), ("gpt-other", {})):
        model = {"provider_id": provider_id, "model_name": name, "model_type": "llm", **extra}
        added = await client.post("/api/v1/models/", json=model)
        assert added.status_code == 201, added.text
    return provider_id


def ask(text: str, **fields: Any) -> dict[str, Any]:
    return {"flow_id": "f-1", "input_value": text, **fields}


async def test_check_config_lists_configured_providers_and_models(
    client: httpx.AsyncClient, model_server: tuple[str, FakeOpenAI]
) -> None:
    empty = await client.get("/api/v1/agentic/check-config")
    assert empty.status_code == 200, empty.text
    assert empty.json() == {
        "configured": False,
        "configured_providers": [],
        "providers": [],
        "default_provider": None,
        "default_model": None,
    }
    await register(client, model_server[0])
    await register(client, None, key="nourl")  # no base_url: listed, not configured
    config = (await client.get("/api/v1/agentic/check-config")).json()
    assert config["configured"] is True
    assert config["configured_providers"] == ["local"]
    assert config["default_provider"] == "local"
    assert config["default_model"] == "gpt-test"
    by_name = {p["name"]: p for p in config["providers"]}
    assert by_name["nourl"]["configured"] is False
    assert [m["name"] for m in by_name["local"]["models"]] == ["gpt-other", "gpt-test"]


async def test_assist_answers_through_the_provider_as_a_recorded_run(
    client: httpx.AsyncClient, model_server: tuple[str, FakeOpenAI]
) -> None:
    nothing = await client.post("/api/v1/agentic/assist", json=ask("hi"))
    assert nothing.status_code == 400
    assert nothing.json()["field"] == "provider"
    await register(client, model_server[0])
    answered = await client.post(
        "/api/v1/agentic/assist",
        json=ask("how do I join texts?", component_id="c-9", model_name="gpt-other"),
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["result"] == "Echo: how do I join texts?"
    assert (body["provider"], body["model_name"]) == ("local", "gpt-other")
    assert body["validated"] is None  # no code in the reply
    sent = model_server[1].requests[-1]["body"]
    assert sent["model"] == "gpt-other"
    system = sent["messages"][0]["content"]
    assert "flow f-1" in system
    assert "component: c-9" in system
    run = await client.get(f"/api/v1/runs/{body['run_id']}")
    assert run.status_code == 200, run.text
    assert run.json()["trigger"] == "assistant"
    assert run.json()["state"] == "completed"
    wrong = await client.post("/api/v1/agentic/assist", json=ask("x", provider="elsewhere"))
    assert wrong.status_code == 400
    unknown_model = await client.post("/api/v1/agentic/assist", json=ask("x", model_name="nope"))
    assert unknown_model.status_code == 400
    assert unknown_model.json()["field"] == "model_name"
    missing = await client.post("/api/v1/agentic/assist", json={"input_value": "x"})
    assert missing.status_code == 422
    assert "flow_id" in missing.text


async def test_component_code_in_a_reply_is_checked_and_asked_again(
    client: httpx.AsyncClient, model_server: tuple[str, FakeOpenAI]
) -> None:
    await register(client, model_server[0])
    good = (await client.post("/api/v1/agentic/assist", json=ask(GOOD))).json()
    assert good["validated"] is True
    assert good["validation_attempts"] == 1
    assert "def build()" in good["component_code"]
    before = len(model_server[1].requests)
    bad = await client.post("/api/v1/agentic/assist", json=ask(BAD, max_retries=1))
    assert bad.status_code == 200, bad.text
    assert bad.json()["validated"] is False
    assert bad.json()["validation_attempts"] == 2
    assert "INPUTS does not declare" in bad.json()["validation_error"]
    retried = model_server[1].requests[before + 1]["body"]["messages"][-1]["content"]
    assert retried.startswith("The component code you wrote fails its check")


async def test_assist_stream_sends_tokens_as_they_come(
    client: httpx.AsyncClient, model_server: tuple[str, FakeOpenAI]
) -> None:
    await register(client, model_server[0])
    async with client.stream(
        "POST", "/api/v1/agentic/assist/stream", json=ask("three little words")
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = [
            orjson.loads(line[5:]) async for line in resp.aiter_lines() if line.startswith("data:")
        ]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "progress"
    assert events[0]["step"] == "generating"
    assert kinds[-1] == "complete"
    tokens = [e["chunk"] for e in events if e["event"] == "token"]
    assert len(tokens) >= 4
    assert "".join(tokens) == "Echo: three little words"
    assert events[-1]["data"]["result"] == "Echo: three little words"


async def test_execute_named_flow(
    client: httpx.AsyncClient, model_server: tuple[str, FakeOpenAI]
) -> None:
    await register(client, model_server[0])
    ran = await client.post(
        "/api/v1/agentic/execute/prompt_generation", json=ask("a greeting prompt")
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["result"] == "Echo: a greeting prompt"
    system = model_server[1].requests[-1]["body"]["messages"][0]["content"]
    assert "prompt templates" in system
    for name in ("no-such-flow", "..%2Fsecrets"):
        missing = await client.post(f"/api/v1/agentic/execute/{name}", json=ask("x"))
        assert missing.status_code == 404, missing.text


async def test_a_viewer_reads_the_config_but_cannot_run_the_assistant(
    tenant: TenantWorld, model_server: tuple[str, FakeOpenAI], client: httpx.AsyncClient
) -> None:
    await register(client, model_server[0])
    viewer = await tenant.member("viewer", name="viewer")
    assert (await viewer.get("/api/v1/agentic/check-config")).status_code == 200
    refused = await viewer.post("/api/v1/agentic/assist", json=ask("x"))
    assert refused.status_code == 403
    assert "runs" in refused.json()["message"]
