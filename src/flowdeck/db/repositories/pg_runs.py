"""Run-store writes on PostgreSQL sent straight through the pool's asyncpg connection.

Every other statement goes through SQLAlchemy; these few run for every run of a distributed
deployment, so their SQL is rendered once per shape from the table definitions and executed
without the per-call work of a Core execution (cache keys, parameter and row processors).
A run's finish and its monitor records are one statement (data-modifying CTEs): one round
trip, no BEGIN or COMMIT.

Each write that takes effect also inserts a mark (batch id, op) into `run_store_batches`,
in the same statement (a CTE), hence in the batch's transaction. When the connection drops
under a batch, the marks tell whether it committed before the drop: if so its results are
rebuilt from them instead of applying it twice (a create would fail as a duplicate, a
conditional update match nothing). A batch without marks changed nothing: it runs again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy import JSON, Table
from sqlalchemy.exc import DataError, IntegrityError

from flowdeck.db.database import Database, json_dumps
from flowdeck.db.models import RunStoreBatch
from flowdeck.db.pg import BAD_VALUE, LOST, pg_connection
from flowdeck.db.repositories.run_sql import (
    MAX_SHAPES,
    Params,
    WriteOp,
    plan_update,
    render_insert,
    render_update,
)

log = logging.getLogger("flowdeck.db")

MARKS: Table = RunStoreBatch.__table__  # type: ignore[assignment]
# A retry follows its failure within seconds (the reconnect's timeout at most): marks older
# than this serve nothing. Pruned at most once a period, off the writer's path.
KEEP_MARKS_NS = 5 * 60 * 10**9
PRUNE_EVERY_NS = 60 * 10**9
_MARKED = f"SELECT op FROM {MARKS.name} WHERE id = $1"
# The backend a batch was sent to, if the server still has it (a connection cut on the way,
# not by the server): ended, and waited for, so its transaction is over before the marks
# are read. Otherwise it could still commit after them, and the batch be applied twice.
_END = (
    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
    "WHERE pid = $1 AND pid <> pg_backend_pid() AND usename = current_user"
)
_PRUNE = f"DELETE FROM {MARKS.name} WHERE id < $1"


def batch_id(now_ns: int) -> str:
    """Unique, and ordered by time as text: fixed-width hex of the clock, then random hex."""
    return f"{now_ns:016x}{secrets.token_hex(8)}"


class PgRunWriter:
    """Applies a batch of queued run-store writes in as few round trips as its shapes allow."""

    def __init__(self, db: Database, table: Table, to_run: Callable[[dict[str, Any]], Any]) -> None:
        self.db = db
        self.table = table
        self.to_run = to_run
        self._json = {c.key for c in table.columns if isinstance(c.type, JSON)}
        self._columns = tuple(c.key for c in table.columns)
        n = len(self._columns)
        self._insert = (
            f"WITH m AS (INSERT INTO {MARKS.name} (id, op, applied_at) "
            f"VALUES (${n + 1}, ${n + 2}, now())) {render_insert(table, self._columns, '$')}"
        )
        self._get = f"SELECT * FROM {table.name} WHERE id = ANY($1::varchar[])"
        self._updates: dict[Any, tuple[str, tuple[str, ...]]] = {}
        self._pruned_at = time.time_ns()
        self._pruning: asyncio.Task[None] | None = None

    async def apply(self, ops: list[WriteOp]) -> list[Any]:
        now = time.time_ns()
        batch = batch_id(now)
        # Built once, before a connection is taken: a retry sends the same statements.
        steps = self._steps(ops, batch)
        backend: list[int] = []
        try:
            results = await self._apply(steps, backend)
        except LOST:
            results = await self._retry(ops, steps, batch, backend)
        if now - self._pruned_at > PRUNE_EVERY_NS and self._pruning is None:
            self._pruned_at = now
            self._pruning = asyncio.get_running_loop().create_task(self._prune(now))
        return results

    async def _retry(
        self, ops: list[WriteOp], steps: list[Step], batch: str, backend: list[int]
    ) -> list[Any]:
        """After a lost connection: the batch's results if it had committed, else it again."""
        async with pg_connection(self.db) as raw:  # lost again: the caller gets the error
            if backend:
                await raw.execute(_END, backend[0])
            marked = {row[0] for row in await raw.fetch(_MARKED, batch)}
            ids = [op.run_id for i, op in enumerate(ops) if i in marked and not op.create]
            rows = await raw.fetch(self._get, ids) if ids else []
        if not marked:
            log.warning("run-store batch %s: connection lost before it committed; again", batch)
            return await self._apply(steps)
        log.warning("run-store batch %s: connection lost after it committed", batch)
        # An update's row as stored now: as this batch left it, unless written since.
        by_id = {row["id"]: self.to_run(dict(row)) for row in rows}
        return [
            by_id.get(op.run_id) if i in marked and not op.create else None
            for i, op in enumerate(ops)
        ]

    async def _prune(self, now_ns: int) -> None:
        try:
            async with pg_connection(self.db) as raw:
                await raw.execute(_PRUNE, f"{now_ns - KEEP_MARKS_NS:016x}")
        except Exception:  # the marks only grow until the next prune succeeds
            log.warning("could not prune run-store batch marks", exc_info=True)
        finally:
            self._pruning = None

    async def _apply(self, steps: list[Step], backend: list[int] | None = None) -> list[Any]:
        async with pg_connection(self.db) as raw:
            if backend is not None:
                backend.append(raw.get_server_pid())  # known locally, no round trip
            try:
                if len(steps) == 1:  # one statement, or one pipeline: a transaction of its own
                    return await steps[0](raw)
                async with raw.transaction():
                    return [result for step in steps for result in await step(raw)]
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise IntegrityError(str(exc), None, exc) from exc
            except BAD_VALUE as exc:  # the caller's error, named as SQLAlchemy names it
                raise DataError(str(exc), None, exc) from exc

    def _steps(self, ops: list[WriteOp], batch: str) -> list[Step]:
        """The ops as round trips, in order: consecutive creates in one executemany, and
        consecutive updates of one shape (of different runs) in one pipelined fetchmany."""
        steps: list[Step] = []
        creates: list[tuple[Any, ...]] = []
        updates: list[tuple[str, str, tuple[Any, ...]]] = []  # (run id, sql, args)

        def close() -> None:
            if creates:
                steps.append(_Creates(self._insert, list(creates)))
                creates.clear()
            if updates:
                steps.append(_Updates(list(updates), self.to_run))
                updates.clear()

        for i, op in enumerate(ops):
            if op.create:
                if updates:
                    close()
                row = tuple(self._param(k, op.values[k]) for k in self._columns)
                creates.append((*row, batch, i))
                continue
            sql, args = self._update(op, batch, i)
            if creates or (
                updates and (updates[0][1] != sql or any(u[0] == op.run_id for u in updates))
            ):
                close()
            updates.append((op.run_id, sql, args))
        close()
        return steps

    def _param(self, key: str, value: Any) -> Any:
        return json_dumps(value) if key in self._json and value is not None else value

    def _update(self, op: WriteOp, batch: str, index: int) -> tuple[str, tuple[Any, ...]]:
        """The statement for a conditional update (with a finish's records) and its args."""
        plan = plan_update(op, self._param)
        plan.args["b_id"], plan.args["b_op"] = batch, index
        cached = self._updates.get(plan.shape)
        if cached is None:
            cached = self._update_sql(plan.shape, [t for t, _ in plan.groups])
            if len(self._updates) < MAX_SHAPES:
                self._updates[plan.shape] = cached
        sql, names = cached
        for i, rows in enumerate(plan.groups.values()):
            plan.args[f"r_{i}"] = json_dumps(rows)
        return sql, tuple(plan.args[n] for n in names)

    def _update_sql(
        self, shape: tuple[Any, ...], tables: Sequence[Table]
    ) -> tuple[str, tuple[str, ...]]:
        """UPDATE runs ... RETURNING *, with the batch's mark and each group of records
        inserted if a row matched."""
        params = Params("$")
        update = render_update(self.table, shape, params, lambda p: f"state = ANY({p}::varchar[])")
        ctes = [
            f"r AS ({update})",
            f"m AS (INSERT INTO {MARKS.name} (id, op, applied_at) SELECT "
            f"{params('b_id', '::varchar')}, {params('b_op', '::int')}, now() "
            "WHERE EXISTS (SELECT FROM r))",
        ]
        for i, (table, (_, cols)) in enumerate(zip(tables, shape[3], strict=True)):
            col_list = ", ".join(f'"{c}"' for c in cols)
            source = f"json_populate_recordset(NULL::{table.name}, {params(f'r_{i}', '::json')})"
            ctes.append(
                f"i{i} AS (INSERT INTO {table.name} ({col_list}) SELECT {col_list} "
                f"FROM {source} WHERE EXISTS (SELECT FROM r))"
            )
        return f"WITH {', '.join(ctes)} SELECT * FROM r", tuple(params.names)


class Step(Protocol):
    """One round trip of a batch: its results, one per op, in order."""

    async def __call__(self, raw: asyncpg.Connection) -> list[Any]: ...


@dataclass(slots=True)
class _Creates:
    sql: str
    rows: list[tuple[Any, ...]]

    async def __call__(self, raw: asyncpg.Connection) -> list[Any]:
        await raw.executemany(self.sql, self.rows)
        return [None] * len(self.rows)


@dataclass(slots=True)
class _Updates:
    """Updates of one shape: a row back for each run that matched, None for the others."""

    updates: list[tuple[str, str, tuple[Any, ...]]]
    to_run: Callable[[dict[str, Any]], Any]

    async def __call__(self, raw: asyncpg.Connection) -> list[Any]:
        sql = self.updates[0][1]
        if len(self.updates) == 1:
            row = await raw.fetchrow(sql, *self.updates[0][2])
            rows = [] if row is None else [row]
        else:
            rows = await raw.fetchmany(sql, [args for _, _, args in self.updates])
        by_id = {row["id"]: self.to_run(dict(row)) for row in rows}
        return [by_id.get(run_id) for run_id, _, _ in self.updates]
