"""Soak: minutes of mixed load on one embedded server, with no 5xx, flat memory, steady p99.

`python -m bench.soak [--seconds 600] [--rate 50] [--clients 8] [--s3-endpoint URL]` (not
part of `make bench`: it takes ten minutes by default; `--s3-endpoint` keeps the uploads in an
S3-compatible store instead of the local disk). A real `flowdeck serve` on loopback, fresh
SQLite data dir.
CLIENTS callers share a paced schedule of RATE operations per second, cycling through a fixed
shuffled mix: sync runs, streamed runs (ndjson), background (webhook) runs, builds whose
event stream is read to its end, builds of a slow flow cancelled at once, and uploads that
are downloaded, checked byte for byte, and deleted (so stored data does not grow).
Every answer is checked (status and content); the server's resident memory is sampled every
second. The in-memory event bus keeps events for FLOWDECK_EVENT_RETENTION_SECONDS; the soak
sets it to half the warm-up, so memory reaches its steady state before it is compared.
Targets: zero 5xx and no failed operation; every run reaches a terminal state; resident memory
at the end within 10% of that after the warm-up (the first fifth); the p99 latency of the last
window at most 1.5x (+5 ms) that of the first window after the warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench._server import (
    ECHO,
    MB,
    LoadClient,
    Server,
    delay_flow,
    flowdeck_server,
    load_client,
    pct,
    run_loop,
    setup_flow,
)
from bench._util import header, verdict
from bench.server_background import count_runs

TARGET_GROWTH = 0.10
TARGET_P99_RATIO = 1.5
P99_SLACK = 0.005
WARMUP = 0.2  # of the duration
DRAIN_TIMEOUT = 60.0
UPLOAD = os.urandom(256 * 1024)
SLOW = delay_flow(5.0)  # cancelled long before it ends
WEIGHTS = {"sync": 4, "background": 2, "stream": 1, "build": 1, "cancel": 1, "upload": 1}


class Failed(Exception):
    """An answer that is not what the operation expects."""


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str
    at: float  # seconds since the load began
    seconds: float
    status: int  # 0: no HTTP answer, or a wrong one (see `Soak.failures`)


@dataclass
class Soak:
    http: LoadClient
    echo: str
    slow: str
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def ops(self) -> dict[str, Callable[[], Awaitable[int]]]:
        return {
            "sync": self.sync_run,
            "background": self.background_run,
            "stream": self.streamed_run,
            "build": self.build,
            "cancel": self.cancelled_build,
            "upload": self.upload,
        }

    async def sync_run(self) -> int:
        resp = await self.http.post(f"/api/v1/run/{self.echo}", json={"input_value": "soak"})
        _expect(resp.status_code == 200 and b"soak" in resp.content, resp.status_code, resp.text)
        return resp.status_code

    async def background_run(self) -> int:
        resp = await self.http.post(f"/api/v1/webhook/{self.echo}", json={"input_value": "bg"})
        _expect(resp.status_code == 202, resp.status_code, resp.text)
        return resp.status_code

    async def streamed_run(self) -> int:
        path = f"/api/v1/run/{self.echo}?stream=true"
        resp = await self.http.post(path, json={"input_value": "stream"})
        _expect(resp.status_code == 200 and "end" in _events(resp.content), 200, resp.text)
        return resp.status_code

    async def build(self) -> int:
        job = await self._start_build(self.echo)
        resp = await self.http.get(f"/api/v1/build/{job}/events")
        _expect(resp.status_code == 200 and "end" in _events(resp.content), 200, resp.text)
        return resp.status_code

    async def cancelled_build(self) -> int:
        job = await self._start_build(self.slow)
        resp = await self.http.post(f"/api/v1/build/{job}/cancel")
        _expect(resp.status_code == 200 and resp.json()["success"], resp.status_code, resp.text)
        return resp.status_code

    async def upload(self) -> int:
        name = f"soak-{uuid.uuid4().hex[:8]}.bin"
        resp = await self.http.upload(f"/api/v1/files/upload/{self.echo}", name, UPLOAD)
        _expect(resp.status_code == 201, resp.status_code, resp.text)
        stored = resp.json()["file_path"].split("/", 1)[1]
        got = await self.http.get(f"/api/v1/files/download/{self.echo}/{stored}")
        _expect(got.status_code == 200 and got.content == UPLOAD, got.status_code, "download")
        gone = await self.http.delete(f"/api/v1/files/delete/{self.echo}/{stored}")
        _expect(gone.status_code == 200, gone.status_code, gone.text)
        return gone.status_code

    async def _start_build(self, flow_id: str) -> str:
        body = {"inputs": {"input_value": "build"}}
        resp = await self.http.post(f"/api/v1/build/{flow_id}/flow", json=body)
        _expect(resp.status_code == 200, resp.status_code, resp.text)
        job: str = resp.json()["job_id"]
        return job


def _expect(ok: bool, status: int, detail: str) -> None:
    if not ok:
        raise Failed(f"{status}: {detail[:200]}")


def _events(content: bytes) -> list[str]:
    return [orjson.loads(line)["event"] for line in content.splitlines() if line.strip()]


def _mix() -> list[str]:
    """The order operations cycle through: every kind spread over the cycle, fixed by seed."""
    kinds = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
    random.Random(7).shuffle(kinds)
    return kinds


async def load(
    server: Server, token: str, flows: tuple[str, str], seconds: float, rate: float, clients: int
) -> tuple[Soak, list[tuple[float, int]]]:
    """Run the paced mix for `seconds`: the soak's samples, and (time, RSS) every second."""
    rss: list[tuple[float, int]] = []
    mix = _mix()
    async with load_client(server.url, token, connections=clients) as http:
        soak = Soak(http, *flows)
        ops = soak.ops()
        start = time.perf_counter()
        next_index = 0

        async def sampler() -> None:
            while (now := time.perf_counter() - start) < seconds:
                rss.append((now, server.rss()))
                await asyncio.sleep(1.0)

        async def caller() -> None:
            nonlocal next_index
            while True:
                index, next_index = next_index, next_index + 1
                due = index / rate
                if due >= seconds:
                    return
                await asyncio.sleep(max(0.0, due - (time.perf_counter() - start)))
                kind = mix[index % len(mix)]
                began = time.perf_counter()
                try:
                    status = await ops[kind]()
                except Exception as exc:  # a failed operation is a figure, not the end
                    status = getattr(exc, "status", 0)
                    soak.failures.append(f"{kind}: {exc!r}"[:300])
                took = time.perf_counter() - began
                soak.samples.append(Sample(kind, began - start, took, status))

        await asyncio.gather(sampler(), *(caller() for _ in range(clients)))
    return soak, rss


def drain(db: Path) -> tuple[int, int]:
    """Wait until every run is terminal: (runs, runs not terminal at the deadline)."""
    deadline = time.perf_counter() + DRAIN_TIMEOUT
    while True:
        total, done, _ = count_runs(db)
        if done >= total or time.perf_counter() > deadline:
            return total, total - done
        time.sleep(0.1)


def _rss_near(rss: list[tuple[float, int]], at: float) -> float:
    near = [value for when, value in rss if abs(when - at) <= 2.5] or [rss[0][1]]
    return statistics.median(near)


def report(soak: Soak, rss: list[tuple[float, int]], seconds: float, runs: tuple[int, int]) -> bool:
    samples = soak.samples
    warm = seconds * WARMUP
    window = max(5.0, (seconds - warm) * 0.15)
    print(f"  {'operation':12} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} {'bad':>5}")
    for kind in WEIGHTS:
        times = [s.seconds for s in samples if s.kind == kind]
        bad = sum(1 for s in samples if s.kind == kind and s.status in (0, *range(400, 600)))
        print(
            f"  {kind:12} {len(times):7} {len(times) / seconds:7.1f} "
            f"{pct(times, 0.5) * 1000:8.1f} {pct(times, 0.99) * 1000:8.1f} {bad:5}"
        )
    statuses = Counter(s.status for s in samples)
    print(f"  statuses: {dict(sorted(statuses.items()))}")
    for failure in soak.failures[:5]:
        print(f"  failed: {failure}")
    first = [s.seconds for s in samples if warm <= s.at < warm + window]
    last = [s.seconds for s in samples if s.at >= seconds - window]
    p99_first, p99_last = pct(first, 0.99), pct(last, 0.99)
    rss_warm, rss_end = _rss_near(rss, warm), statistics.median(v for _, v in rss[-5:])
    growth = rss_end / rss_warm - 1
    print(
        f"  RSS: {rss[0][1] / MB:.1f} MB at start, {rss_warm / MB:.1f} MB after the warm-up "
        f"({warm:.0f} s), {rss_end / MB:.1f} MB at the end, {max(v for _, v in rss) / MB:.1f} "
        "MB at most"
    )
    print(
        f"  p99 over all operations: {p99_first * 1000:.1f} ms in the first {window:.0f} s "
        f"window after the warm-up, {p99_last * 1000:.1f} ms in the last"
    )
    for kind in WEIGHTS:  # which operations a change of the overall p99 comes from
        early = [s.seconds for s in samples if s.kind == kind and warm <= s.at < warm + window]
        late = [s.seconds for s in samples if s.kind == kind and s.at >= seconds - window]
        if early and late:
            print(
                f"    {kind:12} p99 {pct(early, 0.99) * 1000:6.1f} ms first, "
                f"{pct(late, 0.99) * 1000:6.1f} ms last"
            )
    errors_5xx = sum(n for status, n in statuses.items() if status >= 500)
    results = [
        verdict("no 5xx", errors_5xx == 0, f"{errors_5xx} of {len(samples)} answers"),
        verdict(
            "every operation answered as expected",
            not soak.failures,
            f"{len(soak.failures)} failed of {len(samples)}",
        ),
        verdict(
            "every run reached a terminal state",
            runs[1] == 0,
            f"{runs[1]} of {runs[0]} runs unfinished {DRAIN_TIMEOUT:g} s after the load",
        ),
        verdict(
            "memory flat after the warm-up",
            growth <= TARGET_GROWTH,
            f"{growth * 100:+.1f}% (target ≤ +{TARGET_GROWTH * 100:g}%)",
        ),
        verdict(
            "p99 steady (last window vs first)",
            p99_last <= p99_first * TARGET_P99_RATIO + P99_SLACK,
            f"{p99_last / p99_first:.2f}x (target ≤ {TARGET_P99_RATIO:g}x"
            f" + {P99_SLACK * 1000:g} ms)",
        ),
    ]
    return all(results)


def main(
    seconds: float = 600.0, rate: float = 50.0, clients: int = 8, s3_endpoint: str = ""
) -> bool:
    """Print the figures and a verdict per target; True when every target is met."""
    where = f"S3 at {s3_endpoint}" if s3_endpoint else "local disk"
    header(
        f"soak: {seconds:g} s of mixed load at {rate:g} operations/s, {clients} clients; "
        f"uploads on {where}"
    )
    settings = {"event_retention_seconds": str(max(10, round(seconds * WARMUP / 2)))}
    if s3_endpoint:
        # Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as for botocore.
        bucket = f"flowdeck-soak-{uuid.uuid4().hex[:8]}"
        settings.update(storage="s3", s3_bucket=bucket, s3_endpoint_url=s3_endpoint)
    with flowdeck_server(**settings) as fd:
        token, echo = setup_flow(fd, ECHO, name="echo")
        _, slow = setup_flow(fd, SLOW, name="slow")
        soak, rss = run_loop(load(fd, token, (echo, slow), seconds, rate, clients))
        assert fd.data_dir is not None
        runs = drain(fd.data_dir / "flowdeck.db")
        alive = fd.proc.poll() is None
    ok = report(soak, rss, seconds, runs)
    return verdict("the server stayed up", alive, "running at the end") and ok


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=600.0, help="load duration (600)")
    parser.add_argument("--rate", type=float, default=50.0, help="operations per second (50)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent callers (8)")
    parser.add_argument(
        "--s3-endpoint",
        default="",
        help="keep uploads in a new bucket of the S3-compatible store at this URL "
        "(credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); default: local disk",
    )
    args = parser.parse_args(argv)
    if args.seconds < 30 or args.rate <= 0 or args.clients < 1:
        parser.error("--seconds must be at least 30, --rate and --clients positive")
    return args


if __name__ == "__main__":
    options = _args(sys.argv[1:])
    main(options.seconds, options.rate, options.clients, options.s3_endpoint)
    sys.exit(0)  # as the other benches: a missed target prints FAIL; only an error exits 1
