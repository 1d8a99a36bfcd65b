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
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg
from sqlalchemy import JSON, Table
from sqlalchemy.exc import IntegrityError

from flowdeck.db.base import group_rows, utcnow
from flowdeck.db.database import Database, json_dumps
from flowdeck.runs.store import Increment

if TYPE_CHECKING:
    from flowdeck.db.repositories.runs import _Op

# Failures of the connection itself: the statement runs again once on a fresh connection.
_LOST = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)


class PgRunWriter:
    """Applies a batch of queued run-store writes in as few round trips as its shapes allow."""

    def __init__(self, db: Database, table: Table, to_run: Callable[[dict[str, Any]], Any]) -> None:
        self.db = db
        self.table = table
        self.to_run = to_run
        self._json = {c.key for c in table.columns if isinstance(c.type, JSON)}
        self._insert = _insert_sql(table)
        self._columns = tuple(c.key for c in table.columns)
        self._updates: dict[Any, tuple[str, tuple[str, ...]]] = {}

    async def apply(self, ops: list[_Op]) -> list[Any]:
        # Built once, before a connection is taken: a retry sends the same statements.
        steps = self._steps(ops)
        try:
            return await self._apply(steps)
        except _LOST:
            return await self._apply(steps)

    async def _apply(self, steps: list[Step]) -> list[Any]:
        async with self.db.autocommit.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert isinstance(raw, asyncpg.Connection)
            try:
                if len(steps) == 1:  # one statement, or one pipeline: a transaction of its own
                    return await steps[0](raw)
                async with raw.transaction():
                    return [result for step in steps for result in await step(raw)]
            except _LOST:
                await conn.invalidate()
                raise
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise IntegrityError(str(exc), None, exc) from exc

    def _steps(self, ops: list[_Op]) -> list[Step]:
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
                creates.append(self._row(op.values))
                continue
            sql, args = self._update(op)
            if creates or (
                updates and (updates[0][1] != sql or any(u[0] == op.run_id for u in updates))
            ):
                close()
            updates.append((op.run_id, sql, args))
        close()
        return steps

    def _row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(self._param(k, values[k]) for k in self._columns)

    def _param(self, key: str, value: Any) -> Any:
        return json_dumps(value) if key in self._json and value is not None else value

    def _update(self, op: _Op) -> tuple[str, tuple[Any, ...]]:
        """The statement for a conditional update (with a finish's records) and its args."""
        values = dict(op.values)
        values["updated_at"] = utcnow()
        groups = group_rows(op.records)
        shape = (
            tuple((k, isinstance(v, Increment)) for k, v in values.items()),
            op.from_states is not None,
            op.fence is not None,
            tuple((table.name, cols) for table, cols in groups),
        )
        cached = self._updates.get(shape)
        if cached is None:
            cached = self._update_sql(shape, [t for t, _ in groups])
            if len(self._updates) < 512:  # shapes are few; never let odd ones pile up
                self._updates[shape] = cached
        sql, names = cached
        args: dict[str, Any] = {
            f"v_{k}": v.by if isinstance(v, Increment) else self._param(k, v)
            for k, v in values.items()
        }
        args["run_id"] = op.run_id
        if op.from_states is not None:
            args["states"] = list(op.from_states)
        if op.fence is not None:
            args["f_worker"], args["f_attempts"] = op.fence
        for i, (_, rows) in enumerate(groups.items()):
            args[f"r_{i}"] = json_dumps(rows)
        return sql, tuple(args[n] for n in names)

    def _update_sql(
        self, shape: tuple[Any, ...], tables: Sequence[Table]
    ) -> tuple[str, tuple[str, ...]]:
        """UPDATE runs ... RETURNING *, with each group of records inserted if a row matched."""
        keys, states, fence, groups = shape
        names: list[str] = []

        def param(name: str, cast: str = "") -> str:
            names.append(name)
            return f"${len(names)}{cast}"

        sets = ", ".join(
            f'"{k}" = "{k}" + {param(f"v_{k}")}' if add else f'"{k}" = {param(f"v_{k}")}'
            for k, add in keys
        )
        where = [f"id = {param('run_id')}"]
        if states:
            where.append(f"state = ANY({param('states', '::varchar[]')})")
        if fence:
            where.append(f"worker = {param('f_worker')} AND attempts = {param('f_attempts')}")
        update = f"UPDATE {self.table.name} SET {sets} WHERE {' AND '.join(where)} RETURNING *"
        if not groups:
            return update, tuple(names)
        ctes = [f"r AS ({update})"]
        for i, (table, (_, cols)) in enumerate(zip(tables, groups, strict=True)):
            col_list = ", ".join(f'"{c}"' for c in cols)
            source = f"json_populate_recordset(NULL::{table.name}, {param(f'r_{i}', '::json')})"
            ctes.append(
                f"i{i} AS (INSERT INTO {table.name} ({col_list}) SELECT {col_list} "
                f"FROM {source} WHERE EXISTS (SELECT FROM r))"
            )
        return f"WITH {', '.join(ctes)} SELECT * FROM r", tuple(names)


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


def _insert_sql(table: Table) -> str:
    cols = [c.key for c in table.columns]
    names = ", ".join(f'"{c}"' for c in cols)
    values = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return f"INSERT INTO {table.name} ({names}) VALUES ({values})"
