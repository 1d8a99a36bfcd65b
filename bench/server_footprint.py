"""Server footprint: time to serve after start, idle memory, and memory over many runs.

`flowdeck serve` on loopback with a fresh SQLite data dir, started as a user does; ready is
the first 200 from /health, timed from the moment the process is spawned. Idle memory is its
resident set 1 s after it is ready. Then RUNS sync runs of the two-node flow (CLIENTS
concurrent callers): resident memory after the first tenth and at the end, the same way.
The reference is a bare FastAPI app served by the same uvicorn with the same options: its
ready time and idle memory, measured in the same run.
Targets (issue 3): ready within 1.5 s; idle at most 120 MB; memory within 10% over 20,000 runs.
"""

from __future__ import annotations

import compileall
import sys
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI

import flowdeck
from bench._server import (
    MB,
    Server,
    flowdeck_server,
    load_client,
    median,
    reference_server,
    run_loop,
    setup_flow,
    throughput,
)
from bench._util import header, quick_mode, verdict

TARGET_READY_S = 1.5
TARGET_IDLE_MB = 120.0
TARGET_GROWTH = 0.10
RUNS = 20_000
CLIENTS = 8  # below the SQLite pool's 15 connections: see server_sync.CLIENTS
SETTLE = 1.0


def reference_app() -> Any:
    """uvicorn factory: an app with one health endpoint."""
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _idle_rss(server: Server) -> int:
    time.sleep(SETTLE)
    return server.rss()


async def _runs(server: Server, token: str, path: str, count: int) -> float:
    async with load_client(server.url, token, connections=CLIENTS) as http:

        async def call() -> Any:
            return await http.post(path, json={"input_value": "hello"})

        return await throughput(call, CLIENTS, count)


def main(quick: bool | None = None) -> bool:
    """Print the figures and the verdicts; True when every target is met."""
    quick = quick_mode(quick)
    starts, runs = (1, 200) if quick else (5, RUNS)
    header(f"server footprint (start {starts}x, memory over {runs} runs)")
    # An installed package has its bytecode; a checkout run with PYTHONDONTWRITEBYTECODE
    # would compile flowdeck at every start (as bench.cli_cold_start does, compile it first).
    compileall.compile_dir(Path(flowdeck.__file__).parent, quiet=2)
    ready, idle, ref_ready, ref_idle = [], [], [], []
    for _ in range(starts):
        with flowdeck_server() as fd:
            ready.append(fd.ready_after)
            idle.append(_idle_rss(fd))
        with reference_server("bench.server_footprint:reference_app") as ref:
            ref_ready.append(ref.ready_after)
            ref_idle.append(_idle_rss(ref))
    with flowdeck_server() as fd:
        token, flow_id = setup_flow(fd)
        path = f"/api/v1/run/{flow_id}"
        first = runs // 10
        rate = run_loop(_runs(fd, token, path, first))
        after_first = fd.rss()
        rate = median([rate, run_loop(_runs(fd, token, path, runs - first))])
        after_all = fd.rss()
    growth = after_all / after_first - 1
    r, rr = median(ready), median(ref_ready)
    m, rm = median(idle) / MB, median(ref_idle) / MB
    print(f"  {'':36} {'flowdeck':>9} {'bare app':>9} {'ratio':>7}")
    print(f"  {'ready after start (s)':36} {r:9.3f} {rr:9.3f} {r / rr:6.2f}x")
    print(f"  {'idle RSS (MB)':36} {m:9.1f} {rm:9.1f} {m / rm:6.2f}x")
    print(f"  RSS after {first:>6} runs: {after_first / MB:7.1f} MB")
    print(
        f"  RSS after {runs:>6} runs: {after_all / MB:7.1f} MB  ({growth:+.1%}; {rate:.0f} runs/s)"
    )
    if quick:
        print("  (quick mode: too few starts and runs for the targets)")
        return True
    ok = verdict(
        "ready after start",
        r <= TARGET_READY_S,
        f"{r:.3f} s (target ≤ {TARGET_READY_S:g} s; bare app {rr:.3f} s, {r / rr:.2f}x)",
    )
    ok &= verdict(
        "idle memory",
        m <= TARGET_IDLE_MB,
        f"{m:.1f} MB RSS (target ≤ {TARGET_IDLE_MB:g} MB; bare app {rm:.1f} MB, {m / rm:.2f}x)",
    )
    ok &= verdict(
        f"memory over {runs} runs",
        growth <= TARGET_GROWTH,
        f"{growth:+.1%} from run {first} to run {runs} (target ≤ +{TARGET_GROWTH:.0%})",
    )
    return ok


if __name__ == "__main__":
    main()  # a missed target prints FAIL; only an error (an exception) exits non-zero
    sys.exit(0)
