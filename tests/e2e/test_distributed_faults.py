"""Workers killed with SIGKILL mid-run: every run still ends once, with complete records."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest
import redis

from flowdeck.workers.leases import ANNOUNCE_AFTER
from tests.e2e.cluster import PG_ADMIN_URL, REDIS_URL, Cluster, client
from tests.e2e.test_distributed import delay_graph, make_flow, submit

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(300)]

RUNS = 300
TERMINAL = {"completed", "failed", "cancelled"}


async def _records(database: str) -> tuple[list[asyncpg.Record], Counter[str]]:
    conn = await asyncpg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database)
    try:
        runs = await conn.fetch("SELECT id, state, attempts, steps, outputs, error FROM runs")
        messages = Counter(
            {
                row["run_id"]: row["n"]
                for row in await conn.fetch(
                    "SELECT run_id, count(*) AS n FROM messages GROUP BY run_id"
                )
            }
        )
        return list(runs), messages
    finally:
        await conn.close()


def _running_on(database: str, worker: str, seconds: float) -> bool:
    """Wait up to `seconds` for a run that `worker` holds; whether one was seen."""

    async def holds() -> bool:
        conn = await asyncpg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database)
        try:
            query = "SELECT 1 FROM runs WHERE worker = $1 AND state = 'running' LIMIT 1"
            return await conn.fetchval(query, worker) is not None
        finally:
            await conn.close()

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if asyncio.run(holds()):
            return True
        time.sleep(0.05)
    return False


def test_kill_9_workers_twice_with_300_runs_in_flight(tmp_path: Path) -> None:
    with Cluster(tmp_path) as cluster:
        cluster.settings = {
            "FLOWDECK_LEASE_SECONDS": "3",
            "FLOWDECK_REQUEUE_AFTER": "6",
            "FLOWDECK_BROKER_VISIBILITY_TIMEOUT": "8",
            "FLOWDECK_MAX_RUN_ATTEMPTS": "5",
        }
        api = cluster.start_api("api1")
        cluster.start_worker("w1", 50)
        cluster.start_worker("w2", 50)
        with client(api) as http:
            flow_id = make_flow(http, "faults", delay_graph(0.5))
            jobs: list[str] = []
            done = threading.Event()

            def submit_all() -> None:
                with ThreadPoolExecutor(8) as pool:
                    jobs.extend(pool.map(lambda i: submit(http, flow_id, f"r{i}"), range(RUNS)))
                done.set()

            feeder = threading.Thread(target=submit_all)
            feeder.start()
            # Each kill waits for its worker to be running something: on a loaded machine a
            # fixed sleep could kill a worker that had not taken a run yet.
            assert _running_on(cluster.database, "w1", 30)
            cluster.kill("w1")  # SIGKILL: no chance to hand anything back
            cluster.start_worker("w1b", 50)
            _running_on(cluster.database, "w1b", 10)  # others may have taken every run by then
            cluster.kill("w1b")
            cluster.start_worker("w1c", 50)
            feeder.join(timeout=120)
            assert done.is_set()

            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                runs, messages = asyncio.run(_records(cluster.database))
                if len(runs) == RUNS and all(r["state"] in TERMINAL for r in runs):
                    break
                time.sleep(1)

        states = Counter(r["state"] for r in runs)
        assert len(runs) == RUNS
        assert set(jobs) == {r["id"] for r in runs}
        assert states == {"completed": RUNS}, (states, [r["error"] for r in runs if r["error"]])
        # The kills hit runs in flight, and those were run again elsewhere.
        assert max(r["attempts"] for r in runs) >= 2
        # Complete records, written once: every step done, one set of messages per run.
        for run in runs:
            steps = json.loads(run["steps"]) if isinstance(run["steps"], str) else run["steps"]
            assert [s["state"] for s in steps] == ["completed"] * 3, steps
            assert run["outputs"] is not None
        expected = messages[next(r["id"] for r in runs if r["attempts"] == 1)]
        assert expected >= 1
        assert all(messages[r["id"]] == expected for r in runs), Counter(messages.values())
        # One terminal event per run in its event stream. A run whose worker died between
        # storing its end and announcing it is announced by a reaper ANNOUNCE_AFTER later.
        events = redis.Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + ANNOUNCE_AFTER + 30
        streams = _streams(events, cluster.prefix, [r["id"] for r in runs])
        while not all(b"end" in names for names in streams) and time.monotonic() < deadline:
            time.sleep(1)
            streams = _streams(events, cluster.prefix, [r["id"] for r in runs])
        events.close()
        for names in streams:
            assert names.count(b"end") == 1
            assert names[-1] == b"end"


def _streams(events: redis.Redis, prefix: str, run_ids: list[str]) -> list[list[bytes]]:
    """The event names in each run's stream."""
    pipe = events.pipeline(transaction=False)
    for run_id in run_ids:
        pipe.xrange(f"{prefix}:run:{run_id}:events")
    return [[fields[b"e"] for _, fields in entries] for entries in pipe.execute()]
