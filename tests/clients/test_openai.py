"""OpenAI's own Python client against flowdeck's Responses API, unchanged.

`OpenAI(base_url=".../api/v1", api_key=<flowdeck API key>)` sends the key as a bearer
value; Langflow's documented set-up sends a dummy bearer and the key as `x-api-key`.
"""

from __future__ import annotations

import time
import uuid

import openai
import pytest
from openai import OpenAI
from starlette.applications import Starlette
from starlette.routing import Route

from tests.clients.conftest import GREETING, Deck
from tests.integration.api.test_models import PROVIDERS, chat_flow, provider_body
from tests.unit.engine.components._support import serve
from tests.unit.engine.components.test_openai_chat import KEY, FakeOpenAI


def client_of(deck: Deck, **kwargs: object) -> OpenAI:
    return OpenAI(base_url=f"{deck.url}/api/v1", max_retries=0, timeout=30, **kwargs)  # type: ignore[arg-type]


def test_plain_response_with_the_key_as_bearer(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    response = client_of(deck, api_key=deck.api_key).responses.create(model=flow["id"], input="Ada")
    assert response.status == "completed"
    assert response.output_text == "Hello Ada!"
    assert response.model == flow["id"]


def test_langflow_setup_dummy_bearer_and_x_api_key(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    client = client_of(deck, api_key="dummy", default_headers={"x-api-key": deck.api_key})
    response = client.responses.create(model=flow["id"], input="Grace")
    assert response.output_text == "Hello Grace!"


def test_a_wrong_key_is_refused(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    with pytest.raises(openai.AuthenticationError):
        client_of(deck, api_key="sk-not-a-key").responses.create(model=flow["id"], input="x")
    with pytest.raises(openai.AuthenticationError):
        client_of(deck, api_key="dummy").responses.create(model=flow["id"], input="x")


def test_streamed_response(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    stream = client_of(deck, api_key=deck.api_key).responses.create(
        model=flow["id"], input="Alan", stream=True
    )
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "Hello Alan!"
    assert events[-1].response.output_text == "Hello Alan!"  # type: ignore[union-attr]


def test_previous_response_id_continues_the_session(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    client = client_of(deck, api_key=deck.api_key)
    first = client.responses.create(model=flow["id"], input="one")
    second = client.responses.create(model=flow["id"], input="two", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert second.output_text == "Hello two!"
    with deck.http() as http:
        runs = {r: http.get(f"/api/v1/runs/{r}").json() for r in (first.id, second.id)}
    assert runs[first.id]["session_id"] == runs[second.id]["session_id"]
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=flow["id"], input="x", previous_response_id="nope")


def test_background_response_is_polled_to_its_end(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    client = client_of(deck, api_key=deck.api_key)
    started = client.responses.create(model=flow["id"], input="Linus", background=True)
    assert started.status in ("queued", "in_progress", "completed")
    deadline = time.monotonic() + 20
    response = client.responses.retrieve(started.id)
    while response.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.05)
        response = client.responses.retrieve(started.id)
    assert response.status == "completed"
    assert response.output_text == "Hello Linus!"


def test_streamed_response_of_a_flow_whose_model_is_registered(deck: Deck) -> None:
    # A real OpenAI-style server on 127.0.0.1; the flow names its provider and model only.
    fake = FakeOpenAI()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    with serve(app) as url, deck.http() as http:
        key = f"local-{uuid.uuid4().hex[:6]}"
        made = http.post(PROVIDERS, json=provider_body(key, base_url=f"{url}/v1", api_key=KEY))
        assert made.status_code == 201, made.text
        model = {"provider_id": made.json()["provider_id"], "model_name": "gpt-local"}
        assert http.post("/api/v1/models/", json={**model, "model_type": "llm"}).is_success
        flow = deck.add_flow(chat_flow(key, "gpt-local"))
        stream = client_of(deck, api_key=deck.api_key).responses.create(
            model=flow["id"], input="three small words", stream=True
        )
        events = list(stream)
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "Echo: three small words"
    assert len(deltas) > 1  # the model's tokens, as they came
    assert events[-1].type == "response.completed"
    assert fake.requests[-1]["authorization"] == f"Bearer {KEY}"
    assert fake.requests[-1]["body"]["model"] == "gpt-local"
