"""Database handles under faults that are not a dropped connection, and SQLite URIs.

A bad value is the caller's error, not a lost connection (no retry, the connection kept);
closing the pools on a server that stopped answering is bounded; a SQLite URI URL is
honoured by the engine and by the raw sqlite3 connections of the hot paths alike.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DataError

from flowdeck.db.database import Database, SqliteTarget
from flowdeck.db.models import Run, Tenant
from flowdeck.db.pg import ConnectionLost, is_lost, pg_connection
from flowdeck.db.repositories.runs import SqlRunStore
from flowdeck.settings import Settings
from tests.conftest import TEST_TENANT, _pg_database
from tests.integration.pg_proxy import pg_proxy


def new_run() -> Run:
    return Run(tenant_id=TEST_TENANT, flow_type="automation", trigger="api", state="queued")


async def _tenant(db: Database) -> None:
    async with db.session() as session:
        session.add(Tenant(id=TEST_TENANT, name="t", code="t", settings={}))


@pytest.fixture
def database_url() -> Iterator[str]:
    """PostgreSQL only, for the `db` fixture (the SQLite tests here make their own)."""
    yield from _pg_database()


@pytest.fixture
def pg(db: Database) -> Database:
    return db


async def _backend(db: Database) -> int:
    async with pg_connection(db) as raw:
        pid: int = await raw.fetchval("SELECT pg_backend_pid()")
        return pid


@pytest.mark.postgres
async def test_bad_values_are_data_errors_not_lost_connections(pg: Database) -> None:
    store = SqlRunStore(pg)
    run = new_run()
    await store.create(run)
    before = await _backend(pg)
    # Refused by asyncpg before sending (a float column given text), then by the server
    # (too long for the column): each the caller's error, raised once.
    with pytest.raises(DataError) as client_side:
        await store.update(run.id, {"progress": "not a number"})
    assert isinstance(client_side.value.orig, asyncpg.DataError)
    with pytest.raises(DataError) as server_side:
        await store.update(run.id, {"state": "x" * 40})
    assert isinstance(server_side.value.orig, asyncpg.StringDataRightTruncationError)
    # Not taken for a lost connection: it stays in the pool, and the run is untouched.
    assert await _backend(pg) == before
    stored = await store.get(run.id)
    assert stored is not None
    assert (stored.state, stored.progress) == ("queued", 0.0)


@pytest.mark.postgres
async def test_only_a_closed_connection_makes_an_interface_error_a_loss(pg: Database) -> None:
    async with pg_connection(pg) as raw:
        busy = asyncpg.InterfaceError("cannot perform operation: another operation is in progress")
        assert not is_lost(busy, raw)
        assert not is_lost(asyncpg.exceptions._base.DataError("bad argument"), raw)
        assert is_lost(asyncpg.ConnectionDoesNotExistError("closed mid-operation"), raw)
    raw_conn = await asyncpg.connect(
        pg.engine.url.set(drivername="postgresql").render_as_string(False)
    )
    await raw_conn.close()
    assert is_lost(asyncpg.InterfaceError("connection is closed"), raw_conn)
    # A misuse inside the block passes as raised, not as ConnectionLost.
    with pytest.raises(asyncpg.InterfaceError):
        async with pg_connection(pg) as raw:
            await asyncio.gather(raw.fetchval("SELECT pg_sleep(0.05)"), raw.fetchval("SELECT 1"))


@pytest.mark.postgres
async def test_closing_on_a_server_that_stopped_answering_is_bounded(
    pg: Database, database_url: str
) -> None:
    async with pg_proxy(database_url) as proxy:
        db = Database(proxy.url(pg.url), close_timeout=1)
        assert await _backend(db) > 0  # the hot paths' pool is open
        async with db.engine.connect() as conn:  # and the engine's, one connection idle
            await conn.execute(text("SELECT 1"))
        proxy.freeze()  # nothing gets through any more; no socket is closed

        async def engine_query() -> None:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        stuck = [asyncio.ensure_future(_backend(db)), asyncio.ensure_future(engine_query())]
        await asyncio.sleep(0.3)
        assert not any(task.done() for task in stuck)
        started = time.monotonic()
        await db.dispose()
        assert time.monotonic() - started < 2.5
        # Their connections were terminated: the statements fail instead of waiting forever.
        done, _ = await asyncio.wait(stuck, timeout=2)
        assert done == set(stuck)
        assert isinstance(stuck[0].exception(), ConnectionLost)
        assert stuck[1].exception() is not None


def _uri_url(path: Path, mode: str) -> str:
    return Settings(database_url=f"sqlite:///file:{path}?mode={mode}&uri=true").db_url


async def test_a_sqlite_uri_url_is_honoured_by_every_connection(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "flowdeck.db"
    assert SqliteTarget.of(_uri_url(path, "rwc")) == SqliteTarget(
        f"file:{path}?mode=rwc", True, 30.0, path
    )
    db = Database(_uri_url(path, "rwc"))
    await db.migrate()  # makes the directory of the URI's file, not one named "file:..."
    await _tenant(db)
    store = SqlRunStore(db)
    assert store._sqlite is not None  # run writes go through a raw sqlite3 connection
    run = new_run()
    await store.create(run)
    await db.dispose()
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT id FROM runs").fetchall() == [(run.id,)]

    # mode=ro: the engine reads, and the raw writer is refused as SQLite refuses any writer.
    ro = Database(_uri_url(path, "ro"))
    try:
        async with ro.session() as session:
            assert list(await session.scalars(select(Run.id))) == [run.id]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await SqlRunStore(ro).create(new_run())
    finally:
        await ro.dispose()


def test_a_sqlite_uri_in_memory_has_no_file() -> None:
    url = "sqlite+aiosqlite:///file:mem1?mode=memory&cache=shared&uri=true"
    assert SqliteTarget.of(url).path is None
    assert SqliteTarget.of("sqlite+aiosqlite:///:memory:").path is None
