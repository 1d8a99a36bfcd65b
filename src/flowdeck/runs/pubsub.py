"""One Redis pub/sub connection per process, shared by every listener in it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from flowdeck.runs.tasks import stop_task

log = logging.getLogger("flowdeck.redis")

Handler = Callable[[bytes], None]


class Subscriber:
    """Delivers messages of subscribed channels to handlers; reconnects when Redis drops it.

    Channels registered with `on` before `start` are for the process's lifetime; `add` and
    `remove` subscribe while it runs (a reader's interest in one run). The connection also
    stays subscribed to `home`, so it keeps listening while no other channel is wanted.
    """

    def __init__(self, redis: Redis, home: str = "flowdeck:subscriber") -> None:
        self._redis = redis
        self._home = home.encode()
        self._handlers: dict[bytes, Handler] = {}
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def on(self, channel: str, handler: Handler) -> None:
        """Register a handler; call before `start`."""
        self._handlers[channel.encode()] = handler

    async def add(self, channel: str, handler: Handler) -> None:
        """Subscribe to one more channel now (again after any reconnect)."""
        key = channel.encode()
        self._handlers[key] = handler
        await self._command("subscribe", key)

    async def remove(self, channel: str) -> None:
        key = channel.encode()
        if self._handlers.pop(key, None) is not None:
            await self._command("unsubscribe", key)

    async def _command(self, name: str, key: bytes) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # not connected: the listener subscribes to every handler's channel
        try:
            await getattr(pubsub, name)(key)
        except Exception as exc:
            # The listener sees the same failure, reconnects and subscribes afresh.
            log.debug("redis %s of %r failed: %s", name, key, exc)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="flowdeck-redis-subscriber")
            await asyncio.wait_for(self._ready.wait(), 10)

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            # Set first: a channel added while this subscribes is subscribed (twice at worst).
            self._pubsub = pubsub
            try:
                await pubsub.subscribe(self._home, *self._handlers)
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
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
