"""Run-store writes on a SQLite file, sent straight to sqlite3 on the writer's thread.

The SQL is rendered once per shape from the table definitions; values are converted by
SQLAlchemy's own type processors (dates as text, JSON as text), so rows read back either
way are the same. A batch is one transaction, committed by the caller. The connection is
any DB-API one: sqlite3's on the writer thread, or aiosqlite's adapted one for an
in-memory database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from flowdeck.db.database import json_dumps
from flowdeck.db.raw import Processors
from flowdeck.db.repositories.run_sql import (
    MAX_SHAPES,
    Params,
    WriteOp,
    plan_update,
    render_insert,
    render_update,
)


class SqliteRunWriter:
    """Applies queued run-store writes in order on one sqlite3 connection."""

    def __init__(self, table: Table, dialect: Dialect, to_run: Callable[[dict[str, Any]], Any]):
        self.table = table
        self.dialect = dialect
        self.to_run = to_run
        self.runs = Processors(table, dialect)
        self._insert = render_insert(table, self.runs.columns, "?")
        self._returning = ", ".join(f'"{c}"' for c in self.runs.columns)
        self._updates: dict[Any, tuple[str, tuple[str, ...]]] = {}
        self._tables: dict[Table, Processors] = {table: self.runs}
        self._records: dict[tuple[Table, tuple[str, ...]], tuple[Processors, str]] = {}

    def apply(self, conn: Any, ops: list[WriteOp]) -> list[Any]:
        """Apply the ops in order in the connection's transaction: one result per op."""
        cur = conn.cursor()
        results: list[Any] = []
        creates: list[tuple[Any, ...]] = []
        for op in ops:
            if op.create:
                creates.append(tuple(self.runs.param(k, op.values[k]) for k in self.runs.columns))
                results.append(None)
                continue
            if creates:  # consecutive creates go in one executemany, before what follows
                cur.executemany(self._insert, creates)
                creates = []
            results.append(self._update(cur, op))
        if creates:
            cur.executemany(self._insert, creates)
        return results

    def _update(self, cur: Any, op: WriteOp) -> Any:
        plan = plan_update(op, self.runs.param)
        cached = self._updates.get(plan.shape)
        if cached is None:
            params = Params("?")
            # States as one JSON array parameter: one statement whatever their number.
            sql = render_update(
                self.table,
                plan.shape,
                params,
                lambda p: f"state IN (SELECT value FROM json_each({p}))",
                self._returning,
            )
            cached = sql, tuple(params.names)
            if len(self._updates) < MAX_SHAPES:
                self._updates[plan.shape] = cached
        sql, names = cached
        if "states" in plan.args:
            plan.args["states"] = json_dumps(plan.args["states"])
        cur.execute(sql, tuple(plan.args[n] for n in names))
        row = cur.fetchone()
        if row is None:
            return None
        for (table, cols), rows in plan.groups.items():
            procs, sql = self._inserts(table, cols)
            cur.executemany(sql, [tuple(procs.param(c, r[c]) for c in cols) for r in rows])
        return self.to_run(self.runs.row(tuple(row)))

    def _inserts(self, table: Table, cols: tuple[str, ...]) -> tuple[Processors, str]:
        """A monitor table's processors and its INSERT for this set of columns."""
        hit = self._records.get((table, cols))
        if hit is None:
            procs = self._tables.get(table) or Processors(table, self.dialect)
            self._tables[table] = procs
            hit = procs, render_insert(table, cols, "?")
            if len(self._records) < MAX_SHAPES:
                self._records[(table, cols)] = hit
        return hit
