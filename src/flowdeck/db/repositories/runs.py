"""The run store on SQL (SQLite or PostgreSQL), with group commit of concurrent writes.

Every create / update / finish is queued to one writer task, which applies everything queued
meanwhile in a single transaction and then resolves each caller's future: under load, many
runs share one commit; alone, a write waits for nobody. A write still returns only once it
is committed. On SQLite a file database is written through its own connection on one thread
(one thread hop per batch, and no writers of ours contending for the database lock). The
SQL goes to the driver directly, rendered once per shape: `sqlite_runs.SqliteRunWriter`
and `pg_runs.PgRunWriter`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from flowdeck.db.base import NewRow, new_id, quick_instance, utcnow
from flowdeck.db.database import Database
from flowdeck.db.models import Run
from flowdeck.db.repositories.run_sql import WriteOp
from flowdeck.db.repositories.sqlite_runs import SqliteRunWriter
from flowdeck.db.threaded import ThreadedSqlite
from flowdeck.runs.states import UNFINISHED
from flowdeck.runs.store import Fence

if TYPE_CHECKING:
    from flowdeck.db.repositories.pg_runs import PgRunWriter

log = logging.getLogger("flowdeck.db")

RUNS: Table = Run.__table__  # type: ignore[assignment]
_RUN_COLUMNS = tuple(c.key for c in RUNS.columns)
_UNFINISHED = [s.value for s in UNFINISHED]
_CREATE_DEFAULTS: dict[str, Callable[[], Any]] = {
    "steps": list,
    "logs": list,
    "tags": list,
    "meta": dict,
    "request": dict,
    "progress": float,
    "attempts": int,
}
_GET = select(RUNS).where(RUNS.c.id == bindparam("run_id"))
# Batches larger than this are split: one transaction should not hold the lock for long.
MAX_BATCH = 256


class SqlRunStore:
    """RunStore over the application database: Core statements built once, group commit."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[WriteOp, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self._sqlite = ThreadedSqlite.of(db, "flowdeck-run-writer")
        dialect = db.engine.sync_engine.dialect
        self._lite = SqliteRunWriter(RUNS, dialect, _run) if db.is_sqlite else None
        self._pg: PgRunWriter | None = None
        if not db.is_sqlite:
            from flowdeck.db.repositories.pg_runs import PgRunWriter  # imports asyncpg

            self._pg = PgRunWriter(db, RUNS, _run)

    # -- RunStore --------------------------------------------------------------------------

    async def create(self, run: Run) -> None:
        now = utcnow()
        run.id = run.id or new_id()
        values = {k: getattr(run, k) for k in _RUN_COLUMNS}
        values["created_at"] = values["created_at"] or now
        values["updated_at"] = now
        for key, default in _CREATE_DEFAULTS.items():
            if values[key] is None:
                values[key] = default()
        await self._write(WriteOp(run.id, values, create=True))
        run.created_at, run.updated_at = values["created_at"], now

    async def get(self, run_id: str) -> Run | None:
        rows = await self.db.read(_GET, {"run_id": run_id})
        return _run(rows[0]._mapping) if rows else None

    async def update(
        self,
        run_id: str,
        changes: dict[str, Any],
        *,
        from_states: Collection[str] | None = None,
        fence: Fence | None = None,
    ) -> Run | None:
        states = None if from_states is None else [str(s) for s in from_states]
        run: Run | None = await self._write(WriteOp(run_id, dict(changes), False, states, fence))
        return run

    async def finish(
        self,
        run_id: str,
        changes: dict[str, Any],
        records: list[NewRow],
        fence: Fence | None = None,
    ) -> Run | None:
        op = WriteOp(run_id, dict(changes), False, _UNFINISHED, fence, list(records))
        run: Run | None = await self._write(op)
        return run

    async def unfinished(self) -> list[Run]:
        async with self.db.session() as session:
            result = await session.execute(select(Run).where(Run.state.in_(_UNFINISHED)))
            return list(result.scalars())

    # -- the writer ------------------------------------------------------------------------

    async def _write(self, op: WriteOp) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((op, future))
        if self._task is None or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._drain(), name="flowdeck-run-writer")
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._commit(batch)
        finally:
            self._task = None

    async def _commit(self, batch: list[tuple[WriteOp, asyncio.Future[Any]]]) -> None:
        try:
            results = await self._run([op for op, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                # One bad write (say, a duplicate id) must not fail the others: one by one.
                for item in batch:
                    await self._commit([item])
            elif not batch[0][1].done():
                batch[0][1].set_exception(exc)  # the caller gets the database's error
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _run(self, ops: list[WriteOp]) -> list[Any]:
        if self._pg is not None:
            return await self._pg.apply(ops)
        assert self._lite is not None
        lite = self._lite
        if self._sqlite is not None:
            return await self._sqlite.write(lambda conn: lite.apply(conn, ops))
        try:
            async with self.db.engine.begin() as conn:  # an in-memory database: aiosqlite's own
                return await conn.run_sync(lambda c: lite.apply(c.connection.dbapi_connection, ops))
        except sqlite3.IntegrityError as exc:  # raised by the driver, as SQLAlchemy would
            raise IntegrityError(str(exc), None, exc) from exc


def _run(mapping: Any) -> Run:
    """A detached Run from a row, as a session that has closed would leave it."""
    run = quick_instance(Run, mapping)
    make_transient_to_detached(run)
    return run
