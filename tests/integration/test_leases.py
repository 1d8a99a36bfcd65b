"""Leases and the reaper: runs whose worker vanished are retried or failed, never stuck."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from flowdeck.db.base import utcnow
from flowdeck.db.database import Database
from flowdeck.db.models import Run, Tenant
from flowdeck.db.repositories.runs import SqlRunStore
from flowdeck.engine import Engine
from flowdeck.runs.bus import MemoryEventBus
from flowdeck.runs.pubsub import Subscriber
from flowdeck.runs.redis_bus import RedisEventBus
from flowdeck.runs.service import RunService
from flowdeck.runs.states import RunState
from flowdeck.services.graphs import DbGraphSource, GraphCache
from flowdeck.settings import Settings
from flowdeck.workers.leases import LeaseKeeper, Reaper
from flowdeck.workers.runner import RunWorker
from tests.conftest import TEST_TENANT, _pg_database

REDIS_URL = os.environ.get("FLOWDECK_TEST_REDIS", "redis://127.0.0.1:6379/0")


def reaper(
    db: Database,
    runs: RunService,
    sent: list[str],
    attempts: int = 3,
    bus: RedisEventBus | None = None,
) -> Reaper:
    async def dispatch(run: Run) -> None:
        sent.append(run.id)

    return Reaper(
        db, runs, dispatch, lease_seconds=1, max_attempts=attempts, requeue_after=30, bus=bus
    )


async def running(runs: RunService, worker: str, attempt: int, lease: float) -> Run:
    run = await runs.create(
        Run(
            tenant_id=TEST_TENANT,
            user_id=None,
            flow_type="automation",
            trigger="api",
            request={},
            attempts=attempt - 1,
        )
    )
    return await runs.transition(
        run.id,
        RunState.RUNNING,
        changes={
            "worker": worker,
            "attempts": attempt,
            "lease_until": utcnow() + timedelta(seconds=lease),
        },
    )


async def test_a_lapsed_lease_puts_the_run_back_in_the_queue(db: Database) -> None:
    runs = RunService(SqlRunStore(db), MemoryEventBus())
    sent: list[str] = []
    lost = await running(runs, "dead", 1, lease=-1)
    alive = await running(runs, "alive", 1, lease=60)
    assert await reaper(db, runs, sent).reap_expired() == 1
    assert sent == [lost.id]
    again = await runs.get(lost.id)
    assert again.state == "queued"
    assert again.worker is None
    assert (await runs.get(alive.id)).state == "running"
    # A second pass (or another process's reaper) finds nothing more to do.
    assert await reaper(db, runs, sent).reap_expired() == 0
    assert sent == [lost.id]


async def test_a_run_out_of_attempts_fails_with_the_reason(db: Database) -> None:
    runs = RunService(SqlRunStore(db), MemoryEventBus())
    sent: list[str] = []
    run = await running(runs, "dead", 3, lease=-1)
    await reaper(db, runs, sent, attempts=3).reap_expired()
    failed = await runs.get(run.id)
    assert failed.state == "failed"
    assert "dead" in (failed.error or "")
    assert "attempt 3 of 3" in (failed.error or "")
    assert sent == []


async def test_the_lease_keeper_renews_held_runs_and_stops_runs_taken_over(
    db: Database,
) -> None:
    runs = RunService(SqlRunStore(db), MemoryEventBus())
    engine = Engine()
    worker = RunWorker(engine, runs, DbGraphSource(db, GraphCache(engine)), name="me")
    from flowdeck.engine import RunControl

    held = await running(runs, "me", 1, lease=1)
    taken = await running(runs, "me", 1, lease=1)
    worker.controls = {held.id: RunControl(), taken.id: RunControl()}
    # Another process retried `taken` after its lease lapsed.
    await runs.transition(taken.id, RunState.QUEUED, changes={"worker": None})
    keeper = LeaseKeeper(db, worker, lease_seconds=30)
    await keeper.tick()
    renewed = await runs.get(held.id)
    assert renewed.lease_until is not None
    # SQLite hands datetimes back without their zone; both are UTC.
    assert renewed.lease_until.replace(tzinfo=None) > (utcnow() + timedelta(seconds=20)).replace(
        tzinfo=None
    )
    assert worker.controls[held.id].cancel_reason is None
    assert worker.controls[taken.id].cancel_reason is not None
    assert taken.id in worker.lost
    await engine.aclose()


async def test_a_retry_claimed_here_during_the_renewal_is_not_stopped(db: Database) -> None:
    """The renewal finds the run queued (another process retried it); before it is done, this
    worker claims the retry. Only the old attempt's control is stopped, not the retry's."""
    runs = RunService(SqlRunStore(db), MemoryEventBus())
    engine = Engine()
    worker = RunWorker(engine, runs, DbGraphSource(db, GraphCache(engine)), name="me")
    from flowdeck.engine import RunControl

    run = await running(runs, "me", 1, lease=1)
    first, retry = RunControl(), RunControl()
    worker.controls = {run.id: first}
    await runs.transition(run.id, RunState.QUEUED, changes={"worker": None})
    opened = db.session

    @contextlib.asynccontextmanager
    async def claimed_meanwhile() -> AsyncIterator[Any]:
        async with opened() as session:
            yield session
        # What a claim of the retry by this worker leaves while the renewal is under way.
        await runs.transition(run.id, RunState.RUNNING, changes={"worker": "me", "attempts": 2})
        worker.controls[run.id] = retry

    db.session = claimed_meanwhile  # type: ignore[method-assign]
    try:
        await LeaseKeeper(db, worker, lease_seconds=30).tick()
    finally:
        db.session = opened  # type: ignore[method-assign]
    assert first.cancel_reason is not None
    assert retry.cancel_reason is None
    assert worker.controls[run.id] is retry
    assert run.id not in worker.lost
    await engine.aclose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The distributed mode's database: PostgreSQL only."""
    yield from _pg_database()


@pytest.mark.postgres
@pytest.mark.redis
async def test_an_end_stored_but_never_announced_is_announced_once(pg_url: str) -> None:
    database = Database(Settings(database_url=pg_url).db_url)
    await database.migrate()
    async with database.session() as session:
        session.add(Tenant(id=TEST_TENANT, name="t", code="t", settings={}))
    prefix = f"fdtest{uuid.uuid4().hex[:10]}"
    redis = Redis.from_url(REDIS_URL)
    subscriber = Subscriber(redis)
    bus = RedisEventBus(redis, subscriber, prefix=prefix, retention_seconds=60)
    try:
        runs = RunService(SqlRunStore(database), bus)
        # A worker stored the end of `lost`, then died before publishing it.
        lost = await running(runs, "w1", 1, lease=60)
        await runs.store.finish(
            lost.id,
            {"state": "completed", "finished_at": utcnow() - timedelta(seconds=60)},
            [],
        )
        # `fresh` ended just now: its process may still be about to announce it.
        fresh = await running(runs, "w1", 1, lease=60)
        await runs.store.finish(fresh.id, {"state": "completed"}, [])
        # `announced` ended normally.
        done = await running(runs, "w1", 1, lease=60)
        await runs.transition(done.id, RunState.COMPLETED)
        assert await bus.unended(0) == [lost.id, fresh.id]  # `done` announced its end
        # Their last state events were published long enough ago.
        await redis.zadd(f"{prefix}:unended", {lost.id: 1.0, fresh.id: 1.0})

        sent: list[str] = []
        first, other = reaper(database, runs, sent, bus=bus), reaper(database, runs, sent, bus=bus)
        assert await first.announce_lost_ends() == 1
        assert await other.announce_lost_ends() == 0  # another process's reaper: nothing left
        names = [name for _, name, _ in await bus.read(lost.id)]
        assert names == ["state", "state", "state", "end"]
        assert names.count("end") == 1
        assert [name for _, name, _ in await bus.read(fresh.id)][-1] == "state"
        assert await bus.is_finished(lost.id) is True
        assert sent == []
    finally:
        await bus.close()
        await subscriber.stop()
        await redis.aclose()
        await database.dispose()
