"""Small indexed reads that skip the ORM and the session: a few rows of plain columns.

Hot paths ask the database a light question on every request (has this flow changed? which
stored components does this flow name?); through a session on aiosqlite that is several
thread hand-offs. Here each statement is compiled once; on a SQLite file it runs on a sqlite3
connection of its own on the caller's thread (WAL: a reader does not wait for the writer),
on PostgreSQL through asyncpg, on an in-memory SQLite through the engine.
"""

from __future__ import annotations

from typing import Any

from flowdeck.db.database import Database
from flowdeck.db.raw import RawQuery
from flowdeck.db.threaded import ThreadedSqlite


class FastReader:
    """Rows of compiled statements; one instance per owner (its own SQLite connection)."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self._sqlite = ThreadedSqlite.of(db, name)
        self._queries: dict[Any, RawQuery] = {}

    async def rows(self, stmt: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of `stmt` (a statement built once per shape) with `params`."""
        query = self._queries.get(stmt)
        if query is None:  # a handful of shapes, each compiled once
            query = self._queries[stmt] = RawQuery(stmt, self.db.engine.sync_engine.dialect)
        if self._sqlite is not None:
            return self._sqlite.fetch_here(query.sql, query.args(params))
        if self.db.is_sqlite:  # an in-memory database
            return [tuple(r) for r in await self.db.read(stmt, params)]
        from flowdeck.db.pg import pg_fetch  # asyncpg, on PostgreSQL alone

        return await pg_fetch(self.db, query, params)
