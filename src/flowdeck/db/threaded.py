"""A SQLite file database used through a plain sqlite3 connection on a thread of its own.

aiosqlite moves every cursor call (execute, fetch, close, commit) to its thread and back;
a unit of work done here costs one hop instead. Used on the hot paths only (run writes,
flow lookups); everything else keeps the async engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event

from flowdeck.db.database import Database, _sqlite_pragmas, json_dumps, json_loads

T = TypeVar("T")


class ThreadedSqlite:
    """One sync connection and one thread; closed with the database's engine."""

    def __init__(self, path: str, db: Database, name: str) -> None:
        self.engine = create_engine(
            "sqlite:///" + path,
            connect_args={"timeout": 30},
            pool_size=1,
            max_overflow=0,
            json_serializer=json_dumps,
            json_deserializer=json_loads,
        )
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self.thread = ThreadPoolExecutor(1, thread_name_prefix=name)
        event.listen(db.engine.sync_engine, "engine_disposed", self._close)

    @classmethod
    def of(cls, db: Database, name: str) -> ThreadedSqlite | None:
        """For a SQLite file database; None for PostgreSQL or an in-memory SQLite."""
        path = db.url.split("///", 1)[-1] if db.is_sqlite else ""
        if not path or ":memory:" in path or "mode=memory" in path:
            return None
        return cls(path, db, name)

    def _close(self, _engine: Any) -> None:
        self.engine.dispose()
        self.thread.shutdown(wait=False)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """fn(connection) in a transaction, committed before this returns."""
        return await asyncio.get_running_loop().run_in_executor(self.thread, self._write, fn)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.thread, self._read, fn)

    def read_here(self, fn: Callable[[Connection], T]) -> T:
        """fn(connection) on the caller's thread, for an indexed read of a row or two.

        Cheaper than the hop to the thread and back; in WAL mode a reader does not wait for
        the writer, so this does not stall the event loop. Use only from one thread.
        """
        return self._read(fn)

    def _write(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.begin() as conn:
            return fn(conn)

    def _read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            try:
                return fn(conn)
            finally:
                conn.rollback()
