"""SqlRunStore's group commit: concurrent writes share transactions, each keeps its result."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from flowdeck.db.base import NewRow
from flowdeck.db.database import Database
from flowdeck.db.models import MessageRecord, Run, Tenant, Transaction
from flowdeck.db.repositories.runs import SqlRunStore
from flowdeck.runs.store import Increment
from tests.conftest import TEST_TENANT


def new_run(run_id: str | None = None) -> Run:
    return Run(
        id=run_id, tenant_id=TEST_TENANT, flow_type="automation", trigger="api", state="queued"
    )


async def test_concurrent_writes_keep_their_own_results(db: Database) -> None:
    store = SqlRunStore(db)
    runs = [new_run() for _ in range(50)]
    await asyncio.gather(*(store.create(r) for r in runs))
    # Half move from queued; the other half asks for a state they are not in: None.
    results = await asyncio.gather(
        *(
            store.update(r.id, {"state": "running"}, from_states=["queued" if i % 2 else "paused"])
            for i, r in enumerate(runs)
        )
    )
    assert [r is None for r in results] == [i % 2 == 0 for i in range(50)]
    moved = [r for r in results if r is not None]
    assert {r.state for r in moved} == {"running"}
    stored = await store.get(runs[1].id)
    assert stored is not None
    assert stored.state == "running"
    assert stored.updated_at is not None


async def test_a_failing_write_fails_alone(db: Database) -> None:
    store = SqlRunStore(db)
    first = new_run()
    await store.create(first)
    outcomes = await asyncio.gather(
        store.create(new_run(first.id)),  # duplicate id
        store.create(new_run()),
        store.update(first.id, {"progress": 0.5}),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], IntegrityError)  # what the API maps to 409
    assert outcomes[1] is None
    assert isinstance(outcomes[2], Run)
    assert outcomes[2].progress == 0.5


async def test_fence_and_finish_records(db: Database) -> None:
    store = SqlRunStore(db)
    run = new_run()
    await store.create(run)
    claimed = await store.update(run.id, {"state": "running", "worker": "w1", "attempts": 1})
    assert claimed is not None
    record = NewRow(
        Transaction,
        {"tenant_id": TEST_TENANT, "run_id": run.id, "vertex_id": "v", "status": "success"},
    )
    assert await store.finish(run.id, {"state": "completed"}, [record], ("w2", 1)) is None
    done = await store.finish(run.id, {"state": "completed"}, [record], ("w1", 1))
    assert done is not None
    assert done.state == "completed"
    assert await store.finish(run.id, {"state": "failed"}, [], ("w1", 1)) is None
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(Transaction))
    assert count == 1


async def test_values_round_trip_and_records_take_defaults(db: Database) -> None:
    store = SqlRunStore(db)
    run = new_run()
    run.request = {"input_value": "héllo", "n": 2**70, "nested": {"a": [1, None]}}
    await store.create(run)
    claimed = await store.update(
        run.id,
        {"state": "running", "worker": "w1", "attempts": Increment(1)},
        from_states=["queued"],
    )
    assert claimed is not None
    assert claimed.attempts == 1
    assert claimed.request == run.request
    message = NewRow(MessageRecord, {"tenant_id": TEST_TENANT, "run_id": run.id, "text": "hi"})
    built = NewRow(
        Transaction,
        {
            "tenant_id": TEST_TENANT,
            "run_id": run.id,
            "vertex_id": "v",
            "status": "success",
            "outputs": {"text": "ok", "list": [1, 2]},
        },
    )
    done = await store.finish(
        run.id,
        {"state": "completed", "outputs": {"result": "ok"}, "steps": [{"id": "v"}]},
        [message, built, message],
        ("w1", 1),
    )
    assert done is not None
    assert (done.outputs, done.steps) == ({"result": "ok"}, [{"id": "v"}])
    stored = await store.get(run.id)
    assert stored is not None
    assert (stored.state, stored.request, stored.outputs) == (
        "completed",
        run.request,
        done.outputs,
    )
    async with db.session() as session:
        messages = list(await session.scalars(select(MessageRecord)))
        txn = await session.scalar(select(Transaction))
    assert [(m.text, m.sender, m.files, m.properties, m.error) for m in messages] == [
        ("hi", "Machine", [], {}, False)
    ] * 2
    assert all(m.timestamp is not None and m.id for m in messages)
    assert txn is not None
    assert (txn.outputs, txn.inputs, txn.status) == ({"text": "ok", "list": [1, 2]}, {}, "success")


async def test_postgres_batches_are_few_round_trips(db: Database) -> None:
    """Creates share an executemany; updates of one shape to different runs a pipeline."""
    if db.is_sqlite:  # SQLite writes through its own connection and thread instead
        assert SqlRunStore(db)._pg is None
        return
    from flowdeck.db.repositories.pg_runs import PgRunWriter, _Creates, _Updates
    from flowdeck.db.repositories.run_sql import WriteOp as _Op
    from flowdeck.db.repositories.runs import RUNS, _run

    writer = PgRunWriter(db, RUNS, _run)
    runs = [new_run() for _ in range(3)]
    for run in runs:
        run.id = run.id or f"r-{id(run)}"
    blank = dict.fromkeys(RUNS.columns.keys())
    creates = [_Op(r.id, {**blank, "id": r.id}, create=True) for r in runs]
    claim = [_Op(r.id, {"state": "running"}, from_states=["queued"]) for r in runs]
    again = _Op(runs[0].id, {"state": "running"}, from_states=["queued"])
    steps = writer._steps([*creates, *claim, again], "b")
    assert [type(s) for s in steps] == [_Creates, _Updates, _Updates]
    assert [len(s.rows) if isinstance(s, _Creates) else len(s.updates) for s in steps] == [3, 3, 1]
    store = SqlRunStore(db)
    await asyncio.gather(*(store.create(r) for r in runs))
    results = await writer.apply([*claim[:2], _Op("missing", {"state": "running"}, [], ["queued"])])
    assert [r.state if r else None for r in results] == ["running", "running", None]


async def test_in_memory_sqlite_writes_through_aiosqlite() -> None:
    """An in-memory database has no file for a connection of its own: its one connection."""
    db = Database("sqlite+aiosqlite:///:memory:")
    await db.migrate()
    try:
        async with db.session() as session:
            session.add(Tenant(id=TEST_TENANT, name="t", code="t", settings={}))
        store = SqlRunStore(db)
        assert store._sqlite is None
        run = new_run()
        await store.create(run)
        record = NewRow(MessageRecord, {"tenant_id": TEST_TENANT, "text": "hi", "sender": "AI"})
        done = await store.finish(run.id, {"state": "completed", "progress": 1.0}, [record])
        assert done is not None
        assert (done.state, done.progress, done.steps) == ("completed", 1.0, [])
        again = await store.finish(run.id, {"state": "failed"}, [])
        assert again is None  # finished runs are not finished twice
        async with db.session() as session:
            texts = (await session.execute(select(MessageRecord.text))).scalars().all()
        assert texts == ["hi"]
    finally:
        await db.dispose()


async def test_postgres_hot_paths_survive_dropped_connections(db: Database) -> None:
    """The database drops every connection (a restart, a failover): the next write and the
    next flow lookup each run again once on a new connection instead of failing."""
    if db.is_sqlite:
        return
    import asyncpg

    from flowdeck.db.pg import pg_connection, pg_fetch
    from flowdeck.db.raw import RawQuery
    from flowdeck.db.repositories.base import Scope
    from flowdeck.db.repositories.flows import FlowRepository

    store = SqlRunStore(db)
    run = new_run()
    await store.create(run)
    stmt, params = FlowRepository.fingerprints_query(Scope(TEST_TENANT, None, True), "no-such-flow")
    query = RawQuery(stmt, db.engine.sync_engine.dialect)
    assert await pg_fetch(db, query, params) == []
    async with pg_connection(db) as raw:
        name = await raw.fetchval("SELECT current_database()")
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(url)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()
    assert killed >= 1
    moved = await store.update(run.id, {"state": "running"}, from_states=["queued"])
    assert moved is not None
    assert moved.state == "running"
    assert await pg_fetch(db, query, params) == []
