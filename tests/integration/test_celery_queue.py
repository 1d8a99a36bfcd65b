"""The API processes' Celery run queue on the real Redis broker: batches, messages, errors."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from redis.asyncio import Redis

from flowdeck.db.models import Run
from flowdeck.settings import Settings
from flowdeck.workers.broker import Transport
from flowdeck.workers.celery_app import TASK_NAME, CeleryRunQueue, make_celery

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("FLOWDECK_TEST_REDIS", "redis://127.0.0.1:6379/0")
# Only checked, never connected to here.
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def settings(broker_url: str = REDIS_URL, prefix: str = "fdq") -> Settings:
    return Settings(
        database_url=PG_URL,
        broker_url=broker_url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        storage_shared=True,
    )


@pytest.fixture
async def queue() -> AsyncIterator[tuple[CeleryRunQueue, Redis, str]]:
    prefix = f"fdq{uuid.uuid4().hex[:10]}"
    runs = CeleryRunQueue(make_celery(settings(prefix=prefix)))
    redis = Redis.from_url(REDIS_URL)
    await runs.start()
    yield runs, redis, f"{prefix}:celery:{prefix}.runs"
    await runs.stop()
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_concurrent_dispatches_all_reach_the_broker_as_run_tasks(
    queue: tuple[CeleryRunQueue, Redis, str],
) -> None:
    runs, redis, key = queue
    ids = [f"run-{i}" for i in range(200)]
    await asyncio.gather(*(runs.dispatch(Run(id=i), "stamp-1") for i in ids))
    messages = [orjson.loads(m) for m in await redis.lrange(key, 0, -1)]
    assert len(messages) == 200
    assert {m["headers"]["task"] for m in messages} == {TASK_NAME}
    assert sorted(
        orjson.loads(m["headers"]["argsrepr"].replace("'", '"'))[0] for m in messages
    ) == (sorted(ids))


async def test_the_redis_channel_reuses_one_client() -> None:
    app = make_celery(settings())
    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, Transport)
        channel = conn.default_channel
        assert channel._create_client() is channel._create_client()


async def test_a_broker_that_is_down_fails_the_dispatch() -> None:
    runs = CeleryRunQueue(make_celery(settings("redis://127.0.0.1:1/0")))
    runs.celery.conf.broker_connection_max_retries = 0
    for run_id in ("r1", "r2"):  # the publisher goes on after a failure: no caller hangs
        with pytest.raises(Exception, match=r"(?i)connect|refused"):
            await asyncio.wait_for(runs.dispatch(Run(id=run_id)), 30)
    await runs.stop(grace=1)
