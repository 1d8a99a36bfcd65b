"""kombu's Redis transport, with one client object per channel for its blocking calls."""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    """kombu builds a new redis client, with its table of response callbacks, for every
    publish, delivery and acknowledgement. A client is a thread-safe handle on the channel's
    connection pool, so one per pool serves them all at a fraction of the cost."""

    _sync_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[no-untyped-call]
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()  # type: ignore[no-untyped-call]
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel


def transport_for(broker_url: str) -> str | None:
    """The transport class for a broker URL: ours for plain Redis, kombu's for the rest."""
    return f"{__name__}:Transport" if broker_url.startswith("redis://") else None
