"""Server logs (`/logs`, `/logs-stream`) and Prometheus metrics (`/metrics`) over HTTP."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from tests.integration.api.test_runs import ECHO, add_flow, delayed

from flowdeck.settings import Settings

log = logging.getLogger("flowdeck.tests")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One worker, so a second run waits in the queue."""
    return settings.model_copy(update={"max_concurrent_runs": 1})


def marker(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}"


async def test_logs_returns_recent_lines_by_timestamp(client: httpx.AsyncClient) -> None:
    names = [marker(tag) for tag in ("first", "second", "third")]
    for name in names:
        log.warning(name)
    latest = (await client.get("/logs", params={"lines_before": 3})).json()
    assert [line.rsplit(": ", 1)[1] for line in latest.values()] == names
    assert all(line.startswith("WARNING flowdeck.tests: ") for line in latest.values())
    stamps = [int(ts) for ts in latest]
    assert stamps == sorted(set(stamps))
    before = (await client.get("/logs", params={"timestamp": stamps[1], "lines_before": 5})).json()
    assert list(before.values())[-1].endswith(names[0])
    after = (await client.get("/logs", params={"timestamp": stamps[1], "lines_after": 2})).json()
    assert [int(ts) for ts in after] == stamps[1:]
    default = (await client.get("/logs")).json()
    assert 3 <= len(default) <= 10
    assert list(default)[-1] == str(stamps[-1])


async def test_logs_rejects_bad_queries_and_non_admins(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, make_user: Any
) -> None:
    both = await client.get("/logs", params={"timestamp": 1, "lines_before": 1, "lines_after": 1})
    assert both.status_code == 400
    no_ts = await client.get("/logs", params={"lines_after": 3})
    assert no_ts.status_code == 400
    assert no_ts.json()["field"] == "timestamp"
    assert (await client.get("/logs", params={"lines_before": -1})).status_code == 422
    assert (await anon.get("/logs")).status_code == 401
    assert (await anon.get("/logs-stream")).status_code == 401
    bob = await make_user("bob")
    # Logs show every tenant's activity: superusers only.
    assert (await bob.get("/logs")).status_code == 403
    assert (await bob.get("/logs-stream")).status_code == 403


async def test_logs_stream_sends_new_lines_live(app: FastAPI, client: httpx.AsyncClient) -> None:
    # httpx's ASGI transport waits for a whole body; this stream never ends, so speak ASGI.
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    gone = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        await messages.put(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/logs-stream",
        "raw_path": b"/logs-stream",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", client.headers["Authorization"].encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    log.warning(marker("before"))
    task = asyncio.create_task(app(scope, receive, send))
    start = await asyncio.wait_for(messages.get(), 5)
    assert start["status"] == 200
    assert dict(start["headers"])[b"content-type"].startswith(b"text/event-stream")
    wanted = [marker("live"), marker("live")]
    for name in wanted:
        log.warning(name)
    lines: list[str] = []
    while len(lines) < len(wanted):
        body = (await asyncio.wait_for(messages.get(), 5))["body"]
        for chunk in body.split(b"\n\n"):
            if chunk.strip():
                [(ts, line)] = orjson.loads(chunk).items()
                assert ts.isdigit()
                lines.append(line)
    # Only what was logged after the stream opened.
    assert [line.rsplit(": ", 1)[1] for line in lines] == wanted
    gone.set()
    await asyncio.wait_for(task, 5)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return samples(resp.text)


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_http_metrics_use_route_templates(app: FastAPI, client: httpx.AsyncClient) -> None:
    route = {"method": "GET", "route": "/api/v1/runs/{run_id}", "status": "404"}
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get(f"/api/v1/runs/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"/no/such/{uuid.uuid4()}")).status_code == 404
    after = await scrape(client)
    requests = "flowdeck_http_requests_total"
    assert value(after, requests, **route) - value(before, requests, **route) == 3
    assert value(after, requests, **unmatched) - value(before, requests, **unmatched) == 1
    latency = "flowdeck_http_request_duration_seconds_count"
    timed = {"method": "GET", "route": "/api/v1/runs/{run_id}"}
    assert value(after, latency, **timed) - value(before, latency, **timed) == 3
    # No raw path ever becomes a label.
    assert not any("/no/such" in str(key) for key in after)


async def test_run_and_bus_metrics(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    before = await scrape(client)
    assert (
        await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "m"})
    ).status_code == 200
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("flowdeck_runs_started_total", trigger="api") == 1
    assert grew("flowdeck_runs_finished_total", trigger="api", state="completed") == 1
    # queued, running, completed: three state events, and one end event.
    assert grew("flowdeck_event_bus_published_total", event="state") == 3
    assert grew("flowdeck_event_bus_published_total", event="end") == 1
    assert grew("flowdeck_event_bus_published_total", event="end_vertex") == 2


async def test_gauges_read_the_worker_pool(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, delayed(30))
    jobs = []
    for _ in range(2):
        body = {"flow_id": flow_id, "background": True, "inputs": {}}
        jobs.append((await client.post("/api/v2/workflows", json=body)).json()["job_id"])
    for _ in range(200):
        found = await scrape(client)
        if value(found, "flowdeck_runs_in_flight") == 1:
            break
        await asyncio.sleep(0.02)
    assert value(found, "flowdeck_runs_in_flight") == 1
    assert value(found, "flowdeck_run_queue_depth") == 1
    for job in reversed(jobs):
        resp = await client.post("/api/v2/workflows/stop", json={"job_id": job})
        assert resp.status_code == 200, resp.text
    for _ in range(200):
        found = await scrape(client)
        if value(found, "flowdeck_runs_in_flight") == 0:
            break
        await asyncio.sleep(0.02)
    assert value(found, "flowdeck_runs_in_flight") == 0
    assert value(found, "flowdeck_run_queue_depth") == 0
    cancelled = value(found, "flowdeck_runs_finished_total", trigger="workflow", state="cancelled")
    assert cancelled >= 2
