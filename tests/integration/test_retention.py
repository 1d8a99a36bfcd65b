"""Retention over real runs: per-flow monitor limits, finished-run limits, the background task."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from flowdeck.db.models import MessageRecord, Run, Transaction, VertexBuild
from flowdeck.services.retention import RetentionTask, prune
from flowdeck.settings import Settings
from tests.integration.api.test_runs import ECHO, add_flow, delayed

MONITOR = "/api/v1/monitor"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The smallest limits the settings allow, so a few runs go past them."""
    return settings.model_copy(update={"monitor_retention": 10, "run_retention": 100})


async def run_echo(client: httpx.AsyncClient, flow_id: str, text: str) -> str:
    resp = await client.post(f"/api/v1/run/{flow_id}", json={"input_value": text})
    assert resp.status_code == 200, resp.text
    run_id: str = resp.json()["run_id"]
    return run_id


async def counts(app: FastAPI, flow_id: str) -> dict[str, int]:
    out: dict[str, int] = {}
    async with app.state.services.db.session() as session:
        for name, model in (
            ("messages", MessageRecord),
            ("vertex_builds", VertexBuild),
            ("transactions", Transaction),
        ):
            stmt = select(func.count()).select_from(model).where(model.flow_id == flow_id)
            out[name] = (await session.execute(stmt)).scalar_one()
    return out


async def run_ids(app: FastAPI) -> set[str]:
    async with app.state.services.db.session() as session:
        return set((await session.execute(select(Run.id))).scalars())


async def wait_for_state(client: httpx.AsyncClient, run_id: str, state: str) -> None:
    for _ in range(100):
        if (await client.get(f"/api/v1/runs/{run_id}")).json()["state"] == state:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} never became {state}")


async def test_prune_keeps_the_newest_records_of_each_flow(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    busy = await add_flow(app, ECHO, name="busy")
    quiet = await add_flow(app, ECHO, name="quiet")
    for i in range(7):  # 14 records of each kind: 4 over the limit of 10
        await run_echo(client, busy, f"m{i}")
    for i in range(2):
        await run_echo(client, quiet, f"q{i}")

    deleted = await prune(app.state.services)
    assert deleted == {"messages": 4, "vertex_builds": 4, "transactions": 4, "runs": 0}
    assert await counts(app, busy) == {"messages": 10, "vertex_builds": 10, "transactions": 10}
    assert await counts(app, quiet) == {"messages": 4, "vertex_builds": 4, "transactions": 4}

    # The two oldest runs' records went; what the monitor shows starts with the third run.
    left = (await client.get(f"{MONITOR}/messages", params={"flow_id": busy})).json()
    assert [m["text"] for m in left[::2]] == ["m2", "m3", "m4", "m5", "m6"]
    txs = (await client.get(f"{MONITOR}/transactions", params={"flow_id": busy})).json()
    assert txs["total"] == 10
    assert txs["items"][0]["outputs"]["message"]["text"] == "m2"

    again = await prune(app.state.services)
    assert again == {"messages": 0, "vertex_builds": 0, "transactions": 0, "runs": 0}
    # An explicit limit overrides the setting.
    assert (await prune(app.state.services, monitor_limit=1))["vertex_builds"] == 9 + 3


async def test_prune_runs_keeps_the_newest_finished_and_every_unfinished(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    finished = [await run_echo(client, flow_id, f"r{i}") for i in range(4)]
    slow = await add_flow(app, delayed(30), name="slow")
    job = await client.post(f"/api/v1/build/{slow}/flow", json={"inputs": {"input_value": "x"}})
    unfinished = job.json()["job_id"]
    await wait_for_state(client, unfinished, "running")

    assert (await prune(app.state.services))["runs"] == 0  # 5 runs, 100 allowed
    assert (await prune(app.state.services, run_limit=2))["runs"] == 2
    assert await run_ids(app) == {*finished[2:], unfinished}
    assert (await client.get(f"/api/v1/runs/{finished[0]}")).status_code == 404

    assert (await prune(app.state.services, run_limit=0))["runs"] == 2
    assert await run_ids(app) == {unfinished}
    # Monitor records outlive their runs: they have their own limit.
    assert (await counts(app, flow_id))["messages"] == 8

    await client.post(f"/api/v1/runs/{unfinished}/cancel")
    await wait_for_state(client, unfinished, "cancelled")
    assert (await prune(app.state.services, run_limit=0))["runs"] == 1


async def test_retention_task_prunes_in_the_background(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    for i in range(6):
        await run_echo(client, flow_id, f"m{i}")
    assert (await counts(app, flow_id))["messages"] == 12

    task = RetentionTask(app.state.services, interval=0.05)
    await task.start()
    await task.start()  # starting twice keeps one loop
    try:
        for _ in range(100):
            if task.passes:
                break
            await asyncio.sleep(0.02)
        assert task.running
        assert task.passes >= 1
    finally:
        await task.stop()
    assert not task.running
    await task.stop()  # stopping twice is harmless
    assert await counts(app, flow_id) == {"messages": 10, "vertex_builds": 10, "transactions": 10}


async def test_bad_limits_are_refused(app: FastAPI) -> None:
    services: Any = app.state.services
    with pytest.raises(ValueError, match="negative"):
        await prune(services, run_limit=-1)
    with pytest.raises(ValueError, match="interval"):
        RetentionTask(services, interval=0)
