from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.results import RunStatus

from ._support import closed_port, flow, run, serve

KEY = "sk-test"
USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


@dataclass
class FakeOpenAI:
    """Behaves like OpenAI's chat.completions: it echoes the last user message."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"authorization": request.headers.get("authorization"), "body": body})
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return _error(401, "Incorrect API key provided: sk-wr**ng.", "invalid_api_key")
        model = body["model"]
        if model == "missing-model":
            return _error(404, f"The model `{model}` does not exist", "model_not_found")
        reply = "Echo: " + body["messages"][-1]["content"]
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": reply},
                        }
                    ],
                    "usage": USAGE,
                }
            )
        return StreamingResponse(self._chunks(model, reply), media_type="text/event-stream")

    async def _chunks(self, model: str, reply: str) -> AsyncIterator[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            doc = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "model": model,
                "created": int(time.time()),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return b"data: " + orjson.dumps(doc) + b"\n\n"

        yield chunk({"role": "assistant", "content": ""})
        yield b": keep-alive\n\n"
        words = reply.split(" ")
        for i, word in enumerate(words):
            yield chunk({"content": word if i == 0 else " " + word})
            await asyncio.sleep(0)
        if model == "flaky-model":
            yield b'data: {"error": {"message": "The server is overloaded", "type": "server"}}\n\n'
            return
        yield chunk({}, "stop")
        usage = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": USAGE,
        }
        yield b"data: " + orjson.dumps(usage) + b"\n\n"
        yield b"data: [DONE]\n\n"


def _error(status: int, message: str, code: str) -> Response:
    doc = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }
    return JSONResponse(doc, status_code=status)


@pytest.fixture(scope="module")
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture(scope="module")
def base_url(fake: FakeOpenAI) -> Iterator[str]:
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    with serve(app) as url:
        yield f"{url}/v1"


def _chat_flow(**params: Any) -> dict[str, Any]:
    return flow(
        [("in", "ChatInput", {}), ("llm", "OpenAIChat", params), ("out", "ChatOutput", {})],
        [("in.message", "llm.input_value"), ("llm.message", "out.input_value")],
    )


async def test_streamed_reply_emits_tokens(engine: Engine, base_url: str, fake: FakeOpenAI) -> None:
    doc = _chat_flow(base_url=base_url, api_key=KEY, model="gpt-test", system_message="Be brief.")
    ran = await run(engine, doc, RunRequest(input_value="hello there"))
    assert ran.result.ok, ran.result.error
    message = ran.out("llm", "message")
    assert message.text == "Echo: hello there"
    assert message.properties == {"model": "gpt-test", "usage": USAGE}
    tokens = ran.sink.of("token")
    assert [t["chunk"] for t in tokens] == ["Echo:", " hello", " there"]
    assert {t["id"] for t in tokens} == {message.id}
    # The model's message is announced once complete, under its own id.
    added = [m for m in ran.sink.of("add_message") if m["component_id"] == "llm"]
    assert [(m["id"], m["text"], m["sender"]) for m in added] == [
        (message.id, "Echo: hello there", "Machine")
    ]
    names = ran.sink.names()
    llm_end = next(
        i
        for i, (name, data) in enumerate(ran.sink.events)
        if name == "end_vertex" and data["build_data"]["id"] == "llm"
    )
    assert max(i for i, name in enumerate(names) if name == "token") < llm_end
    assert ran.text("out") == "Echo: hello there"
    sent = fake.requests[-1]
    assert sent["authorization"] == f"Bearer {KEY}"
    assert sent["body"] == {
        "model": "gpt-test",
        "stream": True,
        "temperature": 0.1,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there"},
        ],
    }


async def test_non_streamed_reply(engine: Engine, base_url: str, fake: FakeOpenAI) -> None:
    doc = _chat_flow(
        base_url=base_url + "/",
        api_key=KEY,
        model="m",
        stream=False,
        temperature=0.7,
        max_tokens=50,
    )
    ran = await run(engine, doc, RunRequest(input_value="once"))
    assert ran.text("out") == "Echo: once"
    assert ran.sink.of("token") == []
    assert ran.out("llm", "message").properties["usage"] == USAGE
    body = fake.requests[-1]["body"]
    assert body["stream"] is False
    assert body["temperature"] == 0.7
    assert body["max_tokens"] == 50
    assert body["messages"] == [{"role": "user", "content": "once"}]


async def test_langflow_openai_model_fields_and_output(
    engine: Engine, base_url: str, fake: FakeOpenAI
) -> None:
    doc = flow(
        [
            ("in", "ChatInput", {}),
            (
                "llm",
                "OpenAIModel",
                {
                    "openai_api_base": base_url,
                    "model_name": "gpt-4o",
                    "api_key": KEY,
                    "stream": False,
                },
            ),
            ("out", "ChatOutput", {}),
        ],
        [("in.message", "llm.input_value"), ("llm.text_output", "out.input_value")],
    )
    ran = await run(engine, doc, RunRequest(input_value="from langflow"))
    assert ran.graph.vertices["llm"].type_name == "OpenAIChat"
    assert ran.text("out") == "Echo: from langflow"
    assert fake.requests[-1]["body"]["model"] == "gpt-4o"


@pytest.mark.parametrize("stream", [True, False])
async def test_bad_key_is_a_component_error_with_the_api_message(
    engine: Engine, base_url: str, stream: bool
) -> None:
    doc = _chat_flow(base_url=base_url, api_key="sk-wrong", model="m", stream=stream)
    ran = await run(engine, doc, RunRequest(input_value="x"))
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "llm"
    assert ran.result.error == (
        "OpenAI Chat (llm): model API returned HTTP 401: Incorrect API key provided: sk-wr**ng."
    )
    assert ran.sink.of("token") == []


async def test_unknown_model_error(engine: Engine, base_url: str) -> None:
    doc = _chat_flow(base_url=base_url, api_key=KEY, model="missing-model")
    ran = await run(engine, doc, RunRequest(input_value="x"))
    assert "HTTP 404: The model `missing-model` does not exist" in (ran.result.error or "")


async def test_error_in_the_middle_of_a_stream(engine: Engine, base_url: str) -> None:
    doc = _chat_flow(base_url=base_url, api_key=KEY, model="flaky-model")
    ran = await run(engine, doc, RunRequest(input_value="a b"))
    assert ran.result.status is RunStatus.FAILED
    assert "model API error: The server is overloaded" in (ran.result.error or "")
    # Tokens already streamed were sent; no final message is.
    assert [t["chunk"] for t in ran.sink.of("token")] == ["Echo:", " a", " b"]
    assert not [m for m in ran.sink.of("add_message") if m["component_id"] == "llm"]


async def test_unreachable_server(engine: Engine) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    ran = await run(
        engine, _chat_flow(base_url=base, api_key=KEY, model="m"), RunRequest(input_value="x")
    )
    assert ran.result.status is RunStatus.FAILED
    assert f"cannot reach the model API at {base}/chat/completions" in (ran.result.error or "")
