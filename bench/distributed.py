"""Distributed mode: background runs through two API processes and two Celery workers.

PostgreSQL and Redis on 127.0.0.1 (a database and key prefix of its own, removed at the end).
Submissions (webhook 202s) alternate between the two API processes; the rate is runs over the
time from the first submission until every run is terminal in PostgreSQL, measured in three
rounds on one cluster; the verdict takes the median round. The embedded mode's figure
(`bench.server_background`, SQLite) is measured in the same run and printed beside it.

Event latency: runs of a flow with a short Delay are submitted to one API process while a
client streams their events from the other; for each `state` event the worker stamped
(running, completed) the latency is the client's receive time minus that stamp.
Targets (issue 4): at least 300 runs/s; event latency p50 at most 10 ms.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from tests.e2e.cluster import PASSWORD, PG_ADMIN_URL, Cluster

from bench._server import (
    ECHO,
    Answer,
    client,
    delay_flow,
    load_client,
    median,
    pct,
    run_loop,
    throughput,
)
from bench._util import header, quick_mode, verdict
from bench.server_background import CLIENTS, embedded

TARGET_RUNS_PER_S = 300.0
TARGET_LATENCY_MS = 10.0
WORKER_CONCURRENCY = 64
DELAYED = delay_flow(0.05)


def _login(url: str) -> str:
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
        resp = http.post("/api/v1/login", data={"username": "admin", "password": PASSWORD})
        token: str = resp.raise_for_status().json()["access_token"]
        return token


def _flow(url: str, token: str, data: dict[str, Any], name: str) -> str:
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
        http.headers["authorization"] = f"Bearer {token}"
        resp = http.post("/api/v1/flows/", json={"name": name, "data": data})
        flow_id: str = resp.raise_for_status().json()["id"]
        return flow_id


_UNFINISHED = "SELECT count(*) FROM runs WHERE state IN ('queued', 'running', 'paused', 'waiting')"
_TERMINAL = "SELECT count(*) FROM runs WHERE state IN ('completed', 'failed', 'cancelled')"


async def _connect(database: str) -> asyncpg.Connection:
    return await asyncpg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database)


async def _background(
    urls: list[str], token: str, flow_id: str, runs: int, db: str
) -> tuple[float, float]:
    """Submit `runs` webhook runs across the API processes: (seconds to submit, to terminal).

    One connection polls how many runs are unfinished (an index scan over those alone), so
    the measuring costs the database little, however many runs earlier rounds left.
    """
    conn = await _connect(db)
    before = int(await conn.fetchval(_TERMINAL))
    clients = [load_client(url, token, connections=CLIENTS) for url in urls]
    turn = 0

    async def call() -> Answer:
        nonlocal turn
        turn += 1
        http = clients[turn % len(clients)]
        resp = await http.post(f"/api/v1/webhook/{flow_id}", json={"input_value": "hello"})
        if resp.status_code != 202:
            raise RuntimeError(f"webhook answered {resp.status_code}: {resp.text[:300]}")
        return resp

    started = time.perf_counter()
    await throughput(call, CLIENTS * len(clients), runs)
    submitted = time.perf_counter() - started
    while await conn.fetchval(_UNFINISHED):
        if time.perf_counter() - started > 300:
            raise RuntimeError("runs still unfinished after 300 s")
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    finished = int(await conn.fetchval(_TERMINAL)) - before
    await conn.close()
    if finished != runs:
        raise RuntimeError(f"{finished} runs finished, {runs} were submitted")
    for http in clients:
        await http.aclose()
    return submitted, elapsed


async def _latencies(
    submit_url: str, watch_url: str, token: str, flow_id: str, n: int
) -> list[float]:
    """Milliseconds from a worker's `state` event to a client of the other API process."""
    samples: list[float] = []
    async with client(submit_url, token) as submit, client(watch_url, token) as watch:
        for _ in range(n):
            resp = await submit.post(
                f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "x"}}
            )
            job = resp.raise_for_status().json()["job_id"]
            opened = time.time()
            # flowdeck's own `state` events come with the opt-in on Langflow's route.
            events = f"/api/v1/build/{job}/events?flowdeck_events=true"
            async with watch.stream("GET", events) as stream:
                async for line in stream.aiter_lines():
                    if not line.strip():
                        continue
                    received = time.time()
                    event = orjson.loads(line)
                    data = event.get("data") or {}
                    if event["event"] == "state" and data.get("state") in ("running", "completed"):
                        stamped = datetime.fromisoformat(data["timestamp"]).timestamp()
                        if stamped > opened:  # published while we listened, not replayed
                            samples.append((received - stamped) * 1000)
    return samples


def distributed(runs: int, rounds: int, latency_runs: int) -> tuple[list[float], list[float]]:
    """Runs per second, submitted to terminal, of each round; event latencies (ms)."""
    with (
        tempfile.TemporaryDirectory(prefix="flowdeck-bench-dist-") as tmp,
        Cluster(Path(tmp)) as cluster,
    ):
        cluster.settings = {"FLOWDECK_LOG_LEVEL": "warning"}
        urls = [cluster.start_api("api1"), cluster.start_api("api2")]
        cluster.settings = {}
        cluster.start_worker("w1", WORKER_CONCURRENCY)
        cluster.start_worker("w2", WORKER_CONCURRENCY)
        token = _login(urls[0])
        echo = _flow(urls[0], token, ECHO, "echo")
        delayed = _flow(urls[0], token, DELAYED, "delayed")
        run_loop(_background(urls, token, echo, 50, cluster.database))  # warm up
        rates = []
        for _ in range(rounds):
            _, seconds = run_loop(_background(urls, token, echo, runs, cluster.database))
            rates.append(runs / seconds)
        samples = run_loop(_latencies(urls[0], urls[1], token, delayed, latency_runs))
    return rates, samples


def main(quick: bool | None = None) -> bool:
    quick = quick_mode(quick)
    runs, rounds = (200, 1) if quick else (3000, 3)
    header(
        f"distributed mode: 2 API processes, 2 workers, PostgreSQL + Redis ({rounds} x {runs} runs)"
    )
    rates, samples = distributed(runs, rounds, 10 if quick else 100)
    _, embedded_s, _, _ = embedded(runs)
    embedded_rate = runs / embedded_s
    # The median round: this machine's speed moves by about 15% from one run to the next.
    rate = median(rates)
    p50, p90 = pct(samples, 0.5), pct(samples, 0.9)
    each = ", ".join(f"{r:.0f}" for r in rates)
    print(f"  {'':44} {'runs/s':>8}")
    print(f"  {'distributed: submitted to terminal, median':44} {rate:8.0f}   (rounds: {each})")
    print(f"  {'embedded (one process, SQLite), same run':44} {embedded_rate:8.0f}")
    print(f"  distributed / embedded: {rate / embedded_rate:.2f}x")
    print(f"  event latency worker -> other API's client: p50 {p50:.2f} ms, p90 {p90:.2f} ms")
    if quick:
        print("  (quick mode: too few runs for the targets)")
        return True
    ok_rate = verdict(
        "distributed background runs per second (median of the rounds)",
        rate >= TARGET_RUNS_PER_S,
        f"{rate:.0f} runs/s (target ≥ {TARGET_RUNS_PER_S:g}; embedded {embedded_rate:.0f})",
    )
    ok_latency = verdict(
        "event latency p50, worker to a client of another API process",
        p50 <= TARGET_LATENCY_MS,
        f"{p50:.2f} ms (target ≤ {TARGET_LATENCY_MS:g} ms)",
    )
    return ok_rate and ok_latency


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
