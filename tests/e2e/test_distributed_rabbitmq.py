"""The distributed mode on RabbitMQ instead of Redis as the Celery broker.

Runs, control, events and recovery behave as on Redis. RabbitMQ returns a killed worker's
unacknowledged messages at once, but its runs stay claimed until their lease lapses, so no
run starts twice while its first worker might still be alive.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection

from tests.e2e.cluster import Cluster, client, wait_state
from tests.e2e.test_distributed import delay_graph, make_flow, submit
from tests.e2e.test_distributed_faults import TERMINAL, _records

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.rabbitmq,
    pytest.mark.timeout(180),
]

AMQP_URL = os.environ.get("FLOWDECK_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
RUNS = 60


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with Cluster(tmp_path) as c:
        c.settings = {
            "FLOWDECK_BROKER_URL": AMQP_URL,
            "FLOWDECK_LEASE_SECONDS": "3",
            "FLOWDECK_REQUEUE_AFTER": "6",
            "FLOWDECK_MAX_RUN_ATTEMPTS": "5",
        }
        try:
            yield c
        finally:
            with Connection(AMQP_URL) as conn:  # the run queue is named after the prefix
                conn.default_channel.queue_delete(f"{c.prefix}.runs")
                conn.default_channel.exchange_delete(f"{c.prefix}.runs")


def test_runs_survive_a_killed_worker_on_rabbitmq(cluster: Cluster) -> None:
    api = cluster.start_api("api1")
    cluster.start_worker("w1", 20)
    cluster.start_worker("w2", 20)
    with client(api) as http:
        flow_id = make_flow(http, "rabbit", delay_graph(0.5))
        jobs = [submit(http, flow_id, f"r{i}") for i in range(RUNS)]
        time.sleep(0.3)  # both workers hold runs in flight
        cluster.kill("w1")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            runs, messages = asyncio.run(_records(cluster.database))
            if all(r["state"] in TERMINAL for r in runs):
                break
            time.sleep(0.5)

        long_flow = make_flow(http, "rabbit-long", delay_graph(20))
        job = submit(http, long_flow)
        assert wait_state(http, job, {"running"})["state"] == "running"
        resp = http.post(f"/api/v1/runs/{job}/cancel")
        assert resp.status_code == 200, resp.text
        assert wait_state(http, job, TERMINAL, timeout=5)["state"] == "cancelled"

    assert {r["id"] for r in runs} == set(jobs)
    states = Counter(r["state"] for r in runs)
    assert states == {"completed": RUNS}, (states, [r["error"] for r in runs if r["error"]])
    assert max(r["attempts"] for r in runs) >= 2  # w1's runs went to w2
    for run in runs:
        steps = json.loads(run["steps"]) if isinstance(run["steps"], str) else run["steps"]
        assert [s["state"] for s in steps] == ["completed"] * 3, steps
    assert len(set(messages[r["id"]] for r in runs)) == 1  # one set of messages per run
