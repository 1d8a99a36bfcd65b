"""Who is calling, without a database round trip per request: users and API keys, cached.

Entries live a few seconds (`FLOWDECK_AUTH_CACHE_SECONDS`: another process may deactivate a
user or revoke their tokens); changes made through this process invalidate them at once, and
with Redis every process is told at once (services/accounts.py). API key uses are counted
in memory and written in a short transaction of their own about once a second, never inside
a request's transaction (on SQLite that would hold the write lock while a request starts a run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select, update

from flowdeck.auth.secrets import TokenClaims, decode_token
from flowdeck.db.database import Database
from flowdeck.db.fast_read import FastReader
from flowdeck.db.models import ApiKey, Flow, User
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.flows import FlowRepository

log = logging.getLogger("flowdeck.auth")

TTL = 5.0  # the default of FLOWDECK_AUTH_CACHE_SECONDS
FLUSH_AFTER = 1.0
MAX_ENTRIES = 10_000

_KEY_BY_HASH = select(ApiKey.id, ApiKey.user_id, ApiKey.tenant_id).where(
    ApiKey.key_hash == bindparam("key_hash"), ApiKey.is_active.is_(True)
)
_USER_BY_ID = select(User).where(User.id == bindparam("value"))
_USER_BY_NAME = select(User).where(User.username == bindparam("value"))
_COUNT_USES = (
    update(ApiKey.__table__)  # type: ignore[arg-type]
    .where(ApiKey.__table__.c.id == bindparam("key_id"))
    .values(
        total_uses=ApiKey.__table__.c.total_uses + bindparam("uses"),
        last_used_at=bindparam("used_at"),
    )
)


@dataclass(slots=True)
class _Key:
    key_id: str
    user_id: int
    tenant_id: str | None
    expires: float


class AuthCache:
    """Users by id or name and API keys by hash, each kept for up to TTL seconds."""

    def __init__(self, db: Database, ttl: float = TTL) -> None:
        self.db = db
        self.ttl = ttl
        self._users: dict[Any, tuple[float, User]] = {}
        self._forgotten = 0  # counts forget_user calls: a read that overlaps one is not kept
        self._tokens: dict[str, TokenClaims] = {}
        self._keys: dict[str, _Key] = {}
        self._uses: dict[str, tuple[int, datetime]] = {}
        self._flush: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def token_claims(self, signing_key: str, token: str) -> TokenClaims:
        """The claims of a valid access token; verified once, then known until it expires.

        A token's signature and claims never change, so checking them again would change
        nothing; whether its version is still the user's is checked per request.
        """
        hit = self._tokens.get(token)
        if hit is not None and hit.expires > time.time():
            return hit
        claims = decode_token(signing_key, token, "access")
        if len(self._tokens) >= MAX_ENTRIES:
            self._tokens.clear()
        self._tokens[token] = claims
        return claims

    async def user(self, user_id: int) -> User | None:
        """An active user by id, or None."""
        return await self._user(user_id, _USER_BY_ID, {"value": user_id})

    async def user_named(self, username: str) -> User | None:
        key = ("name", username)
        return await self._user(key, _USER_BY_NAME, {"value": username}, active=False)

    async def _user(
        self, key: Any, stmt: Select[Any], params: dict[str, Any], active: bool = True
    ) -> User | None:
        hit = self._users.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        forgotten = self._forgotten
        async with self.db.read_sessions() as session:
            user: User | None = (await session.execute(stmt, params)).scalar_one_or_none()
        if user is None or (active and not user.is_active):
            self._users.pop(key, None)
            return None
        if forgotten != self._forgotten:
            return user  # the row may predate a change announced meanwhile: not kept
        if len(self._users) >= MAX_ENTRIES:
            self._users.clear()
        self._users[key] = (now + self.ttl, user)
        return user

    def forget_user(self, user_id: int) -> None:
        """Drop a changed or deleted user (and name lookups, which may point to it)."""
        self._forgotten += 1
        self._users.pop(user_id, None)
        for key in [k for k, (_, u) in self._users.items() if u.id == user_id]:
            self._users.pop(key, None)
        for key_hash in [h for h, k in self._keys.items() if k.user_id == user_id]:
            self._keys.pop(key_hash, None)

    async def api_key_user(self, key_hash: str) -> tuple[str, int, str | None] | None:
        """(key id, user id, tenant id) of an active API key, or None; counts the use."""
        now = time.monotonic()
        hit = self._keys.get(key_hash)
        if hit is None or hit.expires <= now:
            rows = await self.db.read(_KEY_BY_HASH, {"key_hash": key_hash})
            row = rows[0] if rows else None
            if row is None:
                self._keys.pop(key_hash, None)
                return None
            if len(self._keys) >= MAX_ENTRIES:
                self._keys.clear()
            hit = self._keys[key_hash] = _Key(row[0], row[1], row[2], now + self.ttl)
        count, _ = self._uses.get(hit.key_id, (0, None))
        self._uses[hit.key_id] = (count + 1, datetime.now(UTC))
        if self._flush is None:
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(FLUSH_AFTER, self._spawn_flush)
        return hit.key_id, hit.user_id, hit.tenant_id

    def forget_key(self, key_hash: str) -> None:
        self._keys.pop(key_hash, None)

    def _spawn_flush(self) -> None:
        task = asyncio.get_running_loop().create_task(self.flush_uses())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush_uses(self) -> None:
        """Write the counted API key uses, in one short transaction."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        uses, self._uses = self._uses, {}
        if not uses:
            return
        params = [{"key_id": k, "uses": n, "used_at": at} for k, (n, at) in uses.items()]
        try:
            async with self.db.engine.begin() as conn:
                await conn.execute(_COUNT_USES, params)
        except Exception:
            log.exception("could not record the use of %d API key(s)", len(params))
            for key_id, (n, at) in uses.items():  # try again with the next flush
                count, _ = self._uses.get(key_id, (0, at))
                self._uses[key_id] = (count + n, at)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.flush_uses()


class FlowCache:
    """Flows by id, endpoint name or slug: the row is read in full only when it changed.

    Each lookup still asks the database which row the reference names and its fingerprint
    (no flow data), so a flow edited, paused or deleted by any process is seen at once.
    """

    def __init__(self, db: Database, size: int = 512) -> None:
        self.db = db
        self.size = size
        self._flows: dict[str, tuple[tuple[Any, ...], Flow]] = {}
        self._reader = FastReader(db, "flowdeck-flow-reader")

    async def by_ref(self, scope: Scope, ref: str) -> Flow:
        """The flow `ref` names within `scope`; NotFoundError naming the ref if none."""
        rows = await self._reader.rows(*FlowRepository.fingerprints_query(scope, ref))
        # An id match wins over a name match (as FlowRepository.by_ref).
        row = next((r for r in rows if r[0] == ref), rows[0]) if rows else None
        found = await self._resolved(scope, [row]) if row is not None else []
        if found:
            return found[0]
        async with self.db.session() as session:  # none, or deleted since: the NotFoundError
            return await FlowRepository(session, scope).get(ref)

    async def tools(self, scope: Scope, project_id: str | None) -> list[Flow]:
        """The flows served as MCP tools in `scope` (in a project if named), in name order."""
        query = FlowRepository.tool_fingerprints_query(scope, project_id)
        return await self._resolved(scope, await self._reader.rows(*query))

    async def _resolved(self, scope: Scope, rows: list[tuple[Any, ...]]) -> list[Flow]:
        """The flows of fingerprint rows, in their order: kept ones whose row is unchanged,
        the rest read in one query (a row deleted meanwhile is left out)."""

        def kept(row: tuple[Any, ...]) -> Flow | None:
            hit = self._flows.get(row[0])
            return hit[1] if hit is not None and hit[0] == row[1:] else None

        stale = [r[0] for r in rows if kept(r) is None]
        loaded: dict[str, Flow] = {}
        if stale:
            async with self.db.session() as session:
                loaded = {f.id: f for f in await FlowRepository(session, scope).by_ids(stale)}
        flows: list[Flow] = []
        for row in rows:
            flow = kept(row) or loaded.get(row[0])
            if flow is None:
                continue
            if row[0] in loaded:
                if len(self._flows) >= self.size:
                    self._flows.pop(next(iter(self._flows)))
                self._flows[row[0]] = (row[1:], flow)
            flows.append(flow)
        return flows


def flow_cache(services: Any) -> FlowCache:
    """The process's FlowCache, kept with the services."""
    cache: FlowCache | None = services.extras.get("flow_cache")
    if cache is None:
        cache = services.extras["flow_cache"] = FlowCache(services.db)
    return cache


def auth_cache(services: Any) -> AuthCache:
    """The process's AuthCache, kept with the services."""
    cache: AuthCache | None = services.extras.get("auth_cache")
    if cache is None:
        ttl = services.settings.auth_cache_seconds
        cache = services.extras["auth_cache"] = AuthCache(services.db, ttl)
    return cache
