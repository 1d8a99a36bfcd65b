"""One Redis pub/sub connection per process, shared by every listener in it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from redis.asyncio import Redis

from flowdeck.runs.tasks import stop_task

log = logging.getLogger("flowdeck.redis")

Handler = Callable[[bytes], None]


class Subscriber:
    """Delivers messages of subscribed channels to handlers; reconnects when Redis drops it."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._handlers: dict[bytes, Handler] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def on(self, channel: str, handler: Handler) -> None:
        """Register a handler; call before `start`."""
        self._handlers[channel.encode()] = handler

    async def start(self) -> None:
        if self._task is None and self._handlers:
            self._task = asyncio.create_task(self._listen(), name="flowdeck-redis-subscriber")
            await asyncio.wait_for(self._ready.wait(), 10)

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._handlers)
                self._ready.set()
                async for message in pubsub.listen():
                    handler = self._handlers.get(message["channel"])
                    if handler is not None:
                        try:
                            handler(message["data"])
                        except Exception:
                            log.exception("pub/sub handler failed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Readers poll on a timeout meanwhile, so nothing is lost while reconnecting.
                log.warning("redis subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
