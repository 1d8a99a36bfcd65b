"""Accounts: password logins, the password policy, and revoking a user's tokens.

Every JWT carries its user's token version; logout and a password change raise the version,
so every token issued before is refused. The process that changes a user forgets its cached
row at once; with Redis it also tells every other API process, which forget theirs on the
message, so the change applies everywhere at once. Without Redis (one API process, or several
sharing a database without Redis) other processes see it when their cached row expires
(`FLOWDECK_AUTH_CACHE_SECONDS`), and so when pub/sub messages were lost while reconnecting.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.auth.passwords import check_password, password_problem, warm_up
from flowdeck.auth.secrets import TokenClaims, hash_password, needs_rehash
from flowdeck.db.models import User
from flowdeck.errors import (
    AuthenticationError,
    PermissionDeniedError,
    TooManyAttemptsError,
    WeakPasswordError,
)
from flowdeck.services.caches import auth_cache
from flowdeck.services.login_limits import login_limiter

if TYPE_CHECKING:
    from flowdeck.services.container import Services
    from flowdeck.settings import Settings

log = logging.getLogger("flowdeck.auth")


def require_valid_password(settings: Settings, password: str, username: str) -> None:
    """WeakPasswordError naming `password` unless the policy accepts it."""
    problem = password_problem(password, username, settings.password_min_length)
    if problem:
        raise WeakPasswordError(f"the password {problem}", field="password")


async def password_login(
    services: Services, session: AsyncSession, username: str, password: str, address: str
) -> User:
    """The user these credentials name, counting failures against the login limits."""
    limiter = login_limiter(services)
    wait = await limiter.blocked_for(username, address)
    if wait:
        raise TooManyAttemptsError(
            f"too many failed logins; try again in {wait} s", retry_after=wait
        )
    found = await session.execute(select(User).where(User.username == username))
    user = found.scalar_one_or_none()
    # argon2 takes tens of milliseconds of CPU (releasing the GIL): off the event loop.
    ok = await asyncio.to_thread(check_password, password, user.password_hash if user else None)
    if user is None or not ok:
        await limiter.failed(username, address)
        raise AuthenticationError("incorrect username or password")
    await limiter.succeeded(username)
    if not user.is_active:
        raise PermissionDeniedError("this user is inactive")
    if user.password_hash and needs_rehash(user.password_hash):
        # Stored at another argon2 cost (the settings changed): stored again at this one.
        user.password_hash = await asyncio.to_thread(hash_password, password)
    user.last_login_at = datetime.now(UTC)
    return user


async def refreshing_user(session: AsyncSession, claims: TokenClaims) -> User:
    """The user a valid refresh token names, if it is active and the token not revoked."""
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("user not found or inactive")
    if user.token_version != claims.version:
        raise AuthenticationError("token has been revoked (logout or password change)")
    return user


def revoke_tokens(user: User) -> None:
    """Make every token issued to `user` so far invalid (committed by the caller)."""
    user.token_version += 1


async def logout(services: Services, session: AsyncSession, claims: TokenClaims) -> None:
    """Revoke the tokens of the user a presented token names (a revoked one changes nothing)."""
    user = await session.get(User, claims.user_id)
    if user is None or user.token_version != claims.version:
        return
    revoke_tokens(user)
    await commit_and_announce(services, session, user.id)


async def commit_and_announce(services: Services, session: AsyncSession, user_id: int) -> None:
    """Commit a change to a user, then have every process drop its cached copy."""
    # Committed first, so no request can cache the old row again once it is forgotten.
    await session.commit()
    auth_cache(services).forget_user(user_id)
    redis = services.extras.get("redis")
    if redis is None:
        return
    try:
        await redis.publish(_channel(services.settings), str(user_id))
    except Exception as exc:  # committed all the same; elsewhere the cache expires it
        log.warning("could not announce the change of user %s: %s", user_id, exc)


def _channel(settings: Settings) -> str:
    return f"{settings.redis_prefix}:users:changed"


def attach(services: Services) -> None:
    """Set up an API process: listen for user changes on Redis (when configured), and
    compute the dummy password hash in the background, ahead of the first login."""
    settings = services.settings
    if settings.redis_url and services.subscriber is None:
        # Embedded mode with Redis: Redis for these announcements and the login counters.
        from redis.asyncio import Redis

        from flowdeck.runs.pubsub import Subscriber

        redis = services.extras["redis"] = Redis.from_url(settings.redis_url)
        services.subscriber = Subscriber(redis, home=f"{settings.redis_prefix}:subscriber")
    if services.subscriber is not None:
        cache = auth_cache(services)
        services.subscriber.on(_channel(settings), lambda data: cache.forget_user(int(data)))
    asyncio.get_running_loop().run_in_executor(None, warm_up)
