"""PostgreSQL connections of the hot paths: asyncpg's own pool beside SQLAlchemy's.

Imported only when the database is PostgreSQL: asyncpg takes a while to import, and a
server on SQLite never needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg

from flowdeck.db.database import Database, json_loads
from flowdeck.db.raw import RawQuery

# What a connection that broke under a statement raises: dropped by the server (a restart,
# pg_terminate_backend), a reset socket, or a protocol left mid-operation by either.
_BROKEN = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    OSError,
)


class ConnectionLost(Exception):
    """The connection failed under a statement: it may run again once on a fresh one."""


def is_lost(exc: BaseException, raw: asyncpg.Connection | None) -> bool:
    """Whether `exc` means the connection broke, rather than a statement or its arguments
    were wrong: those would fail again on any connection, so they are not retried.

    asyncpg's InterfaceError covers both: its subclasses (DataError for an argument it
    cannot encode, configuration and feature errors) never mean a lost connection; the bare
    class does when the connection is closed ("connection is closed"), and otherwise means
    misuse (an operation already in progress, a closed pool).
    """
    if not isinstance(exc, _BROKEN):
        return False
    if isinstance(exc, asyncpg.InterfaceError):
        return type(exc) is asyncpg.InterfaceError and raw is not None and _closed(raw)
    return True


def _closed(raw: asyncpg.Connection) -> bool:
    try:
        return bool(raw.is_closed())
    except asyncpg.InterfaceError:  # the pool detached it: its connection has closed
        return True


LOST = (ConnectionLost,)
# A value refused: by the server (SQLSTATE class 22: too long, out of range) or by asyncpg
# before sending (an argument it cannot encode), both asyncpg.DataError; `_base.DataError`,
# an InterfaceError, is the client-side one of other asyncpg versions.
BAD_VALUE = (asyncpg.DataError, asyncpg.exceptions._base.DataError)


_SQLALCHEMY_ONLY = (
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
    "async_creator_fn",
)
# Enough for a process's concurrent flow lookups; the run-store writer needs one.
POOL_SIZE = 8
_POOLS: dict[int, tuple[Database, asyncpg.Pool]] = {}


@asynccontextmanager
async def pg_connection(db: Database) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the database's asyncpg pool for the hot paths; a lost one is closed.

    Beside SQLAlchemy's pool, not through it: a checkout from the async engine costs about
    0.14 ms of CPU, several times the statement it is for; one from asyncpg's pool, a third
    of that. A broken connection raises ConnectionLost; any other error (an integrity or
    data error, say) passes as raised, and the connection stays in the pool.
    """
    try:
        pool = await _pool(db)
        raw = await pool.acquire()
    except _BROKEN as exc:
        if not is_lost(exc, None):  # an InterfaceError here is the pool refusing: closed
            raise
        raise ConnectionLost(str(exc)) from exc
    try:
        yield raw
    except _BROKEN as exc:
        if not is_lost(exc, raw):
            raise
        if not _closed(raw):
            raw.terminate()  # the pool opens a new one in its place
        raise ConnectionLost(str(exc)) from exc
    finally:
        with suppress(*_BROKEN):  # a broken connection is given back all the same
            await pool.release(raw)


async def _pool(db: Database) -> asyncpg.Pool:
    held = _POOLS.get(id(db))
    if held is not None and held[0] is db:
        return held[1]
    dialect = db.engine.sync_engine.dialect
    _, kwargs = dialect.create_connect_args(db.engine.url)
    for key in _SQLALCHEMY_ONLY:  # options SQLAlchemy's adapter takes, asyncpg.connect not
        kwargs.pop(key, None)
    pool = await asyncpg.create_pool(
        **kwargs, min_size=1, max_size=POOL_SIZE, init=_json_codecs, reset=_keep
    )
    held = _POOLS.get(id(db))
    if held is not None and held[0] is db:  # another task made one meanwhile
        await pool.close()
        return held[1]
    _POOLS[id(db)] = (db, pool)

    async def close() -> None:
        _POOLS.pop(id(db), None)
        await pool.close()

    def terminate() -> None:
        _POOLS.pop(id(db), None)
        pool.terminate()

    db.closers.append(close)
    db.terminators.append(terminate)
    return pool


async def _keep(conn: asyncpg.Connection) -> None:
    """No reset on release (asyncpg's default is a round trip per checkout): these
    statements leave no session state behind, and each transaction ends in its block."""


async def _json_codecs(conn: asyncpg.Connection) -> None:
    """JSON in and out as SQLAlchemy's asyncpg dialect sets it up: text in, our loads out."""
    await conn.set_type_codec(
        "json",
        encoder=str.encode,
        decoder=lambda b: json_loads(b.decode()),
        schema="pg_catalog",
        format="binary",
    )
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda s: b"\x01" + s.encode(),
        decoder=lambda b: json_loads(b[1:].decode()),
        schema="pg_catalog",
        format="binary",
    )


async def pg_fetch(db: Database, query: RawQuery, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of a read-only query, once more on a new connection if the first was lost."""
    args = query.args(params)
    for attempt in (1, 2):
        try:
            async with pg_connection(db) as raw:
                return [tuple(r) for r in await raw.fetch(query.sql, *args)]
        except LOST:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
