"""Background runs: webhook submissions (202) of the two-node flow, completed and persisted.

A real `flowdeck serve` on loopback, fresh SQLite data dir. CLIENTS concurrent callers POST
/api/v1/webhook/{flow_id} until RUNS runs are submitted; the bench reads the server's SQLite
file (read-only, as another process would) until every run is in a terminal state. The rate
is runs over the time from the first submission to the last terminal record. The reference
is a bare FastAPI endpoint answering the same 202 JSON (no run, no database), served the same
way: the ceiling of submitting over HTTP on this machine.
Target (issue 3): at least 500 runs/s.
"""

from __future__ import annotations

import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from bench._server import (
    Server,
    flowdeck_server,
    load_client,
    reference_server,
    run_loop,
    setup_flow,
    throughput,
)
from bench._util import header, quick_mode, verdict

TARGET_RUNS_PER_S = 500.0
CLIENTS = 8  # below the SQLite pool's 15 connections: see server_sync.CLIENTS
DRAIN_TIMEOUT = 300.0
TERMINAL = ("completed", "failed", "cancelled")
ACCEPTED = {"message": "Task started in the background", "status": "in progress"}


def reference_app() -> Any:
    """uvicorn factory: a bare webhook endpoint that accepts and does nothing."""
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/webhook/{flow_id}", status_code=202)
    async def webhook(flow_id: str, request: Request) -> dict[str, Any]:
        await request.body()
        return {**ACCEPTED, "run_id": str(uuid.uuid4())}

    return app


def count_runs(db: Path) -> tuple[int, int, int]:
    """(runs, terminal runs, completed runs) in the server's database, read-only."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*), "
            f"sum(state IN ({','.join('?' * len(TERMINAL))})), sum(state = 'completed') "
            "FROM runs",
            TERMINAL,
        ).fetchone()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


async def _submit(server: Server, token: str | None, path: str, runs: int) -> float:
    """Submit `runs` webhook runs; seconds from start to the last 202."""
    async with load_client(server.url, token, connections=CLIENTS) as http:

        async def call() -> Any:
            resp = await http.post(path, json={"input_value": "hello"})
            if resp.status_code != 202:
                raise RuntimeError(f"webhook answered {resp.status_code}: {resp.text[:300]}")
            return resp

        start = time.perf_counter()
        await throughput(call, CLIENTS, runs)
        return time.perf_counter() - start


def _drain(db: Path, expected: int, started: float) -> tuple[float, int]:
    """Poll the database every 5 ms until `expected` runs are terminal: (seconds, completed)."""
    deadline = time.perf_counter() + DRAIN_TIMEOUT
    while time.perf_counter() < deadline:
        total, done, completed = count_runs(db)
        if total >= expected and done >= expected:
            return time.perf_counter() - started, completed
        time.sleep(0.005)
    raise RuntimeError(f"runs still unfinished after {DRAIN_TIMEOUT:g} s: {done} of {expected}")


def embedded(runs: int) -> tuple[float, float, float, int]:
    """The embedded server: (seconds to submit, seconds to all terminal, CPU s/run, completed)."""
    with flowdeck_server() as fd:
        token, flow_id = setup_flow(fd)
        path = f"/api/v1/webhook/{flow_id}"
        assert fd.data_dir is not None
        db = fd.data_dir / "flowdeck.db"
        run_loop(_submit(fd, token, path, 20))  # warm up: connections, the graph cache
        _drain(db, 20, time.perf_counter())
        cpu = fd.cpu()
        started = time.perf_counter()
        submit_s = run_loop(_submit(fd, token, path, runs))
        total_s, completed = _drain(db, runs + 20, started)
        return submit_s, total_s, (fd.cpu() - cpu) / runs, completed


def main(quick: bool | None = None) -> bool:
    """Print the figures and the verdict; True when the target is met."""
    quick = quick_mode(quick)
    runs = 100 if quick else 3000
    header(f"server background runs (webhook 202, {runs} runs, {CLIENTS} clients)")
    submit_s, total_s, cpu, completed = embedded(runs)
    with reference_server("bench.server_background:reference_app") as ref:
        ref_cpu = ref.cpu()
        ref_s = run_loop(_submit(ref, None, "/api/v1/webhook/reference", runs))
        ref_cpu = (ref.cpu() - ref_cpu) / runs
    rate, ref_rate = runs / total_s, runs / ref_s
    print(f"  {'':34} {'runs/s':>8} {'CPU ms/run':>11}")
    print(f"  {'flowdeck: submitted (202s)':34} {runs / submit_s:8.0f}")
    print(f"  {'flowdeck: submitted to terminal':34} {rate:8.0f} {cpu * 1000:11.2f}")
    print(f"  {'bare 202 endpoint (reference)':34} {ref_rate:8.0f} {ref_cpu * 1000:11.2f}")
    print(
        f"  flowdeck / bare: {rate / ref_rate:.2f}x the rate, {cpu / ref_cpu:.1f}x the CPU per run;"
        f" {completed - 20} of {runs} runs completed"
    )
    if completed - 20 != runs:
        print(f"  warning: {runs - completed + 20} run(s) ended failed or cancelled")
    if quick:
        print("  (quick mode: too few runs for the target)")
        return True
    return verdict(
        "runs per second, submit to persisted terminal state",
        rate >= TARGET_RUNS_PER_S,
        f"{rate:.0f} runs/s (target ≥ {TARGET_RUNS_PER_S:g}; {rate / ref_rate:.2f}x the bare "
        f"endpoint's {ref_rate:.0f} req/s)",
    )


if __name__ == "__main__":
    main()  # a missed target prints FAIL; only an error (an exception) exits non-zero
    sys.exit(0)
