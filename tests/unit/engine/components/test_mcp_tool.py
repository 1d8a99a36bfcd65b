"""MCPTool and OpenAIChat's `provider`: what a run finds in its tenant's registries."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.netpolicy import NetworkPolicy
from flowdeck.engine.registries import ChatModelTarget, McpEndpoint
from flowdeck.engine.results import VertexState
from flowdeck.errors import NotFoundError
from tests.integration import mcp_server

from ._support import flow, run, serve
from .test_openai_chat import KEY, FakeOpenAI

SCRIPT = str(Path(mcp_server.__file__).resolve())


class TenantRegistries:
    """Registries held in memory, per tenant, as a host without a database would hold them."""

    def __init__(self, model_url: str = "") -> None:
        self.model_url = model_url

    async def chat_model(
        self, tenant_id: str, provider_key: str, model_name: str
    ) -> ChatModelTarget:
        if (tenant_id, provider_key) != ("t1", "local"):
            raise NotFoundError(f"model provider {provider_key!r} is not registered")
        return ChatModelTarget("local", self.model_url, model_name, KEY, "max_completion_tokens")

    async def mcp_server(self, tenant_id: str, name: str) -> McpEndpoint:
        if (tenant_id, name) != ("t1", "tools"):
            raise NotFoundError(f"MCP server {name!r} is not registered")
        return McpEndpoint(
            "tools", "stdio", sys.executable, (SCRIPT,), env={"TOOL_GREETING": "unit "}
        )


@pytest.fixture(scope="module")
def model_server() -> Iterator[tuple[str, FakeOpenAI]]:
    fake = FakeOpenAI()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    with serve(app) as url:
        yield f"{url}/v1", fake


def tool_doc(server: str = "tools") -> dict[str, object]:
    params = {"server": server, "tool": "shout", "input_field": "text"}
    return flow(
        [("in", "ChatInput", {}), ("tool", "MCPTool", params)], [("in.message", "tool.input_value")]
    )


async def test_a_tool_step_calls_its_tenants_server() -> None:
    engine = Engine(registries=TenantRegistries(), allow_custom_code=True)
    ran = await run(engine, tool_doc(), RunRequest(input_value="abc", tenant_id="t1"))
    assert ran.text("tool") == "unit ABC"
    assert ran.out("tool", "data")["structured_content"] == {"result": "unit ABC"}
    other = await run(engine, tool_doc(), RunRequest(input_value="abc", tenant_id="t2"))
    assert other.state("tool") is VertexState.FAILED
    assert "'tools' is not registered" in (other.result.error or "")
    await engine.aclose()


async def test_without_registries_or_custom_code_the_step_says_why() -> None:
    bare = Engine(allow_custom_code=True)
    ran = await run(bare, tool_doc(), RunRequest(input_value="x", tenant_id="t1"))
    assert "no registered MCP servers" in (ran.result.error or "")
    locked = Engine(registries=TenantRegistries())
    ran = await run(locked, tool_doc(), RunRequest(input_value="x", tenant_id="t1"))
    assert "FLOWDECK_ALLOW_CUSTOM_CODE" in (ran.result.error or "")


async def test_chat_step_with_a_provider(model_server: tuple[str, FakeOpenAI]) -> None:
    url, fake = model_server
    engine = Engine(registries=TenantRegistries(url), network=NetworkPolicy(True))
    params = {"provider": "local", "model_name": "gpt-unit", "max_tokens": 5}
    doc = flow(
        [("in", "ChatInput", {}), ("llm", "OpenAIChat", params)],
        [("in.message", "llm.input_value")],
    )
    ran = await run(engine, doc, RunRequest(input_value="hi there", tenant_id="t1"))
    assert ran.text("llm") == "Echo: hi there"
    assert [e["chunk"] for e in ran.sink.of("token")] == ["Echo:", " hi", " there"]
    sent = fake.requests[-1]
    assert sent["authorization"] == f"Bearer {KEY}"
    assert sent["body"]["model"] == "gpt-unit"
    assert sent["body"]["max_completion_tokens"] == 5  # the provider's field name
    missing = await run(engine, doc, RunRequest(input_value="x", tenant_id="t2"))
    assert "'local' is not registered" in (missing.result.error or "")
    await engine.aclose()
