"""Model types, providers and their models per tenant; a chat step using a registered model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.routing import Route
from tests.integration.api.test_runs import ndjson
from tests.integration.api.test_tenants import _bind, _tenant
from tests.unit.engine.components._support import serve
from tests.unit.engine.components.test_openai_chat import KEY, FakeOpenAI

from flowdeck.settings import Settings

PROVIDERS = "/api/v1/models/providers"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, letting flows reach the local model server on 127.0.0.1."""
    return settings.model_copy(update={"allow_private_networks": True})


@pytest.fixture(scope="module")
def model_server() -> Iterator[tuple[str, FakeOpenAI]]:
    """A real OpenAI-style server on 127.0.0.1 streaming its replies word by word."""
    fake = FakeOpenAI()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    with serve(app) as url:
        yield f"{url}/v1", fake


def provider_body(key: str = "local", **fields: Any) -> dict[str, Any]:
    return {
        "provider_key": key,
        "provider_name": f"Provider {key}",
        "variable_name": f"{key.upper()}_API_KEY",
        "model_class": "ChatOpenAI",
        **fields,
    }


async def add_provider(client: httpx.AsyncClient, key: str = "local", **fields: Any) -> int:
    made = await client.post(PROVIDERS, json=provider_body(key, **fields))
    assert made.status_code == 201, made.text
    provider_id: int = made.json()["provider_id"]
    return provider_id


async def add_model(client: httpx.AsyncClient, provider_id: int, name: str, **fields: Any) -> int:
    body = {"provider_id": provider_id, "model_name": name, "model_type": "llm", **fields}
    made = await client.post("/api/v1/models/", json=body)
    assert made.status_code == 201, made.text
    model_id: int = made.json()["id"]
    return model_id


async def test_provider_fields_defaults_sort_and_search(client: httpx.AsyncClient) -> None:
    made = await client.post(PROVIDERS, json=provider_body("openai", key_order=2))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["icon"] == "Bot"
    assert body["requires_api_key"] is True
    assert body["model_name_param"] == "model"
    assert body["api_key_param"] == "api_key"
    assert body["max_tokens_field_name"] == "max_tokens"
    assert body["is_active"] is True
    assert body["api_key"] is None
    assert body["c_uid"] == body["m_uid"]
    full = provider_body(
        "deepseek",
        icon="DeepSeek",
        requires_api_key=False,
        api_docs_url="https://docs.example/api",
        model_name_param="model_name",
        api_key_param="key",
        base_url_param="base_url",
        base_url="https://api.example/v1",
        url_param="url",
        max_tokens_field_name="max_completion_tokens",
        is_active=False,
        key_order=1,
        note="every field",
    )
    second = (await client.post(PROVIDERS, json=full)).json()
    for key, value in full.items():
        assert second[key] == value, key
    keys = [p["provider_key"] for p in (await client.get(PROVIDERS)).json()]
    assert keys == ["deepseek", "openai"]  # key_order
    desc = await client.get(PROVIDERS, params={"sort_by": "provider_key", "sort_order": "desc"})
    assert [p["provider_key"] for p in desc.json()] == ["openai", "deepseek"]
    found = await client.get(f"{PROVIDERS}/", params={"search": "deep"})
    assert [p["provider_key"] for p in found.json()] == ["deepseek"]
    assert (await client.get(PROVIDERS, params={"sort_by": "note"})).status_code == 422

    pid = second["provider_id"]
    patched = await client.patch(f"{PROVIDERS}/{pid}", json={"provider_name": "DS", "note": None})
    assert patched.json()["provider_name"] == "DS"
    assert patched.json()["note"] is None
    assert (await client.get(f"{PROVIDERS}/{pid}")).json()["provider_name"] == "DS"
    again = await client.post(PROVIDERS, json=provider_body("openai"))
    assert again.status_code == 409
    missing = await client.post(PROVIDERS, json={"provider_key": "x"})
    assert missing.status_code == 422
    assert (await client.delete(f"{PROVIDERS}/{pid}")).status_code == 204
    assert (await client.get(f"{PROVIDERS}/{pid}")).status_code == 404
    assert (await client.delete(f"{PROVIDERS}/{pid}")).status_code == 404


async def test_api_key_is_sealed_at_rest_masked_in_reads(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    secret = "sk-live-very-secret-value"
    made = await client.post(PROVIDERS, json=provider_body(api_key=secret))
    assert made.status_code == 201, made.text
    assert made.json()["api_key"] == "********"
    pid = made.json()["provider_id"]
    assert secret not in made.text
    for read in (await client.get(PROVIDERS), await client.get(f"{PROVIDERS}/{pid}")):
        assert secret not in read.text
        assert "********" in read.text

    async def stored() -> str | None:
        async with app.state.services.db.session() as session:
            row = await session.execute(
                text("SELECT api_key_sealed FROM model_providers WHERE provider_id = :id"),
                {"id": pid},
            )
            value: str | None = row.scalar_one()
            return value

    sealed = await stored()
    assert sealed is not None
    assert secret not in sealed
    assert "very-secret" not in sealed
    assert app.state.services.secrets.open(sealed) == secret
    # Sending the mask back (a client saving what it read) keeps the key; null clears it.
    kept = await client.patch(f"{PROVIDERS}/{pid}", json={"api_key": "********", "note": "n"})
    assert kept.status_code == 200, kept.text
    assert app.state.services.secrets.open(await stored() or "") == secret
    replaced = await client.patch(f"{PROVIDERS}/{pid}", json={"api_key": "sk-new"})
    assert replaced.json()["api_key"] == "********"
    assert app.state.services.secrets.open(await stored() or "") == "sk-new"
    cleared = await client.patch(f"{PROVIDERS}/{pid}", json={"api_key": None})
    assert cleared.json()["api_key"] is None
    assert await stored() is None


async def test_provider_models_filters_sort_and_bulk_removes(client: httpx.AsyncClient) -> None:
    pid = await add_provider(client)
    other = await add_provider(client, "other")
    fields = {
        "model_display_name": "GPT Test",
        "context_length": 128000,
        "is_default": True,
        "is_deprecated": True,
        "is_not_supported": True,
        "is_preview": True,
        "is_reasoning": True,
        "is_tool_calling": True,
        "is_search": True,
        "is_vl": True,
        "is_active": False,
        "key_order": 3,
        "metadata": {"family": "gpt", "tags": ["fast"]},
        "note": "all fields",
    }
    first = await client.post(
        "/api/v1/models", json={"provider_id": pid, "model_name": "gpt-a", "model_type": "llm"}
    )
    assert first.status_code == 201, first.text
    defaults = first.json()
    assert defaults["provider_id"] == pid
    assert defaults["is_active"] is True
    assert defaults["is_default"] is False
    assert defaults["metadata"] is None
    nested = await client.post(
        f"{PROVIDERS}/{pid}/models",
        json={"model_name": "gpt-b", "model_type": "embedding", **fields},
    )
    assert nested.status_code == 201, nested.text
    for key, value in fields.items():
        assert nested.json()[key] == value, key
    await add_model(client, pid, "gpt-c", key_order=1)
    await add_model(client, other, "elsewhere")

    listed = await client.get(f"{PROVIDERS}/{pid}/models")
    assert [m["model_name"] for m in listed.json()] == ["gpt-a", "gpt-c", "gpt-b"]
    by_type = await client.get(f"{PROVIDERS}/{pid}/models/", params={"model_type": "embedding"})
    assert [m["model_name"] for m in by_type.json()] == ["gpt-b"]
    desc = await client.get(
        f"{PROVIDERS}/{pid}/models", params={"sort_by": "model_name", "sort_order": "desc"}
    )
    assert [m["model_name"] for m in desc.json()] == ["gpt-c", "gpt-b", "gpt-a"]
    searched = await client.get(f"{PROVIDERS}/{pid}/models", params={"search": "GPT Test"})
    assert [m["model_name"] for m in searched.json()] == ["gpt-b"]
    types = (await client.get("/api/v1/models/types")).json()
    assert {"llm", "embedding", "rerank"} <= {t["model_type"] for t in types}

    model_id = nested.json()["id"]
    patched = await client.patch(
        f"/api/v1/models/{model_id}", json={"is_active": True, "metadata": {"v": 2}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["is_active"] is True
    assert patched.json()["metadata"] == {"v": 2}
    assert (await client.get(f"/api/v1/models/{model_id}")).json()["metadata"] == {"v": 2}
    dup = await client.post(
        "/api/v1/models", json={"provider_id": pid, "model_name": "gpt-a", "model_type": "llm"}
    )
    assert dup.status_code == 409
    no_provider = await client.post(
        "/api/v1/models", json={"provider_id": 999999, "model_name": "x", "model_type": "llm"}
    )
    assert no_provider.status_code == 404
    unnamed = await client.post("/api/v1/models", json={"model_name": "x", "model_type": "llm"})
    assert unnamed.status_code == 422
    assert "provider_id" in unnamed.text
    assert (await client.get(f"{PROVIDERS}/999999/models")).status_code == 404

    ids = [m["id"] for m in listed.json()]
    removed = await client.post(
        f"{PROVIDERS}/{pid}/models/batch-remove", json={"ids": [ids[0], 999999]}
    )
    assert removed.json() == {"deleted_count": 1}
    flat = await client.post("/api/v1/models/batch-remove", json={"ids": ids[1:]})
    assert flat.json() == {"deleted_count": 2}
    assert (await client.get(f"{PROVIDERS}/{pid}/models")).json() == []
    assert (await client.delete(f"/api/v1/models/{model_id}")).status_code == 404
    # A provider goes with its models.
    await add_model(client, pid, "again")
    gone = await client.post(f"{PROVIDERS}/batch-remove", json={"ids": [pid, other]})
    assert gone.json() == {"deleted_count": 2}
    assert (await client.post("/api/v1/models/batch-remove", json={"ids": [1]})).json() == {
        "deleted_count": 0
    }


async def test_registries_belong_to_their_tenant_and_need_privileges(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    acme = await _tenant(client, "acme")
    in_acme = {"Tenant-Id": acme}
    pid = await add_provider(client)
    model_id = await add_model(client, pid, "gpt-home")
    there = await client.post(PROVIDERS, json=provider_body(), headers=in_acme)
    assert there.status_code == 201  # the same provider_key, in another tenant
    assert [p["provider_id"] for p in (await client.get(PROVIDERS, headers=in_acme)).json()] == [
        there.json()["provider_id"]
    ]
    for method, url in (
        ("GET", f"{PROVIDERS}/{pid}"),
        ("PATCH", f"{PROVIDERS}/{pid}"),
        ("DELETE", f"{PROVIDERS}/{pid}"),
        ("GET", f"{PROVIDERS}/{pid}/models"),
        ("GET", f"/api/v1/models/{model_id}"),
        ("PATCH", f"/api/v1/models/{model_id}"),
        ("DELETE", f"/api/v1/models/{model_id}"),
    ):
        resp = await client.request(
            method, url, json={} if method == "PATCH" else None, headers=in_acme
        )
        assert resp.status_code == 404, (method, url, resp.text)
    cross = await client.post(
        "/api/v1/models",
        json={"provider_id": pid, "model_name": "x", "model_type": "llm"},
        headers=in_acme,
    )
    assert cross.status_code == 404
    removed = await client.post(
        "/api/v1/models/batch-remove", json={"ids": [model_id]}, headers=in_acme
    )
    assert removed.json() == {"deleted_count": 0}
    assert (await client.get(f"/api/v1/models/{model_id}")).status_code == 200

    viewer = await make_user("vera")
    await _bind(client, acme, "vera", "viewer")
    assert (await viewer.get(PROVIDERS, headers=in_acme)).status_code == 200
    refused = await viewer.post(PROVIDERS, json=provider_body("v"), headers=in_acme)
    assert refused.status_code == 403
    assert "models" in refused.text
    patch = await viewer.patch(
        f"{PROVIDERS}/{there.json()['provider_id']}", json={"note": "x"}, headers=in_acme
    )
    assert patch.status_code == 403
    assert (
        await viewer.post(f"{PROVIDERS}/batch-remove", json={"ids": [1]}, headers=in_acme)
    ).status_code == 403


def chat_flow(provider: str, model_name: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {
                "id": "llm",
                "type": "OpenAIChat",
                "params": {"provider": provider, "model_name": model_name},
            },
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "llm.input_value"},
            {"from": "llm.message", "to": "out.input_value"},
        ],
    }


async def build_events(
    client: httpx.AsyncClient, flow: dict[str, Any], words: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    made = await client.post(
        "/api/v1/flows/", json={"name": f"chat {len(words)}", "data": flow}, headers=headers
    )
    assert made.status_code == 201, made.text
    job = await client.post(
        f"/api/v1/build/{made.json()['id']}/flow",
        json={"inputs": {"input_value": words}},
        headers=headers,
    )
    assert job.status_code == 200, job.text
    events = await client.get(f"/api/v1/build/{job.json()['job_id']}/events", headers=headers)
    return ndjson(events.content)


async def test_chat_step_uses_a_registered_provider_in_its_tenant(
    client: httpx.AsyncClient, model_server: tuple[str, FakeOpenAI]
) -> None:
    url, fake = model_server
    acme = await _tenant(client, "acme")
    in_acme = {"Tenant-Id": acme}
    made = await client.post(
        PROVIDERS, json=provider_body("acme-llm", base_url=url, api_key=KEY), headers=in_acme
    )
    pid = made.json()["provider_id"]
    await client.post(
        "/api/v1/models/",
        json={"provider_id": pid, "model_name": "gpt-acme", "model_type": "llm"},
        headers=in_acme,
    )

    events = await build_events(
        client, chat_flow("acme-llm", "gpt-acme"), "three small words", in_acme
    )
    tokens = [e["data"]["chunk"] for e in events if e["event"] == "token"]
    assert "".join(tokens) == "Echo: three small words"
    assert len(tokens) > 3  # streamed word by word, not in one piece
    assert events[-1]["event"] == "end"
    last = fake.requests[-1]
    assert last["authorization"] == f"Bearer {KEY}"  # the sealed key, opened for the call
    assert last["body"]["model"] == "gpt-acme"

    # The home tenant has no such provider: the step fails naming it.
    home = await build_events(client, chat_flow("acme-llm", "gpt-acme"), "hi", {})
    errors = [e for e in home if e["event"] == "error"]
    assert errors
    assert "acme-llm" in str(errors[-1]["data"])
    assert "is not registered" in str(errors[-1]["data"])
    # A model the provider does not list is refused too.
    unknown = await build_events(client, chat_flow("acme-llm", "gpt-other"), "hi", in_acme)
    assert "gpt-other" in str([e for e in unknown if e["event"] == "error"][-1]["data"])
