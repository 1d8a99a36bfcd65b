"""A SQLite file database used through a plain sqlite3 connection on a thread of its own.

aiosqlite moves every cursor call (execute, fetch, close, commit) to its thread and back;
a unit of work done here costs one hop instead. Used on the hot paths only (run writes,
flow lookups); everything else keeps the async engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from flowdeck.db.database import Database, SqliteTarget

T = TypeVar("T")


class ThreadedSqlite:
    """One sqlite3 connection and one thread; closed with the database's engine.

    Each instance is used from one thread at a time: its own (`write`) or the caller's
    (`fetch_here`), never both.
    """

    def __init__(self, target: SqliteTarget, db: Database, name: str) -> None:
        self.target = target
        self.dialect = db.engine.sync_engine.dialect
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self.thread = ThreadPoolExecutor(1, thread_name_prefix=name)
        event.listen(db.engine.sync_engine, "engine_disposed", self._close)

    @classmethod
    def of(cls, db: Database, name: str) -> ThreadedSqlite | None:
        """For a SQLite file database; None for PostgreSQL or an in-memory SQLite."""
        if db.sqlite is None or db.sqlite.path is None:
            return None
        return cls(db.sqlite, db, name)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            # Opened on first use, by whichever thread uses this instance.
            self._conn = self.target.connect()  # the URL's file or URI, as the engine opens it
        return self._conn

    def _close(self, _engine: Any) -> None:
        if self._closed:  # the engine may be disposed more than once
            return
        self._closed = True
        # Closed on the thread, after any write already queued there.
        self.thread.submit(self._close_conn)
        self.thread.shutdown(wait=False)

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """fn(connection) in a transaction, committed before this returns."""
        return await asyncio.get_running_loop().run_in_executor(self.thread, self._write, fn)

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self.conn
        try:
            result = fn(conn)
            conn.commit()
            return result
        except sqlite3.IntegrityError as exc:
            conn.rollback()
            raise IntegrityError(str(exc), None, exc) from exc  # as SQLAlchemy raises it
        except BaseException:
            conn.rollback()
            raise

    def fetch_here(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The rows of an indexed read of a row or two, on the caller's thread.

        Cheaper than the hop to the thread and back; in WAL mode a reader does not wait for
        the writer, so this does not stall the event loop.
        """
        return self.conn.execute(sql, args).fetchall()
