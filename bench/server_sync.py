"""Sync runs over HTTP: POST /api/v1/run/{flow_id} on a two-node flow (ChatInput -> ChatOutput).

A real `flowdeck serve` on loopback with a fresh SQLite data dir; the flow is created through
the API. Latency is one request at a time on a keep-alive connection; throughput is CLIENTS
concurrent callers on one httpx AsyncClient. The reference is a bare FastAPI endpoint at the
same path returning the same JSON (the body of a real flowdeck answer), served by the same
uvicorn with the same options, measured in the same rounds (the two servers alternate).
Targets (issue 3): p50 latency at most 3 ms; throughput at least 35% of the reference's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
from fastapi import Body, FastAPI
from fastapi.responses import Response

from bench._server import (
    Server,
    flowdeck_server,
    load_client,
    median,
    pct,
    reference_server,
    run_loop,
    sequential_latencies,
    setup_flow,
    throughput,
)
from bench._util import header, quick_mode, verdict

TARGET_P50_MS = 3.0
TARGET_THROUGHPUT_RATIO = 0.35
# Each sync request holds a database connection until its run ends, and the SQLite pool has
# 15 (5 + 10 overflow): from ~15 concurrent sync runs on, requests and the worker wait on the
# pool until its 30 s timeout (see the bench report). 8 clients saturate one server process.
CLIENTS = 8
BODY_ENV = "BENCH_REFERENCE_BODY"


def reference_app() -> Any:
    """uvicorn factory: the bare endpoint, answering with the JSON stored in BODY_ENV's file."""
    answer = orjson.loads(Path(os.environ[BODY_ENV]).read_bytes())
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/run/{flow_id}")
    async def run(flow_id: str, body: dict[str, Any] = Body(...)) -> Response:
        return Response(orjson.dumps(answer), media_type="application/json")

    return app


async def _measure(
    server: Server, token: str | None, path: str, latency_n: int, total: int
) -> tuple[list[float], float, float]:
    """Sequential latencies, concurrent throughput, and the server's CPU seconds per request."""
    async with load_client(server.url, token, connections=CLIENTS) as http:

        async def call() -> Any:
            return await http.post(path, json={"input_value": "hello"})

        await sequential_latencies(call, 20)  # warm up connections, caches, the graph cache
        lat = await sequential_latencies(call, latency_n)
        cpu = server.cpu()
        rate = await throughput(call, CLIENTS, total)
        cpu = (server.cpu() - cpu) / total
    return lat, rate, cpu


def main(quick: bool | None = None) -> bool:
    """Print the figures and verdicts; True when both targets are met."""
    quick = quick_mode(quick)
    rounds, latency_n, total = (1, 20, 100) if quick else (3, 300, 1500)
    header(f"server sync runs over HTTP (two-node flow, {CLIENTS} clients for throughput)")
    samples: dict[str, tuple[list[float], list[float], list[float]]] = {
        "flowdeck": ([], [], []),
        "bare": ([], [], []),
    }
    with flowdeck_server() as fd, tempfile.TemporaryDirectory() as tmp:
        token, flow_id = setup_flow(fd)
        path = f"/api/v1/run/{flow_id}"

        async def first() -> bytes:
            async with load_client(fd.url, token) as http:
                resp = await http.post(path, json={"input_value": "hello"})
                resp.raise_for_status()
                return resp.content

        body_file = Path(tmp) / "answer.json"
        body_file.write_bytes(run_loop(first()))
        with reference_server(
            "bench.server_sync:reference_app", **{BODY_ENV: str(body_file)}
        ) as ref:
            for _ in range(rounds):
                for name, server, tok in (("flowdeck", fd, token), ("bare", ref, None)):
                    lat, rate, cpu = run_loop(_measure(server, tok, path, latency_n, total))
                    samples[name][0].extend(lat)
                    samples[name][1].append(rate)
                    samples[name][2].append(cpu)
    print(
        f"  {'server':10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'req/s':>8} {'CPU ms/req':>11}"
        f"   ({rounds} rounds: {latency_n} sequential + {total} concurrent requests each)"
    )
    figures = {}
    for name, (lat, rates, cpus) in samples.items():
        p50, rate, cpu = pct(lat, 0.5) * 1000, median(rates), median(cpus) * 1000
        figures[name] = (p50, rate, cpu)
        print(
            f"  {name:10} {p50:8.2f} {pct(lat, 0.9) * 1000:8.2f} {pct(lat, 0.99) * 1000:8.2f}"
            f" {rate:8.0f} {cpu:11.2f}"
        )
    (p50, rate, cpu), (ref_p50, ref_rate, ref_cpu) = figures["flowdeck"], figures["bare"]
    print(
        f"  flowdeck / bare FastAPI: latency {p50 / ref_p50:.1f}x, "
        f"throughput {rate / ref_rate:.2f}x, server CPU per request {cpu / ref_cpu:.1f}x"
    )
    if quick:
        print("  (quick mode: too few requests for the targets)")
        return True
    ok = verdict(
        "p50 latency",
        p50 <= TARGET_P50_MS,
        f"{p50:.2f} ms (target ≤ {TARGET_P50_MS:g} ms; bare endpoint {ref_p50:.2f} ms)",
    )
    ok &= verdict(
        "throughput against the bare endpoint",
        rate / ref_rate >= TARGET_THROUGHPUT_RATIO,
        f"{rate / ref_rate:.2f}x = {rate:.0f} vs {ref_rate:.0f} req/s "
        f"(target ≥ {TARGET_THROUGHPUT_RATIO:g}x)",
    )
    return ok


if __name__ == "__main__":
    main()  # a missed target prints FAIL; only an error (an exception) exits non-zero
    sys.exit(0)
