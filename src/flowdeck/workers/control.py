"""Run control across processes: commands go out on Redis; the worker holding the run obeys."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from redis.asyncio import Redis

from flowdeck.runs.pubsub import Subscriber
from flowdeck.workers.runner import RunWorker

log = logging.getLogger("flowdeck.control")


class RedisControlChannel:
    """Publishes cancel / pause / resume / answer; every worker hears it, the holder applies it."""

    def __init__(
        self, redis: Redis, subscriber: Subscriber, *, prefix: str, worker: RunWorker | None
    ) -> None:
        self._redis = redis
        self._channel = f"{prefix}:control"
        self._worker = worker
        if worker is not None:
            subscriber.on(self._channel, self._on_message)

    async def control(self, run_id: str, command: str, payload: Any = None) -> None:
        message = {"run_id": run_id, "command": command, "payload": payload}
        await self._redis.publish(self._channel, orjson.dumps(message))

    def _on_message(self, data: bytes) -> None:
        message = orjson.loads(data)
        if self._worker is not None and self._worker.apply(
            message["run_id"], message["command"], message.get("payload")
        ):
            log.info("run %s: %s applied", message["run_id"], message["command"])
