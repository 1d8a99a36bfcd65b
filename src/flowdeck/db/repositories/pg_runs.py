"""Run-store writes on PostgreSQL sent straight through the pool's asyncpg connection.

Every other statement goes through SQLAlchemy; these few run for every run of a distributed
deployment, so their SQL is rendered once per shape from the table definitions and executed
without the per-call work of a Core execution (cache keys, parameter and row processors).
A run's finish and its monitor records are one statement (data-modifying CTEs): one round
trip, no BEGIN or COMMIT.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy import JSON, Table
from sqlalchemy.exc import IntegrityError

from flowdeck.db.database import Database, json_dumps
from flowdeck.db.raw import LOST, pg_connection
from flowdeck.db.repositories.run_sql import (
    MAX_SHAPES,
    Params,
    WriteOp,
    plan_update,
    render_insert,
    render_update,
)


class PgRunWriter:
    """Applies a batch of queued run-store writes in as few round trips as its shapes allow."""

    def __init__(self, db: Database, table: Table, to_run: Callable[[dict[str, Any]], Any]) -> None:
        self.db = db
        self.table = table
        self.to_run = to_run
        self._json = {c.key for c in table.columns if isinstance(c.type, JSON)}
        self._columns = tuple(c.key for c in table.columns)
        self._insert = render_insert(table, self._columns, "$")
        self._updates: dict[Any, tuple[str, tuple[str, ...]]] = {}

    async def apply(self, ops: list[WriteOp]) -> list[Any]:
        # Built once, before a connection is taken: a retry sends the same statements.
        steps = self._steps(ops)
        try:
            return await self._apply(steps)
        except LOST:
            return await self._apply(steps)

    async def _apply(self, steps: list[Step]) -> list[Any]:
        async with pg_connection(self.db) as raw:
            try:
                if len(steps) == 1:  # one statement, or one pipeline: a transaction of its own
                    return await steps[0](raw)
                async with raw.transaction():
                    return [result for step in steps for result in await step(raw)]
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise IntegrityError(str(exc), None, exc) from exc

    def _steps(self, ops: list[WriteOp]) -> list[Step]:
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

        for op in ops:
            if op.create:
                if updates:
                    close()
                creates.append(tuple(self._param(k, op.values[k]) for k in self._columns))
                continue
            sql, args = self._update(op)
            if creates or (
                updates and (updates[0][1] != sql or any(u[0] == op.run_id for u in updates))
            ):
                close()
            updates.append((op.run_id, sql, args))
        close()
        return steps

    def _param(self, key: str, value: Any) -> Any:
        return json_dumps(value) if key in self._json and value is not None else value

    def _update(self, op: WriteOp) -> tuple[str, tuple[Any, ...]]:
        """The statement for a conditional update (with a finish's records) and its args."""
        plan = plan_update(op, self._param)
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
        """UPDATE runs ... RETURNING *, with each group of records inserted if a row matched."""
        params = Params("$")
        update = render_update(self.table, shape, params, lambda p: f"state = ANY({p}::varchar[])")
        if not shape[3]:
            return update, tuple(params.names)
        ctes = [f"r AS ({update})"]
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
