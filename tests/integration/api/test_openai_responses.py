"""OpenAI-compatible responses over HTTP: plain, streamed (real token events), background."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Route
from tests.integration.api.test_runs import ECHO, add_flow, delayed
from tests.unit.engine.components._support import serve
from tests.unit.engine.components.test_openai_chat import KEY, FakeOpenAI

from flowdeck.settings import Settings

URL = "/api/v1/responses"
FAILING = {
    "nodes": [{"id": "in", "type": "ChatInput"}, {"id": "parse", "type": "ParseJSON"}],
    "edges": [{"from": "in.message", "to": "parse.input_value"}],
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, letting flows reach the local model server on 127.0.0.1."""
    return settings.model_copy(update={"allow_private_networks": True})


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    """A local OpenAI-style chat completions server that streams its reply word by word."""
    fake = FakeOpenAI()
    server = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    with serve(server) as url:
        yield f"{url}/v1"


def llm_flow(model_url: str) -> dict[str, Any]:
    params = {"base_url": model_url, "api_key": KEY, "model": "gpt-test"}
    return {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {"id": "llm", "type": "OpenAIChat", "params": params},
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "llm.input_value"},
            {"from": "llm.message", "to": "out.input_value"},
        ],
    }


def sse(body: bytes) -> tuple[list[dict[str, Any]], list[bytes]]:
    """OpenAI stream events (checking each `event:` line matches its `type`), and bare data."""
    events, bare = [], []
    for frame in body.split(b"\n\n"):
        if not frame.strip():
            continue
        fields = dict(line.split(b": ", 1) for line in frame.split(b"\n"))
        if b"event" not in fields:
            bare.append(fields[b"data"])
            continue
        data = orjson.loads(fields[b"data"])
        assert data["type"] == fields[b"event"].decode()
        events.append(data)
    return events, bare


def reply(response: dict[str, Any]) -> str:
    text: str = response["output"][0]["content"][0]["text"]
    return text


async def test_response_object(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO, endpoint_name="echo-model")
    for model in (flow_id, "echo-model"):
        resp = await client.post(URL, json={"model": model, "input": "hi there"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["object"] == "response"
        assert body["status"] == "completed"
        assert body["model"] == model
        assert body["error"] is None
        [message] = body["output"]
        assert message["type"] == "message"
        assert message["role"] == "assistant"
        assert message["content"] == [
            {"type": "output_text", "text": "hi there", "annotations": []}
        ]
    fetched = await client.get(f"{URL}/{body['id']}")
    assert fetched.json() == body
    record = (await client.get(f"/api/v1/runs/{body['id']}")).json()
    assert record["trigger"] == "responses"
    items = [{"role": "user", "content": [{"type": "input_text", "text": "from items"}]}]
    listed = await client.post(URL, json={"model": flow_id, "input": items})
    assert reply(listed.json()) == "from items"


async def test_previous_response_continues_the_session(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    first = (await client.post(URL, json={"model": flow_id, "input": "one"})).json()
    second = (
        await client.post(
            URL, json={"model": flow_id, "input": "two", "previous_response_id": first["id"]}
        )
    ).json()
    assert second["previous_response_id"] == first["id"]
    runs = [(await client.get(f"/api/v1/runs/{r['id']}")).json() for r in (first, second)]
    assert runs[0]["session_id"]
    assert runs[0]["session_id"] == runs[1]["session_id"]


async def test_streamed_tokens_become_text_deltas(
    app: FastAPI, client: httpx.AsyncClient, model_url: str
) -> None:
    flow_id = await add_flow(app, llm_flow(model_url))
    resp = await client.post(URL, json={"model": flow_id, "input": "hello there", "stream": True})
    assert resp.headers["content-type"].startswith("text/event-stream")
    events, bare = sse(resp.content)
    assert bare == [b"[DONE]"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    types = [e["type"] for e in events]
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas == ["Echo:", " hello", " there"]
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[0]["response"]["status"] == "in_progress"
    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert reply(done) == "".join(deltas)
    item_ids = {e["item_id"] for e in events if "item_id" in e}
    assert item_ids == {done["output"][0]["id"]}


async def test_stream_without_tokens_sends_the_reply_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    resp = await client.post(URL, json={"model": flow_id, "input": "whole", "stream": True})
    events, _ = sse(resp.content)
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas == ["whole"]
    assert events[-1]["type"] == "response.completed"


async def test_failures_are_failed_responses(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, FAILING)
    body = (await client.post(URL, json={"model": flow_id, "input": "not json"})).json()
    assert body["status"] == "failed"
    assert "not valid JSON" in body["error"]["message"]
    assert body["output"] == []
    resp = await client.post(URL, json={"model": flow_id, "input": "x", "stream": True})
    events, bare = sse(resp.content)
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "server_error"
    assert bare == [b"[DONE]"]


async def test_background_response_is_fetched_later(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, delayed(0.2))
    body = (
        await client.post(URL, json={"model": flow_id, "input": "bg", "background": True})
    ).json()
    assert body["status"] in ("queued", "in_progress")
    assert body["output"] == []
    for _ in range(100):
        got = (await client.get(f"{URL}/{body['id']}")).json()
        if got["status"] == "completed":
            break
        await asyncio.sleep(0.02)
    assert reply(got) == "bg"


async def test_bad_requests(
    app: FastAPI, client: httpx.AsyncClient, anon: httpx.AsyncClient, make_user: Any
) -> None:
    flow_id = await add_flow(app, ECHO)
    missing = await client.post(URL, json={"model": "no-such-flow", "input": "x"})
    assert missing.status_code == 404
    assert missing.json()["field"] == "model"
    tools = await client.post(URL, json={"model": flow_id, "input": "x", "tools": [{"a": 1}]})
    assert tools.status_code == 400
    assert tools.json()["field"] == "tools"
    empty = await client.post(URL, json={"model": flow_id, "input": [{"role": "system"}]})
    assert empty.status_code == 400
    assert empty.json()["field"] == "input"
    assert (await client.post(URL, json={"model": flow_id})).status_code == 422
    previous = await client.post(
        URL, json={"model": flow_id, "input": "x", "previous_response_id": "gone"}
    )
    assert previous.status_code == 404
    assert previous.json()["field"] == "previous_response_id"
    assert (await client.get(f"{URL}/gone")).status_code == 404
    own = (await client.post(URL, json={"model": flow_id, "input": "mine"})).json()
    bob = await make_user("bob")
    assert (await bob.get(f"{URL}/{own['id']}")).status_code == 404
    assert (await bob.post(URL, json={"model": flow_id, "input": "x"})).status_code == 404
    assert (await anon.post(URL, json={"model": flow_id, "input": "x"})).status_code == 401
