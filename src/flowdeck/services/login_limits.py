"""Failed-login counters per username and per client address, in fixed windows.

A window opens at the first failure of a key and lasts `FLOWDECK_LOGIN_WINDOW_SECONDS`; once
a key has reached its limit, logins for it are refused (429) until the window ends. A
successful login clears the username's counter, never the address's (one address trying many
usernames stays limited). With Redis the counters are shared by every API process; without
it they live in the process.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from flowdeck.settings import Settings

MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class LoginLimits:
    per_username: int
    per_address: int
    window: int  # seconds

    @classmethod
    def of(cls, settings: Settings) -> LoginLimits:
        return cls(
            settings.login_max_attempts,
            settings.login_max_attempts_per_address,
            settings.login_window_seconds,
        )


def _keys(limits: LoginLimits, username: str, address: str) -> list[tuple[str, int]]:
    # Hashed: a username is any text the client sends, of any length.
    name = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    return [(f"u:{name}", limits.per_username), (f"a:{address}", limits.per_address)]


class LoginLimiter(Protocol):
    async def blocked_for(self, username: str, address: str) -> int:
        """Seconds until a login for this username from this address may be tried; 0: now."""

    async def failed(self, username: str, address: str) -> None:
        """Count a failed login against the username and the address."""

    async def succeeded(self, username: str) -> None:
        """Clear the username's failures."""


class MemoryLoginLimiter:
    """The counters of one process."""

    def __init__(self, limits: LoginLimits) -> None:
        self.limits = limits
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (failures, window end)

    async def blocked_for(self, username: str, address: str) -> int:
        now = time.monotonic()
        wait = 0.0
        for key, limit in _keys(self.limits, username, address):
            count, ends = self._counts.get(key, (0, now))
            if ends > now and count >= limit:
                wait = max(wait, ends - now)
        return math.ceil(wait)

    async def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        if len(self._counts) >= MAX_ENTRIES:
            self._prune(now)
        for key, _ in _keys(self.limits, username, address):
            count, ends = self._counts.get(key, (0, now))
            if ends <= now:
                count, ends = 0, now + self.limits.window
            self._counts[key] = (count + 1, ends)

    async def succeeded(self, username: str) -> None:
        self._counts.pop(_keys(self.limits, username, "")[0][0], None)

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, ends) in self._counts.items() if ends <= now]:
            del self._counts[key]
        while len(self._counts) >= MAX_ENTRIES:  # all live: the oldest windows go first
            del self._counts[next(iter(self._counts))]


class RedisLoginLimiter:
    """The counters in Redis, shared by every process; each key expires with its window."""

    def __init__(self, redis: Redis, limits: LoginLimits, prefix: str) -> None:
        self.redis = redis
        self.limits = limits
        self.prefix = f"{prefix}:login:"

    async def blocked_for(self, username: str, address: str) -> int:
        keys = _keys(self.limits, username, address)
        pipe = self.redis.pipeline(transaction=False)
        for key, _ in keys:
            pipe.get(self.prefix + key)
            pipe.pttl(self.prefix + key)
        replies: list[Any] = await pipe.execute()
        wait_ms = 0
        for i, (_, limit) in enumerate(keys):
            count, ttl_ms = replies[2 * i], replies[2 * i + 1]
            if count is not None and int(count) >= limit and ttl_ms > 0:
                wait_ms = max(wait_ms, ttl_ms)
        return math.ceil(wait_ms / 1000)

    async def failed(self, username: str, address: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for key, _ in _keys(self.limits, username, address):
            # The first failure opens the window; later ones only count.
            pipe.set(self.prefix + key, 0, ex=self.limits.window, nx=True)
            pipe.incr(self.prefix + key)
        await pipe.execute()

    async def succeeded(self, username: str) -> None:
        await self.redis.delete(self.prefix + _keys(self.limits, username, "")[0][0])


def login_limiter(services: Any) -> LoginLimiter:
    """The process's limiter, kept with the services: on Redis when Redis is configured."""
    limiter: LoginLimiter | None = services.extras.get("login_limiter")
    if limiter is None:
        limits = LoginLimits.of(services.settings)
        redis = services.extras.get("redis")
        limiter = (
            RedisLoginLimiter(redis, limits, services.settings.redis_prefix)
            if redis is not None
            else MemoryLoginLimiter(limits)
        )
        services.extras["login_limiter"] = limiter
    return limiter
