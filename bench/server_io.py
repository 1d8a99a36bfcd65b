"""Concurrent runs that wait on I/O: 32 runs of ChatInput -> Delay(1 s) -> ChatOutput.

A real `flowdeck serve` on loopback, fresh SQLite data dir. The 32 runs are submitted at
once through the webhook (CLIENTS connections, each 202 comes back in milliseconds) and the
bench reads the server's SQLite file until all 32 are terminal: the figure is the time from
the first submission to the last terminal record. The reference is a bare FastAPI endpoint
that sleeps 1 s, called 32 times at once over 32 connections, served the same way.
Target (issue 3): all 32 runs finish within 1.5 s.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from fastapi import FastAPI

from bench._server import (
    delay_flow,
    flowdeck_server,
    load_client,
    median,
    reference_server,
    run_loop,
    setup_flow,
)
from bench._util import header, quick_mode, verdict
from bench.server_background import count_runs

TARGET_SECONDS = 1.5
RUNS = 32
DELAY = 1.0
CLIENTS = 8  # below the SQLite pool's 15 connections: see server_sync.CLIENTS
DRAIN_TIMEOUT = 60.0

DELAYED = delay_flow(DELAY)


def reference_app() -> Any:
    """uvicorn factory: an endpoint whose one step waits DELAY seconds."""
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/run")
    async def run() -> dict[str, str]:
        await asyncio.sleep(DELAY)
        return {"status": "completed"}

    return app


async def _flowdeck_round(url: str, token: str, path: str) -> float:
    """Submit RUNS webhook runs at once; seconds until the last 202 (drained by the caller)."""
    async with load_client(url, token, connections=CLIENTS) as http:
        sem = asyncio.Semaphore(CLIENTS)

        async def submit() -> None:
            async with sem:
                resp = await http.post(path, json={"input_value": "hello"})
            if resp.status_code != 202:
                raise RuntimeError(f"webhook answered {resp.status_code}: {resp.text[:300]}")

        start = time.perf_counter()
        await asyncio.gather(*(submit() for _ in range(RUNS)))
        return time.perf_counter() - start


async def _reference_round(url: str) -> float:
    async with load_client(url, connections=RUNS) as http:
        start = time.perf_counter()
        answers = await asyncio.gather(*(http.post("/run") for _ in range(RUNS)))
        elapsed = time.perf_counter() - start
    if any(a.status_code != 200 for a in answers):
        raise RuntimeError("the reference endpoint failed")
    return elapsed


def main(quick: bool | None = None) -> bool:
    """Print the figures and the verdict; True when the target is met."""
    quick = quick_mode(quick)
    rounds = 1 if quick else 5
    header(f"server I/O concurrency ({RUNS} concurrent runs waiting {DELAY:g} s each)")
    times, submits, ref_times = [], [], []
    with flowdeck_server() as fd:
        token, flow_id = setup_flow(fd, DELAYED, name="delayed")
        path = f"/api/v1/webhook/{flow_id}"
        assert fd.data_dir is not None
        db = fd.data_dir / "flowdeck.db"
        with reference_server("bench.server_io:reference_app") as ref:
            for i in range(rounds):
                start = time.perf_counter()
                submits.append(run_loop(_flowdeck_round(fd.url, token, path)))
                deadline = start + DRAIN_TIMEOUT
                while count_runs(db)[1] < RUNS * (i + 1):
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"runs unfinished after {DRAIN_TIMEOUT:g} s")
                    time.sleep(0.005)
                times.append(time.perf_counter() - start)
                ref_times.append(run_loop(_reference_round(ref.url)))
        completed = count_runs(db)[2]
    elapsed, ref_elapsed = median(times), median(ref_times)
    print(f"  {'':44} {'seconds':>8}   (median of {rounds} rounds)")
    print(f"  {'flowdeck: submitting all (32 x 202)':44} {median(submits):8.3f}")
    print(f"  {'flowdeck: first submission to all terminal':44} {elapsed:8.3f}")
    print(f"  {'bare endpoint sleeping 1 s, 32 at once':44} {ref_elapsed:8.3f}")
    print(
        f"  flowdeck / bare: {elapsed / ref_elapsed:.2f}x; "
        f"{completed} of {RUNS * rounds} runs completed"
    )
    if quick:
        print("  (quick mode: one round only; target not checked)")
        return True
    return verdict(
        f"{RUNS} concurrent 1 s runs, all finished",
        elapsed <= TARGET_SECONDS,
        f"{elapsed:.3f} s (target ≤ {TARGET_SECONDS:g} s; bare endpoint {ref_elapsed:.3f} s)",
    )


if __name__ == "__main__":
    main()  # a missed target prints FAIL; only an error (an exception) exits non-zero
    sys.exit(0)
