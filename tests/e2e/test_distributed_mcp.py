"""Distributed mode: an MCP client whose requests alternate between two API processes (as a
round-robin load balancer sends them) lists, calls and cancels tools over both transports."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.cluster import Cluster, client
from tests.integration.api.mcp_support import JOIN, slow

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster(tmp_path_factory.mktemp("mcp")) as c:
        c.start_api("api1")
        c.start_api("api2")
        c.start_worker("w1")
        yield c


class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each request to the next API process in turn, and counts where each went."""

    def __init__(self, ports: list[int]) -> None:
        self._next = itertools.cycle(ports)
        self._inner = httpx2.AsyncHTTPTransport()
        self.sent: list[tuple[str, int]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self._next)
        request.url = request.url.copy_with(port=port)
        self.sent.append((request.method, port))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture(scope="module")
def setup(cluster: Cluster) -> dict[str, Any]:
    with client(cluster.url("api1")) as http:
        made = {}
        for name, data in (("Join", JOIN), ("Slow", slow(60))):
            resp = http.post(
                "/api/v1/flows/", json={"name": name, "data": data, "mcp_enabled": True}
            )
            assert resp.status_code == 201, resp.text
            made[name] = resp.json()["id"]
        key = http.post("/api/v1/api_key/", json={"name": "mcp"}).json()["api_key"]
    return {"key": key, "flows": made}


def _run_state(cluster: Cluster, flow_id: str) -> str | None:
    with client(cluster.url("api2")) as http:
        runs = http.get("/api/v1/runs/", params={"flow_id": flow_id}).json()
    return runs[0]["state"] if runs else None


async def _wait(cluster: Cluster, flow_id: str, state: str) -> None:
    deadline = time.monotonic() + 30
    while (found := await asyncio.to_thread(_run_state, cluster, flow_id)) != state:
        assert time.monotonic() < deadline, f"run of {flow_id} is {found}, not {state}"
        await asyncio.sleep(0.1)


async def _exercise(session: ClientSession, cluster: Cluster, flows: dict[str, str]) -> None:
    await session.initialize()
    for _ in range(3):  # every request of these lands on the other process than the last
        assert {t.name for t in (await session.list_tools()).tools} == {"join", "slow"}
        result = await session.call_tool("join", {"text_input": "a", "text_input_2": "b"})
        assert not result.is_error, result
        assert result.content[0].text == "a + b"  # type: ignore[union-attr]
    call = asyncio.create_task(session.call_tool("slow", {"input_value": "x"}))
    await _wait(cluster, flows["Slow"], "running")
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await _wait(cluster, flows["Slow"], "cancelled")


@pytest.fixture
async def balancer(cluster: Cluster) -> AsyncIterator[RoundRobin]:
    rr = RoundRobin([cluster.ports["api1"], cluster.ports["api2"]])
    yield rr
    await rr.aclose()


async def test_streamable_http_behind_a_round_robin_balancer(
    cluster: Cluster, setup: dict[str, Any], balancer: RoundRobin
) -> None:
    url = f"{cluster.url('api1')}/api/v1/mcp/streamable"
    headers = {"x-api-key": setup["key"]}
    async with (
        httpx2.AsyncClient(transport=balancer, headers=headers, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await _exercise(session, cluster, setup["flows"])
    posts = [port for method, port in balancer.sent if method == "POST"]
    assert set(posts) == {cluster.ports["api1"], cluster.ports["api2"]}


async def test_sse_messages_posted_to_the_other_process_reach_the_stream(
    cluster: Cluster, setup: dict[str, Any], balancer: RoundRobin
) -> None:
    headers = {"x-api-key": setup["key"]}

    def factory(**kwargs: Any) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=balancer, **kwargs)

    url = f"{cluster.url('api1')}/api/v1/mcp/sse"
    async with (
        sse_client(url, headers=headers, httpx_client_factory=factory) as (read, write),
        ClientSession(read, write) as session,
    ):
        await _exercise(session, cluster, setup["flows"])
    assert {port for _, port in balancer.sent} == {cluster.ports["api1"], cluster.ports["api2"]}


def test_a_post_for_another_callers_stream_is_not_found(cluster: Cluster) -> None:
    with httpx.Client(base_url=cluster.url("api2")) as http:
        with client(cluster.url("api1")) as admin:
            key = admin.post("/api/v1/api_key/", json={"name": "other"}).json()["api_key"]
        answer = http.post(
            "/api/v1/mcp/?session_id=" + "0" * 32, json={}, headers={"x-api-key": key}
        )
    assert answer.status_code == 404
