"""Revoking tokens (logout, password change) in this and other processes; the password policy."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import ADMIN

from flowdeck.api.app import create_app
from flowdeck.auth.secrets import configure_password_hashing
from flowdeck.db.database import Database
from flowdeck.db.models import User
from flowdeck.settings import Settings, SettingsError, load_settings

REDIS_URL = os.environ.get("FLOWDECK_TEST_REDIS", "redis://127.0.0.1:6379/0")


async def _login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    resp = await client.post("/api/v1/login", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    client.cookies.clear()
    tokens: dict[str, Any] = resp.json()
    return tokens


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _whoami(client: httpx.AsyncClient, tokens: dict[str, Any]) -> int:
    return (await client.get("/api/v1/users/whoami", headers=_bearer(tokens))).status_code


async def _refresh(client: httpx.AsyncClient, tokens: dict[str, Any]) -> int:
    resp = await client.post("/api/v1/refresh", json={"refresh_token": tokens["refresh_token"]})
    client.cookies.clear()
    return resp.status_code


async def test_logout_revokes_access_and_refresh_tokens(anon: httpx.AsyncClient) -> None:
    tokens = await _login(anon, *ADMIN)
    assert await _whoami(anon, tokens) == 200
    resp = await anon.post("/api/v1/logout", headers=_bearer(tokens))
    assert resp.status_code == 200
    assert await _whoami(anon, tokens) == 401
    assert await _refresh(anon, tokens) == 401
    # A new login is a new session.
    assert await _whoami(anon, await _login(anon, *ADMIN)) == 200


async def test_logout_by_cookie_revokes_and_clears_the_cookies(anon: httpx.AsyncClient) -> None:
    login = await anon.post("/api/v1/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    tokens = login.json()
    assert (await anon.get("/api/v1/users/whoami")).status_code == 200  # by cookie
    resp = await anon.post("/api/v1/logout")
    assert resp.status_code == 200
    cleared = resp.headers.get_list("set-cookie")
    assert any(c.startswith('access_token_lf=""') and "Max-Age=0" in c for c in cleared)
    assert any(c.startswith('refresh_token_lf=""') and "Max-Age=0" in c for c in cleared)
    assert await _whoami(anon, tokens) == 401
    assert await _refresh(anon, tokens) == 401


async def test_logout_without_a_valid_token_only_clears_cookies(anon: httpx.AsyncClient) -> None:
    tokens = await _login(anon, *ADMIN)
    resp = await anon.post("/api/v1/logout", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 200
    assert await _whoami(anon, tokens) == 200


async def test_password_change_revokes_tokens(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, make_user: Any
) -> None:
    await make_user("alice")
    tokens = await _login(anon, "alice", "pw-123456")
    user_id = (await anon.get("/api/v1/users/whoami", headers=_bearer(tokens))).json()["id"]
    changed = await anon.patch(
        f"/api/v1/users/{user_id}", json={"password": "new-pw-123"}, headers=_bearer(tokens)
    )
    assert changed.status_code == 200, changed.text
    assert await _whoami(anon, tokens) == 401
    assert await _refresh(anon, tokens) == 401
    fresh = await _login(anon, "alice", "new-pw-123")
    # A superuser's reset revokes them too; other changes do not.
    assert (
        await client.patch(f"/api/v1/users/{user_id}", json={"nickname": "Al"})
    ).status_code == 200
    assert await _whoami(anon, fresh) == 200
    reset = await client.patch(
        f"/api/v1/users/{user_id}/reset-password", json={"password": "reset-pw-123"}
    )
    assert reset.status_code == 200, reset.text
    assert await _whoami(anon, fresh) == 401
    assert await _refresh(anon, fresh) == 401
    assert await _whoami(anon, await _login(anon, "alice", "reset-pw-123")) == 200


@asynccontextmanager
async def _instance(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Another API process's app on the same database, with a client of its own."""
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def _revoked_within(client: httpx.AsyncClient, tokens: dict[str, Any], limit: float) -> None:
    """Poll until `client`'s process refuses the token; fail after `limit` seconds."""
    start = time.monotonic()
    while await _whoami(client, tokens) == 200:
        assert time.monotonic() - start < limit, "the other process still accepts the token"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("redis", [False, True], ids=["cache-expiry", "redis"])
async def test_another_process_sees_the_revocation(settings: Settings, redis: bool) -> None:
    prefix = f"fdtest-{uuid.uuid4().hex[:8]}"
    # Without Redis the other process trusts its cached user for auth_cache_seconds; with
    # Redis it is told at once, so a long cache lifetime must not matter.
    update: dict[str, Any] = (
        {"redis_url": REDIS_URL, "redis_prefix": prefix, "auth_cache_seconds": 60.0}
        if redis
        else {"auth_cache_seconds": 0.5}
    )
    shared = settings.model_copy(update=update)
    async with _instance(shared) as first, _instance(shared) as second:
        tokens = await _login(first, *ADMIN)
        assert await _whoami(second, tokens) == 200  # cached there now
        assert (await first.post("/api/v1/logout", headers=_bearer(tokens))).status_code == 200
        assert await _whoami(first, tokens) == 401  # at once where it was done
        # Polled for far less than the 60 s cache lifetime of the Redis case.
        await _revoked_within(second, tokens, 5.0)
        assert await _refresh(second, tokens) == 401


async def test_password_policy_on_create_update_and_reset(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    short = await client.post("/api/v1/users/", json={"username": "bob", "password": "seven77"})
    assert short.status_code == 422
    body = short.json()
    assert body["field"] == "password"
    assert body["code"] == "weak_password"
    assert "8 characters" in body["message"]
    same = await client.post(
        "/api/v1/users/", json={"username": "Bobby-Tables", "password": "bobby-tables"}
    )
    assert same.status_code == 422
    assert same.json()["field"] == "password"
    alice = await make_user("alice")
    me = (await alice.get("/api/v1/users/whoami")).json()
    for path in (f"/api/v1/users/{me['id']}", f"/api/v1/users/{me['id']}/reset-password"):
        resp = await alice.patch(path, json={"password": "short"})
        assert resp.status_code == 422, resp.text
        assert resp.json()["field"] == "password"
    # A new username is what the password is compared with.
    renamed = await alice.patch(
        f"/api/v1/users/{me['id']}", json={"username": "carol-123", "password": "CAROL-123"}
    )
    assert renamed.status_code == 422
    assert (await alice.get("/api/v1/users/whoami")).status_code == 200  # nothing changed


async def test_password_min_length_setting(settings: Settings) -> None:
    async with _instance(settings.model_copy(update={"password_min_length": 12})) as c:
        tokens = await _login(c, *ADMIN)
        resp = await c.post(
            "/api/v1/users/",
            json={"username": "dan", "password": "elevenchars"},
            headers=_bearer(tokens),
        )
        assert resp.status_code == 422
        assert "12 characters" in resp.json()["message"]
        ok = await c.post(
            "/api/v1/users/",
            json={"username": "dan", "password": "twelve-chars"},
            headers=_bearer(tokens),
        )
        assert ok.status_code == 201, ok.text


def test_superuser_password_from_settings_follows_the_policy() -> None:
    with pytest.raises(SettingsError, match="FLOWDECK_SUPERUSER_PASSWORD must be at least 8"):
        load_settings(superuser_password="short")
    with pytest.raises(SettingsError, match="must not be the username"):
        load_settings(superuser="root-user", superuser_password="Root-User")
    assert load_settings(superuser_password="long enough").superuser_password == "long enough"


async def test_app_with_auto_login_and_no_password_starts(settings: Settings) -> None:
    update = {"auto_login": True, "superuser_password": "", "superuser": "solo"}
    async with _instance(settings.model_copy(update=update)) as c:
        assert (await c.get("/api/v1/auto_login")).status_code == 200
        # The auto-login user's password is random: not its username.
        bad = await c.post("/api/v1/login", data={"username": "solo", "password": "solo"})
        assert bad.status_code == 401


async def test_a_login_rehashes_a_password_stored_at_another_argon2_cost(
    settings: Settings,
) -> None:
    async with _instance(settings) as cheap:
        assert (await cheap.post("/api/v1/login", data=_form(*ADMIN))).status_code == 200
    dearer = settings.model_copy(
        update={"password_hash_time_cost": 2, "password_hash_memory_kib": 128}
    )
    try:
        async with _instance(dearer) as client:
            assert (await client.post("/api/v1/login", data=_form(*ADMIN))).status_code == 200
            db = Database(settings.db_url)
            try:
                query = select(User.password_hash).where(User.username == ADMIN[0])
                async with db.session() as session:
                    stored = (await session.execute(query)).scalar_one()
            finally:
                await db.dispose()
            assert "m=128,t=2," in stored
            # The new hash checks, and the next login has nothing left to rehash.
            assert (await client.post("/api/v1/login", data=_form(*ADMIN))).status_code == 200
    finally:
        configure_password_hashing(
            settings.password_hash_time_cost,
            settings.password_hash_memory_kib,
            settings.password_hash_parallelism,
        )


def _form(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}


def test_argon2_memory_needs_8_kib_per_lane() -> None:
    with pytest.raises(SettingsError, match="FLOWDECK_PASSWORD_HASH_MEMORY_KIB"):
        load_settings(password_hash_memory_kib=32, password_hash_parallelism=8)
