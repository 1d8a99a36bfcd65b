"""The PostgreSQL run store when a connection drops under a batch, before or after it commits.

The database is reached through a proxy that can drop the server's answers: a batch then
commits while its caller hears nothing, and the backend is terminated (pg_terminate_backend)
so the connection breaks. The retry must tell that batch from one that never arrived.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text

from flowdeck.db.base import utcnow
from flowdeck.db.database import Database
from flowdeck.db.models import Run, RunStoreBatch
from flowdeck.db.repositories.pg_runs import KEEP_MARKS_NS, PRUNE_EVERY_NS, batch_id
from flowdeck.db.repositories.runs import SqlRunStore
from flowdeck.runs.store import Increment
from tests.conftest import TEST_TENANT, _pg_database
from tests.integration.pg_proxy import PgProxy, pg_proxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url() -> Iterator[str]:
    """PostgreSQL only, for the `db` fixture: its view of what is stored, not proxied."""
    yield from _pg_database()


@pytest.fixture
async def direct(db: Database) -> Database:
    return db


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[PgProxy]:
    async with pg_proxy(database_url) as running:
        yield running


@pytest.fixture
async def store(direct: Database, proxy: PgProxy) -> AsyncIterator[SqlRunStore]:
    """A run store whose connections go through the proxy."""
    database = Database(proxy.url(direct.url), close_timeout=2)
    yield SqlRunStore(database)
    await database.dispose()


def new_run(run_id: str | None = None) -> Run:
    return Run(
        id=run_id, tenant_id=TEST_TENANT, flow_type="automation", trigger="api", state="queued"
    )


async def _stored(direct: Database, run_id: str) -> Run | None:
    return await SqlRunStore(direct).get(run_id)


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(1000):  # polls the database: nothing here could set an event instead
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def _terminate(direct: Database, ports: list[int]) -> int:
    """pg_terminate_backend for the backends whose client is one of the proxy's `ports`."""
    url = direct.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(url)
    try:
        killed: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE client_port = ANY($1::int[]) AND client_addr = '127.0.0.1'",
            ports,
        )
        return killed
    finally:
        await admin.close()


async def _drop_after_commit(
    direct: Database,
    proxy: PgProxy,
    write: Awaitable[Any],
    committed: Callable[[], Awaitable[bool]],
    last_sent: bytes,
) -> Any:
    """`write`, its answers dropped from when the client sends `last_sent` (its statement's
    argument, or COMMIT); once `committed()` sees its effect, its backend is terminated."""
    proxy.mute_after(last_sent)
    task = asyncio.ensure_future(write)
    await _until(committed)
    proxy.mute_after(None)  # the retry's connection is heard again
    assert not task.done()  # the answer did not arrive
    assert await _terminate(direct, proxy.muted()) == 1
    return await asyncio.wait_for(task, 10)


async def _incremented_once(direct: Database, run_id: str, task: Awaitable[Run | None]) -> None:
    """The write's caller sees its run with one attempt, and so does the database."""
    result = await asyncio.wait_for(task, 10)
    assert result is not None
    assert result.attempts == 1
    stored = await _stored(direct, run_id)
    assert stored is not None
    assert stored.attempts == 1


async def _marks(direct: Database) -> int:
    async with direct.session() as session:
        count = await session.scalar(select(func.count()).select_from(RunStoreBatch))
    return int(count or 0)


async def test_an_update_that_committed_before_the_drop_is_not_applied_twice(
    direct: Database, proxy: PgProxy, store: SqlRunStore
) -> None:
    run = new_run()
    await store.create(run)

    async def claimed() -> bool:
        stored = await _stored(direct, run.id)
        return stored is not None and stored.state == "running"

    claim = store.update(
        run.id, {"state": "running", "attempts": Increment(1)}, from_states=["queued"]
    )
    result = await _drop_after_commit(direct, proxy, claim, claimed, run.id.encode())
    # The claim succeeded (the caller is told so), and its increment was applied once.
    assert result is not None
    assert (result.state, result.attempts) == ("running", 1)
    stored = await _stored(direct, run.id)
    assert stored is not None
    assert stored.attempts == 1


async def test_a_mixed_batch_that_committed_keeps_each_result(
    direct: Database, proxy: PgProxy, store: SqlRunStore
) -> None:
    first, other = new_run(), new_run()
    await asyncio.gather(store.create(first), store.create(other))
    fresh = new_run("fresh-run-id")

    async def committed() -> bool:
        return await _stored(direct, fresh.id) is not None

    batch = asyncio.gather(
        store.create(fresh),
        store.update(first.id, {"state": "running"}, from_states=["queued"]),
        store.update(other.id, {"state": "running"}, from_states=["paused"]),  # no match
        store.update(first.id, {"progress": Increment(0.5)}),
    )
    created, moved, unmoved, progressed = await _drop_after_commit(
        direct, proxy, batch, committed, b"COMMIT"
    )
    # The create is not reported as a duplicate of itself; each update keeps its own answer.
    assert created is None
    assert moved is not None
    assert moved.state == "running"
    assert unmoved is None
    assert progressed is not None
    assert progressed.progress == 0.5
    stored = await _stored(direct, first.id)
    assert stored is not None
    assert (stored.state, stored.progress) == ("running", 0.5)
    assert await _stored(direct, fresh.id) is not None


async def test_a_create_that_committed_is_not_a_duplicate(
    direct: Database, proxy: PgProxy, store: SqlRunStore
) -> None:
    run = new_run()

    async def created() -> bool:
        return run.id is not None and await _stored(direct, run.id) is not None

    run.id = "created-before-the-drop"
    write = store.create(run)
    assert await _drop_after_commit(direct, proxy, write, created, run.id.encode()) is None
    # A client's own duplicate id is still refused.
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        await store.create(new_run(run.id))


async def test_a_batch_lost_before_it_arrived_runs_again_once(
    direct: Database, proxy: PgProxy, store: SqlRunStore
) -> None:
    run = new_run()
    await store.create(run)
    proxy.freeze()  # the statement never reaches the server
    ports = [link.upstream_port for link in proxy.links]
    task = asyncio.ensure_future(store.update(run.id, {"attempts": Increment(1)}))
    await asyncio.sleep(0.3)
    assert not task.done()
    assert await _terminate(direct, ports) >= 1
    await _incremented_once(direct, run.id, task)


async def test_marks_are_written_with_each_effect_and_pruned(
    direct: Database, store: SqlRunStore
) -> None:
    run = new_run()
    await store.create(run)
    assert await store.update(run.id, {"state": "running"}, from_states=["paused"]) is None
    assert await store.update(run.id, {"state": "running"}, from_states=["queued"]) is not None
    assert await _marks(direct) == 2  # the create and the update that matched
    # Marks older than the retention go at the next prune, off the writer's path.
    old = batch_id(time.time_ns() - KEEP_MARKS_NS - 10**9)
    async with direct.session() as session:
        session.add(RunStoreBatch(id=old, op=0, applied_at=utcnow()))
    assert await _marks(direct) == 3
    writer = store._pg
    assert writer is not None
    writer._pruned_at -= PRUNE_EVERY_NS + 1
    await store.update(run.id, {"progress": 0.5})

    async def pruned() -> bool:
        async with direct.session() as session:
            ids = set(await session.scalars(select(RunStoreBatch.id)))
        return old not in ids

    await _until(pruned)
    assert await _marks(direct) == 3  # the create, the claim, the progress: all recent


async def test_a_batch_the_server_still_runs_after_the_cut_is_applied_once(
    direct: Database, proxy: PgProxy, store: SqlRunStore
) -> None:
    """The connection is cut while the server still works on the batch (waiting for a lock
    here): the retry ends that backend first, so the batch cannot commit behind its back."""
    run = new_run()
    await store.create(run)
    admin = await asyncpg.connect(
        direct.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        lock = admin.transaction()
        await lock.start()
        await admin.execute("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", run.id)

        async def waiting() -> list[int]:
            # Not from the locking connection: in a transaction, the view is a snapshot.
            rows = await direct.read(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
            return [row[0] for row in rows]

        task = asyncio.ensure_future(store.update(run.id, {"attempts": Increment(1)}))
        await _until(lambda: _any(waiting()))
        (first,) = await waiting()
        proxy.cut()  # the server does not notice: its backend waits for the lock
        await _until(lambda: _any(waiting(), without=first))
        assert await waiting() != [first]  # the first backend was ended; the batch sent again
        await lock.commit()
    finally:
        await admin.close()
    await _incremented_once(direct, run.id, task)


async def _any(pids: Awaitable[list[int]], without: int | None = None) -> bool:
    return any(pid != without for pid in await pids)
