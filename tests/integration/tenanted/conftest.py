"""Tests here share an app per module and get a fresh tenant per test.

`client` is the administrator of the test's own tenant, `make_user` adds a developer to that
tenant, `anon` holds no credentials: the same names as the per-test app fixtures, so a module
moves here unchanged but for `pytestmark = pytest.mark.asyncio(loop_scope="module")`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from flowdeck.settings import Settings
from tests.integration.api import test_runs
from tests.tenancy import TenantWorld


@pytest.fixture(autouse=True)
def _flows_belong_to_the_tenant(tenant: TenantWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """add_flow stores flows for the test tenant's administrator."""
    monkeypatch.setattr(test_runs, "DEFAULT_OWNER", tenant.admin_name)


@pytest.fixture
def app(shared_app: FastAPI) -> FastAPI:
    return shared_app


@pytest.fixture
def settings(module_settings: Settings) -> Settings:
    return module_settings


@pytest.fixture
def client(tenant: TenantWorld) -> httpx.AsyncClient:
    return tenant.admin


@pytest.fixture
def anon(shared_anon: httpx.AsyncClient) -> httpx.AsyncClient:
    return shared_anon


@pytest.fixture
def make_user(tenant: TenantWorld) -> Callable[[str], Awaitable[httpx.AsyncClient]]:
    async def _make(username: str) -> httpx.AsyncClient:
        return await tenant.member("developer", name=username)

    return _make
