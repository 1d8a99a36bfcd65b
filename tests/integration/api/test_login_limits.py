"""Failed logins are limited per username and per client address, in this or every process."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from bench._util import median_time
from redis.asyncio import Redis
from tests.conftest import ADMIN

from flowdeck.api.app import create_app
from flowdeck.auth import passwords
from flowdeck.auth.secrets import configure_password_hashing, hash_password
from flowdeck.services.login_limits import (
    LoginLimiter,
    LoginLimits,
    MemoryLoginLimiter,
    RedisLoginLimiter,
)
from flowdeck.settings import Settings, load_settings

REDIS_URL = os.environ.get("FLOWDECK_TEST_REDIS", "redis://127.0.0.1:6379/0")
LIMITS = {"login_max_attempts": 3, "login_max_attempts_per_address": 5, "login_window_seconds": 60}


@asynccontextmanager
async def _instance(settings: Settings, **update: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={**LIMITS, **update}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def _login(c: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await c.post("/api/v1/login", data={"username": username, "password": password})


async def test_failures_per_username_lead_to_429_with_retry_after(settings: Settings) -> None:
    async with _instance(settings) as c:
        for _ in range(3):
            assert (await _login(c, ADMIN[0], "wrong-password")).status_code == 401
        blocked = await _login(c, ADMIN[0], ADMIN[1])  # even the right password now
        assert blocked.status_code == 429
        assert blocked.json()["code"] == "too_many_attempts"
        assert 0 < int(blocked.headers["retry-after"]) <= 60


async def test_a_success_resets_the_username_count(settings: Settings) -> None:
    async with _instance(settings, login_max_attempts_per_address=100) as c:
        for _ in range(2):
            for _ in range(2):
                assert (await _login(c, ADMIN[0], "wrong-password")).status_code == 401
            assert (await _login(c, ADMIN[0], ADMIN[1])).status_code == 200


async def test_failures_per_address_cover_every_username(settings: Settings) -> None:
    async with _instance(settings, login_max_attempts_per_address=3) as c:
        for i in range(3):
            assert (await _login(c, f"nobody-{i}", "wrong-password")).status_code == 401
        assert (await _login(c, ADMIN[0], ADMIN[1])).status_code == 429


async def test_counts_are_shared_through_redis(settings: Settings) -> None:
    prefix = f"fdtest-{uuid.uuid4().hex[:8]}"
    shared = {"redis_url": REDIS_URL, "redis_prefix": prefix}
    async with _instance(settings, **shared) as first, _instance(settings, **shared) as second:
        for c in (first, second, first):
            assert (await _login(c, ADMIN[0], "wrong-password")).status_code == 401
        assert (await _login(second, ADMIN[0], ADMIN[1])).status_code == 429


def test_unknown_user_costs_a_password_check() -> None:
    # At the production cost: at the suite's lowest one a check takes microseconds, noise.
    fields = Settings.model_fields
    cost = [fields[f"password_hash_{name}"].default for name in _COST]
    configure_password_hashing(*cost)
    try:
        real = hash_password("the-real-password")
        passwords.warm_up()
        unknown = median_time(lambda: passwords.check_password("guess-123", None), 3)
        wrong = median_time(lambda: passwords.check_password("guess-123", real), 3)
    finally:
        configure_password_hashing(*(getattr(load_settings(), f"password_hash_{n}") for n in _COST))
    assert not passwords.check_password("the-real-password", None)
    # Both run one argon2 verification with the same parameters.
    assert 0.5 < unknown / wrong < 2, (unknown, wrong)


_COST = ("time_cost", "memory_kib", "parallelism")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_limiter_window(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr("flowdeck.services.login_limits.time.monotonic", clock)
    limiter = MemoryLoginLimiter(LoginLimits(per_username=2, per_address=10, window=30))
    await _limiter_rules(limiter)
    clock.now += 30  # the window ended
    assert await limiter.blocked_for("Alice", "10.0.0.1") == 0


async def test_redis_limiter() -> None:
    redis = Redis.from_url(REDIS_URL)
    prefix = f"fdtest-{uuid.uuid4().hex[:8]}"
    try:
        limiter = RedisLoginLimiter(redis, LoginLimits(2, 10, 30), prefix)
        await _limiter_rules(limiter)
        ttls = [await redis.ttl(k) async for k in redis.scan_iter(f"{prefix}:login:*")]
        assert ttls
        assert all(0 < t <= 30 for t in ttls)  # every counter ends with its window
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def _limiter_rules(limiter: LoginLimiter) -> None:
    """Per username (case-insensitive), per address, and a success clearing the username."""
    assert await limiter.blocked_for("alice", "10.0.0.1") == 0
    await limiter.failed("alice", "10.0.0.1")
    await limiter.succeeded("alice")
    await limiter.failed("alice", "10.0.0.1")
    assert await limiter.blocked_for("alice", "10.0.0.1") == 0
    await limiter.failed("ALICE", "10.0.0.2")
    wait = await limiter.blocked_for("Alice", "10.0.0.3")
    assert 0 < wait <= 30
    assert await limiter.blocked_for("bob", "10.0.0.1") == 0
    for _ in range(8):  # the address reaches its 10 (2 counted above)
        await limiter.failed("bob", "10.0.0.1")
    assert await limiter.blocked_for("carol", "10.0.0.1") > 0
    assert await limiter.blocked_for("carol", "10.0.0.9") == 0
