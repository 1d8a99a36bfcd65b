"""The database handle: async engine, sessions, and migrations applied at start."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("flowdeck.db")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    """What sqlite3.connect is given for a SQLite URL, as SQLAlchemy's dialect reads it.

    A URL may name a file (`sqlite:///path`) or be a SQLite URI (`sqlite:///file:path?
    mode=rwc&uri=true`, whose options SQLite applies); connections of our own (threaded.py)
    open the same thing the engine does.
    """

    database: str
    uri: bool
    timeout: float
    path: Path | None  # the file on disk; None in memory

    @classmethod
    def of(cls, url: str) -> SqliteTarget:
        parsed = make_url(url)
        args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
        database, uri = str(args[0]), bool(kwargs.get("uri"))
        path: Path | None = None
        if uri:
            from urllib.parse import parse_qs, unquote, urlsplit

            parts = urlsplit(database)
            if "memory" not in parse_qs(parts.query).get("mode", []) and parts.path:
                path = Path(unquote(parts.path))
        elif database and database != ":memory:":
            path = Path(database)
        return cls(database, uri, float(kwargs.get("timeout", 30)), path)

    def connect(self) -> sqlite3.Connection:
        """A plain sqlite3 connection to it, usable from any thread, with our pragmas."""
        conn = sqlite3.connect(
            self.database, timeout=self.timeout, check_same_thread=False, uri=self.uri
        )
        _sqlite_pragmas(conn, None)
        return conn

    @property
    def is_new(self) -> bool:
        """A file not made yet (or left empty): nothing in it to migrate."""
        return self.path is not None and (not self.path.exists() or not self.path.stat().st_size)


class Database:
    """One per process: the engine, a session factory, and schema upgrades."""

    def __init__(self, url: str, *, echo: bool = False, close_timeout: float = 5.0) -> None:
        self.url = url
        self.close_timeout = close_timeout
        self.is_sqlite = url.startswith("sqlite")
        self.sqlite = SqliteTarget.of(url) if self.is_sqlite else None
        kwargs: dict[str, Any] = {
            "echo": echo,
            "json_serializer": json_dumps,
            "json_deserializer": json_loads,
        }
        if self.sqlite is not None:
            # Each aiosqlite connection is a thread: keep enough of them open that bursts of
            # requests do not open and close connections (run writes have their own writer).
            kwargs["connect_args"] = {"timeout": self.sqlite.timeout}
            if self.sqlite.path is not None:
                kwargs.update(pool_size=20, max_overflow=20)
        else:
            # Enough connections for a worker's concurrent runs: an overflow connection is
            # closed when given back, and opening one costs far more than keeping it. No
            # pre-ping (a round trip per checkout): a dropped connection fails one statement,
            # the pool then replaces its connections, and `retrying` runs it again.
            kwargs.update(pool_size=32, max_overflow=64, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        # A single statement needs no transaction around it: on PostgreSQL that saves the
        # BEGIN and COMMIT (or ROLLBACK) round trips.
        self.autocommit: AsyncEngine = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # ORM reads of a row or two, with no transaction around them.
        self.read_sessions = async_sessionmaker(self.autocommit, expire_on_commit=False)
        # Closed before the engine (the hot paths' own connections, `pg.pg_connection`);
        # the terminators end them without a word to the server when closing takes too long.
        self.closers: list[Callable[[], Awaitable[None]]] = []
        self.terminators: list[Callable[[], None]] = []
        # The engine's asyncpg connections, checked in or out, to terminate in that case.
        self._drivers: weakref.WeakSet[Any] = weakref.WeakSet()
        if not self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", self._track)

    def _track(self, dbapi_conn: Any, _record: Any) -> None:
        self._drivers.add(dbapi_conn.driver_connection)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def read(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """The rows of one read-only statement, outside any transaction."""
        return await retrying(lambda: self._read(stmt, params))

    async def _read(self, stmt: Any, params: dict[str, Any] | None) -> list[Any]:
        async with self.autocommit.connect() as conn:
            return list(await conn.execute(stmt, params))

    async def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        if self.sqlite is not None and self.sqlite.path is not None:
            self.sqlite.path.parent.mkdir(parents=True, exist_ok=True)
        if self.is_sqlite:
            await self._migrate_sqlite()
            return
        async with self.engine.begin() as conn:
            from sqlalchemy import text

            # Several processes may start at once; one migrates, the others then find it done.
            await conn.execute(text("SELECT pg_advisory_xact_lock(7860)"))
            await conn.run_sync(_upgrade)

    async def _migrate_sqlite(self) -> None:
        if self.sqlite is not None and self.sqlite.is_new:
            await asyncio.to_thread(_create_sqlite, self.sqlite)
            return
        # SQLite rebuilds a table to change it; with foreign keys on, dropping the old table
        # would cascade into every table that refers to it. They are off for the migration
        # (a pragma that only takes effect outside a transaction) and checked before commit.
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()  # SQLAlchemy began a transaction; sqlite3 itself did not
            try:
                async with conn.begin():
                    await conn.run_sync(_upgrade)
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration left broken references: {broken[:5]}")
            finally:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every connection, gracefully for up to `close_timeout` seconds.

        A graceful close waits for the server (and for connections still in use); on a
        server that went away without closing its sockets that is forever. Past the timeout
        every connection is terminated: its socket closed, nothing more sent.
        """
        closers, self.closers = self.closers, []
        terminators, self.terminators = self.terminators, []
        try:
            async with asyncio.timeout(self.close_timeout):
                for close in closers:
                    await close()
                await self.engine.dispose()
        except TimeoutError:
            log.warning("database connections not closed in %.1f s; terminated", self.close_timeout)
            for terminate in terminators:
                terminate()
            for conn in list(self._drivers):
                conn.terminate()
            await self.engine.dispose(close=False)


def json_dumps(value: Any) -> str:
    """JSON text of a column value: orjson where it can (several times faster), else json."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson refuses (an integer over 64 bits, say) json may take
        return json.dumps(value)


def json_loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, or an integer over 64 bits, that json wrote
        return json.loads(text)


async def retrying(call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, once more if it failed on a connection the database had dropped."""
    try:
        return await call()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("database connection lost; retrying on a new one")
        return await call()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets readers run beside the writer; NORMAL sync is durable across app crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _create_sqlite(target: SqliteTarget) -> None:
    """A new SQLite file's schema, on a plain sqlite3 connection in the calling thread.

    Through aiosqlite each of the hundred-odd statements would be a hand-off to its thread
    and back: a quarter of a second of a first start.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine("sqlite://", creator=target.connect, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            _upgrade(conn)
    finally:
        engine.dispose()


def _upgrade(conn: Connection) -> None:
    """Upgrade with Alembic, unless the schema is current or the database is empty.

    Importing and running Alembic costs a few hundred milliseconds at every start, so a
    database already at the head revision is left as is, and an empty one gets the tables
    from the models (which the migrations produce; tests/unit/db compares the two) and is
    stamped with the head revision. Any other database is upgraded by the migrations.
    """
    from sqlalchemy import inspect

    head = _head_revision()
    tables = set(inspect(conn).get_table_names())
    if head is not None and VERSION_TABLE in tables:
        rows = conn.execute(_version_table().select()).scalars().all()
        if rows == [head]:
            return
    elif head is not None and not tables:
        _create_schema(conn, head)
        return
    _alembic_upgrade(conn)


def _alembic_upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


VERSION_TABLE = "alembic_version"
_REVISION = r"^(down_revision|revision)\b[^=]*=\s*(.+?)\s*$"


def _head_revision() -> str | None:
    """The single head of the migration scripts, read from their files; None if unclear."""
    import re

    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((m[0], m[1]) for m in re.findall(_REVISION, script.read_text(), re.MULTILINE))
        revision, parent = found.get("revision", ""), found.get("down_revision", "")
        if not _is_literal(revision) or not (parent == "None" or _is_literal(parent)):
            return None  # a merge (tuple) or a computed value: let Alembic decide
        revisions.add(revision[1:-1])
        if parent != "None":
            parents.add(parent[1:-1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _is_literal(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" and "," not in value


def _version_table() -> Any:
    """Alembic's own version table, as `alembic stamp` creates it."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

    return Table(
        VERSION_TABLE,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )


def _create_schema(conn: Connection, head: str) -> None:
    """A fresh database: every table from the models, stamped at the head revision."""
    import flowdeck.db.models  # noqa: F401  (registers every table)
    from flowdeck.db.base import Base

    Base.metadata.create_all(conn)
    version = _version_table()
    version.create(conn)
    conn.execute(version.insert().values(version_num=head))
