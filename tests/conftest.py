"""Shared fixtures: a real app on a fresh database (SQLite, or PostgreSQL when asked)."""

from __future__ import annotations

import atexit
import functools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from flowdeck.api.app import create_app
from flowdeck.settings import Settings

# An app per module and a tenant per test (shared_app, platform, tenant).
pytest_plugins = ["tests.tenancy"]

# argon2 at its lowest cost in tests: at the production cost (0.14 s of CPU a hash or a check)
# the logins and users of the suite's set-ups took a third of its time. Every process the
# tests start gets the same: servers started with a clean environment add CHEAP_HASHING
# (or CHEAP_HASH_SETTINGS as their settings).
CHEAP_HASH_SETTINGS = {
    "password_hash_time_cost": "1",
    "password_hash_memory_kib": "64",
    "password_hash_parallelism": "1",
}
CHEAP_HASHING = {f"FLOWDECK_{k.upper()}": v for k, v in CHEAP_HASH_SETTINGS.items()}
os.environ.update(CHEAP_HASHING)

PG_ADMIN_URL = os.environ.get("FLOWDECK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN = ("admin", "admin-password")
# The tenant that tests which use the database without the app create their rows in.
TEST_TENANT = "00000000-0000-4000-8000-00000000000a"


def _pg_admin(*statements: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@functools.cache
def _pg_template() -> str:
    """A database at the newest schema, made once per test process and copied for each test.

    Creating sixty-odd tables on PostgreSQL takes most of a second; copying a database that
    holds them (CREATE DATABASE ... TEMPLATE) takes what creating an empty one does.
    """
    import asyncio

    from flowdeck.db.database import Database

    name = f"flowdeck_tmpl_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    atexit.register(_pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def migrate() -> None:
        db = Database(Settings(database_url=_pg_url(name)).db_url)
        try:
            await db.migrate()
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return name


def _pg_database(empty: bool = False) -> Iterator[str]:
    """A database of its own for this test, at the newest schema unless `empty`, then dropped."""
    name = f"flowdeck_test_{uuid.uuid4().hex[:12]}"
    template = "" if empty else f' TEMPLATE "{_pg_template()}"'
    # A test database need not survive a crash of the machine: commits skip the WAL flush.
    _pg_admin(
        f'CREATE DATABASE "{name}"{template}',
        f'ALTER DATABASE "{name}" SET synchronous_commit = off',
    )
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-protocol server (moto's) on a free loopback port, for the S3 storage backend."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


S3_KEYS = {"s3_access_key_id": "test-key", "s3_secret_access_key": "test-secret"}


def s3_bucket_name() -> str:
    return f"flowdeck-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'flowdeck.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        superuser=ADMIN[0],
        superuser_password=ADMIN[1],
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        max_concurrent_runs=16,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def anon(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no credentials."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    resp = await client.post("/api/v1/login", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["access_token"]
    return token


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client logged in as the superuser (bearer token)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        token = await login(c, *ADMIN)
        c.headers["Authorization"] = f"Bearer {token}"
        c.cookies.clear()
        yield c


@pytest.fixture
async def make_user(client: httpx.AsyncClient, app: FastAPI):  # type: ignore[no-untyped-def]
    """Create a user; returns a logged-in client for it."""
    clients: list[httpx.AsyncClient] = []

    async def _make(username: str, password: str = "pw-123456") -> httpx.AsyncClient:
        resp = await client.post(
            "/api/v1/users/", json={"username": username, "password": password}
        )
        assert resp.status_code == 201, resp.text
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        token = await login(c, username, password)
        c.headers["Authorization"] = f"Bearer {token}"
        c.cookies.clear()
        clients.append(c)
        return c

    yield _make
    for c in clients:
        await c.aclose()
