"""Distributed mode end to end: two API processes, two Celery workers, PostgreSQL and Redis."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.cluster import Cluster, client, wait_state
from tests.integration.api.flow_docs import chat_graph, edge, node

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(180)]


def delay_graph(seconds: float) -> dict[str, Any]:
    return {
        "nodes": [
            node("in", "ChatInput"),
            node("wait", "Delay", seconds=seconds),
            node("out", "ChatOutput"),
        ],
        "edges": [
            edge("in", "message", "wait", "input_value"),
            edge("wait", "message", "out", "input_value"),
        ],
    }


def two_delays(seconds: float) -> dict[str, Any]:
    return {
        "nodes": [
            node("in", "ChatInput"),
            node("first", "Delay", seconds=seconds),
            node("second", "Delay", seconds=seconds),
            node("out", "ChatOutput"),
        ],
        "edges": [
            edge("in", "message", "first", "input_value"),
            edge("first", "message", "second", "input_value"),
            edge("second", "message", "out", "input_value"),
        ],
    }


def ask_graph() -> dict[str, Any]:
    return {
        "nodes": [
            node("in", "ChatInput"),
            node("ask", "WaitForInput", prompt="Go on?"),
            node("out", "ChatOutput"),
        ],
        "edges": [
            edge("in", "message", "ask", "input_value"),
            edge("ask", "message", "out", "input_value"),
        ],
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster(tmp_path_factory.mktemp("cluster")) as c:
        c.settings = {"FLOWDECK_LEASE_SECONDS": "10"}
        c.start_api("api1")
        c.start_api("api2")
        c.start_worker("w1")
        c.start_worker("w2")
        yield c


@pytest.fixture(scope="module")
def api1(cluster: Cluster) -> Iterator[httpx.Client]:
    with client(cluster.url("api1")) as http:
        yield http


@pytest.fixture(scope="module")
def api2(cluster: Cluster) -> Iterator[httpx.Client]:
    with client(cluster.url("api2")) as http:
        yield http


def make_flow(http: httpx.Client, name: str, data: dict[str, Any]) -> str:
    resp = http.post("/api/v1/flows/", json={"name": name, "data": data})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def submit(http: httpx.Client, flow_id: str, text: str = "hi") -> str:
    resp = http.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": text}})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["job_id"])


def stream_events(http: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    with http.stream("GET", f"/api/v1/build/{job_id}/events") as resp:
        assert resp.status_code == 200
        return [json.loads(line) for line in resp.iter_lines() if line.strip()]


def test_runs_execute_on_workers_and_stream_from_the_other_api(
    api1: httpx.Client, api2: httpx.Client
) -> None:
    flow_id = make_flow(api1, "chat", chat_graph())
    jobs = [submit(api1, flow_id, f"n{i}") for i in range(30)]
    with ThreadPoolExecutor(8) as pool:
        streams = list(pool.map(lambda job: stream_events(api2, job), jobs))
    workers = set()
    for i, (job, events) in enumerate(zip(jobs, streams, strict=True)):
        names = [e["event"] for e in events]
        assert names[-1] == "end", names
        assert "vertices_sorted" in names
        assert names.count("end_vertex") == 3
        run = api2.get(f"/api/v1/runs/{job}").json()
        assert run["state"] == "completed"
        assert run["attempts"] == 1
        assert run["outputs"]["outputs"][0]["outputs"][0]["results"]["message"]["text"] == (
            f"Hello, n{i}"
        )
        assert [s["state"] for s in run["steps"]] == ["completed"] * 3
        workers.add(run["worker"])
    assert workers <= {"w1", "w2"}
    assert workers


def test_polling_with_cursors_alternating_between_apis_has_no_gaps(
    api1: httpx.Client, api2: httpx.Client
) -> None:
    flow_id = make_flow(api1, "slow-poll", two_delays(0.2))
    job = submit(api2, flow_id)
    cursor, seen, names = 0, [], []
    for turn in range(200):
        http = (api1, api2)[turn % 2]
        resp = http.get(
            f"/api/v1/build/{job}/events",
            # Every event (flowdeck's own too), so each cursor step is one line.
            params={"event_delivery": "polling", "cursor": cursor, "flowdeck_events": "true"},
        )
        assert resp.status_code == 200
        lines = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
        names += [e["event"] for e in lines]
        new_cursor = int(resp.headers["X-Flowdeck-Cursor"])
        seen += list(range(cursor + 1, new_cursor + 1))
        assert new_cursor - cursor == len(lines)
        cursor = new_cursor
        if names and names[-1] in ("end", "error"):
            break
    assert names[-1] == "end"
    assert seen == list(range(1, cursor + 1))


def test_cancel_from_the_other_api_reaches_the_worker_fast(
    api1: httpx.Client, api2: httpx.Client
) -> None:
    flow_id = make_flow(api1, "long", delay_graph(20))
    job = submit(api1, flow_id)
    assert wait_state(api2, job, {"running"})["state"] == "running"
    time.sleep(0.2)  # the Delay step is under way
    started = time.monotonic()
    resp = api2.post(f"/api/v1/runs/{job}/cancel")
    assert resp.status_code == 200, resp.text
    run = wait_state(api2, job, {"cancelled", "failed", "completed"}, timeout=10)
    elapsed = time.monotonic() - started
    assert run["state"] == "cancelled", run
    assert elapsed < 1.0, elapsed
    events = stream_events(api1, job)
    assert events[-1]["event"] == "error"


def test_pause_and_resume_from_the_other_api(api1: httpx.Client, api2: httpx.Client) -> None:
    flow_id = make_flow(api1, "pausable", two_delays(0.6))
    job = submit(api1, flow_id)
    assert wait_state(api2, job, {"running"})["state"] == "running"
    assert api2.post(f"/api/v1/runs/{job}/pause").status_code == 200
    time.sleep(1.5)  # the first delay ends; the second must not start while paused
    run = api1.get(f"/api/v1/runs/{job}").json()
    assert run["state"] == "paused"
    assert api1.post(f"/api/v1/runs/{job}/resume").status_code == 200
    run = wait_state(api2, job, {"completed", "failed", "cancelled"})
    assert run["state"] == "completed", run
    names = [e["event"] for e in stream_events(api2, job)]
    assert names.count("end_vertex") == 4


def test_answer_a_waiting_step_from_the_other_api(api1: httpx.Client, api2: httpx.Client) -> None:
    flow_id = make_flow(api1, "ask", ask_graph())
    job = submit(api1, flow_id)
    assert wait_state(api2, job, {"waiting"})["state"] == "waiting"
    resp = api2.post(f"/api/v1/runs/{job}/answer", json={"value": "yes, go"})
    assert resp.status_code == 200, resp.text
    run = wait_state(api1, job, {"completed", "failed", "cancelled"})
    assert run["state"] == "completed", run
    assert run["reviewed_at"] is not None
    text = run["outputs"]["outputs"][0]["outputs"][0]["results"]["message"]["text"]
    assert text == "yes, go"


def test_pause_a_waiting_run_from_the_other_api(api1: httpx.Client, api2: httpx.Client) -> None:
    flow_id = make_flow(api1, "ask-pause", ask_graph())
    job = submit(api1, flow_id)
    assert wait_state(api2, job, {"waiting"})["state"] == "waiting"
    paused = api2.post(f"/api/v1/runs/{job}/pause").json()
    assert (paused["state"], paused["waiting_on"]) == ("paused", "ask")
    assert api1.post(f"/api/v1/runs/{job}/answer", json={"value": "x"}).status_code == 409
    assert api1.post(f"/api/v1/runs/{job}/resume").json()["state"] == "waiting"
    assert api2.post(f"/api/v1/runs/{job}/answer", json={"value": "on"}).status_code == 200
    run = wait_state(api1, job, {"completed", "failed", "cancelled"})
    assert run["state"] == "completed", run
    assert run["outputs"]["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "on"


def test_sync_run_on_one_api_while_another_serves(api1: httpx.Client, api2: httpx.Client) -> None:
    flow_id = make_flow(api2, "sync", chat_graph("Hey"))
    resp = api1.post(f"/api/v1/run/{flow_id}", json={"input_value": "there"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Hey, there"


def test_soft_stop_of_a_worker_finishes_its_runs(cluster: Cluster, tmp_path: Path) -> None:
    with client(cluster.url("api1")) as http:
        flow_id = make_flow(http, "soft", delay_graph(1.0))
        cluster.start_worker("w3", 8)
        jobs = [submit(http, flow_id) for _ in range(24)]
        time.sleep(0.3)
        cluster.kill("w3", 15)  # SIGTERM: a soft stop
        runs = [wait_state(http, job, {"completed", "failed", "cancelled"}) for job in jobs]
    assert [r["state"] for r in runs] == ["completed"] * len(runs)
    assert all(r["attempts"] == 1 for r in runs if r["worker"] == "w3")


def test_hard_stop_of_a_worker_hands_its_runs_to_another(cluster: Cluster) -> None:
    with client(cluster.url("api2")) as http:
        flow_id = make_flow(http, "hard", delay_graph(4.0))
        cluster.start_worker("w4", 8, "--shutdown", "hard")
        jobs = [submit(http, flow_id) for _ in range(48)]
        on_w4: list[str] = []
        deadline = time.monotonic() + 10
        while not on_w4 and time.monotonic() < deadline:
            listed = http.get("/api/v1/runs/", params={"limit": 200}).json()
            on_w4 = [r["id"] for r in listed if r["worker"] == "w4" and r["state"] == "running"]
        assert on_w4
        cluster.kill("w4", 15)  # SIGTERM, but this worker was told to stop hard
        runs = {job: wait_state(http, job, {"completed", "failed", "cancelled"}) for job in jobs}
    assert [r["state"] for r in runs.values()] == ["completed"] * len(runs)
    for run_id in on_w4:
        assert runs[run_id]["worker"] != "w4"
        assert runs[run_id]["attempts"] == 2


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_serve_with_several_api_processes(cluster: Cluster) -> None:
    url = cluster.start_api("api3", "--workers", "2")
    with client(url) as http:
        flow_id = make_flow(http, "multi", chat_graph("Hi"))
        for i in range(6):
            resp = http.post(f"/api/v1/run/{flow_id}", json={"input_value": f"p{i}"})
            assert resp.status_code == 200, resp.text
            text = resp.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"]
            assert text == f"Hi, p{i}"
    # uvicorn's supervisor holds two API processes (plus its own helpers).
    assert len(_children(cluster.procs["api3"].pid)) >= 2
