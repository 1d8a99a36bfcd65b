"""SqlRunStore's group commit: concurrent writes share transactions, each keeps its result."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from flowdeck.db.base import NewRow
from flowdeck.db.database import Database
from flowdeck.db.models import Run, Transaction
from flowdeck.db.repositories.runs import SqlRunStore


def new_run(run_id: str | None = None) -> Run:
    return Run(id=run_id, tenant_id=1, flow_type="automation", trigger="api", state="queued")


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
    assert isinstance(outcomes[0], Exception)
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
        Transaction, {"tenant_id": 1, "run_id": run.id, "vertex_id": "v", "status": "success"}
    )
    assert await store.finish(run.id, {"state": "completed"}, [record], ("w2", 1)) is None
    done = await store.finish(run.id, {"state": "completed"}, [record], ("w1", 1))
    assert done is not None
    assert done.state == "completed"
    assert await store.finish(run.id, {"state": "failed"}, [], ("w1", 1)) is None
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(Transaction))
    assert count == 1
