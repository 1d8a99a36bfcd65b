"""An app per test module and a fresh tenant per test: tenant isolation is test isolation.

Building an app, migrating its database and logging in costs far more than a test body, so a
module that uses `shared_app` pays it once, and each of its tests gets a `tenant` of its own:
a new tenant with its own administrator, which sees nothing another test made. A module using
these fixtures runs its tests on the module's event loop:

    pytestmark = pytest.mark.asyncio(loop_scope="module")
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from flowdeck.api.app import create_app
from flowdeck.settings import Settings
from tests.conftest import ADMIN, _pg_database, login


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'flowdeck.db'}"
    else:
        yield from _pg_database()


@pytest.fixture(scope="module")
def module_settings(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=Path(tmp_path_factory.mktemp("data")),
        database_url=module_database_url,
        superuser=ADMIN[0],
        superuser_password=ADMIN[1],
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        max_concurrent_runs=16,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_app(module_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(module_settings)
    async with application.router.lifespan_context(application):
        yield application


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def signed_in(app: FastAPI, username: str, password: str) -> httpx.AsyncClient:
    """A client holding a bearer token (and no cookie) for the user."""
    client = _client(app)
    client.headers["Authorization"] = f"Bearer {await login(client, username, password)}"
    client.cookies.clear()
    return client


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(shared_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The platform superuser of the shared app."""
    client = await signed_in(shared_app, *ADMIN)
    yield client
    await client.aclose()


@dataclass
class TenantWorld:
    """One tenant of the shared app: its id, its administrator, and members made on demand."""

    id: str
    admin: httpx.AsyncClient
    admin_name: str
    app: FastAPI
    platform: httpx.AsyncClient
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    last_name: str = ""

    async def member(self, role: str | None = "developer", name: str = "") -> httpx.AsyncClient:
        """A new user of this tenant holding exactly `role` here (None: no role at all)."""
        username = f"{name or 'user'}-{uuid.uuid4().hex[:8]}"
        self.last_name = username
        password = f"pw-{uuid.uuid4().hex}"
        in_here = {"Tenant-Id": self.id}
        made = await self.platform.post(
            "/api/v1/users/",
            json={"username": username, "password": password, "tenant_id": self.id},
            headers=in_here,
        )
        assert made.status_code == 201, made.text
        bindings = await self.platform.get(
            "/api/v1/tenants/user-roles", params={"search": username}, headers=in_here
        )
        assert bindings.status_code == 200, bindings.text
        held = {b["role_id"]: b["id"] for b in bindings.json() if b["username"] == username}
        for role_id, relation in held.items():
            if role_id != role:
                gone = await self.platform.delete(
                    f"/api/v1/tenants/user-roles/{relation}", headers=in_here
                )
                assert gone.status_code == 204, gone.text
        if role is not None and role not in held:
            bound = await self.platform.post(
                "/api/v1/tenants/user-roles",
                json={"tenant_id": self.id, "role_id": role, "username": username},
                headers=in_here,
            )
            assert bound.status_code == 201, bound.text
        client = await signed_in(self.app, username, password)
        self.clients.append(client)
        return client


async def new_tenant(app: FastAPI, platform: httpx.AsyncClient, name: str = "") -> TenantWorld:
    label = f"{name or 'tenant'}-{uuid.uuid4().hex[:8]}"
    made = await platform.post("/api/v1/tenants/", json={"tenant_name": label})
    assert made.status_code == 201, made.text
    world = TenantWorld(
        id=made.json()["tenant_id"], admin=platform, admin_name="", app=app, platform=platform
    )
    world.admin = await world.member("tenant_admin", name=f"{label}-admin")
    world.admin_name = world.last_name
    return world


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_anon(shared_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the shared app with no credentials."""
    async with _client(shared_app) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="module")
async def tenant(shared_app: FastAPI, platform: httpx.AsyncClient) -> AsyncIterator[TenantWorld]:
    """A fresh tenant of the module's app, with its own administrator."""
    world = await new_tenant(shared_app, platform)
    yield world
    for client in world.clients:
        await client.aclose()
