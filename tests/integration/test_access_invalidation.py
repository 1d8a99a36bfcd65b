"""A role or binding change made in one API process is seen by the next request in another."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, select

from flowdeck.access.catalog import DEVELOPER
from flowdeck.access.principal import PrincipalCache
from flowdeck.access.seed import bind_role, sync_catalog
from flowdeck.auth.secrets import hash_password
from flowdeck.db.database import Database
from flowdeck.db.models import TenantUserRole, User
from flowdeck.runs.pubsub import Subscriber
from tests.conftest import TEST_TENANT
from tests.integration.test_redis_bus import REDIS_URL

pytestmark = pytest.mark.redis


@pytest.fixture
def prefix() -> str:
    return f"fdaccess{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def user(db: Database) -> AsyncIterator[User]:
    async with db.session() as session:
        await sync_catalog(session)
        row = User(tenant_id=TEST_TENANT, username="pat", password_hash=hash_password("pw-123456"))
        session.add(row)
        await session.flush()
        await bind_role(session, TEST_TENANT, row.id, DEVELOPER)
    async with db.session() as session:
        yield (await session.execute(select(User).where(User.username == "pat"))).scalar_one()


async def test_a_revocation_reaches_every_process(db: Database, user: User, prefix: str) -> None:
    redis_a, redis_b = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    a = PrincipalCache(db, redis_a, prefix)
    b = PrincipalCache(db, redis_b, prefix)
    listener = Subscriber(redis_b, home=f"{prefix}:subscriber")
    listener.on(b.channel, b.clear)
    await listener.start()
    try:
        assert (await b.of(user, TEST_TENANT)).can("flows:READ")
        async with db.session() as session:
            await session.execute(delete(TenantUserRole).where(TenantUserRole.uid == user.id))
        await a.changed()
        for _ in range(100):  # the message crosses Redis in well under a second
            if not (await b.of(user, TEST_TENANT)).can("flows:READ"):
                break
            await asyncio.sleep(0.01)
        assert not (await b.of(user, TEST_TENANT)).can("flows:READ")
    finally:
        await listener.stop()
        await redis_a.aclose()
        await redis_b.aclose()
