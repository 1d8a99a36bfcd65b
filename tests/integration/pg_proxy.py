"""A TCP proxy in front of the real PostgreSQL server, to fail connections as networks do.

It forwards bytes both ways. `mute_after(pattern)`: once a client sends bytes holding
`pattern` (a statement's argument, COMMIT), what the server sends it afterwards is dropped:
the statement runs and commits, its answer never arrives. `freeze()` drops both ways on
the connections open now (a server gone without closing its sockets); `cut()` resets them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url


@dataclass(eq=False)
class _Link:
    upstream_port: int
    writers: list[asyncio.StreamWriter]
    mute_replies: bool = False
    mute_requests: bool = False


@dataclass
class PgProxy:
    target_host: str
    target_port: int
    port: int = 0
    links: set[_Link] = field(default_factory=set)
    pattern: bytes | None = None
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self.links):
            for writer in link.writers:
                writer.transport.abort()

    def url(self, url: str) -> str:
        """`url` (one of the target server) pointed at the proxy instead."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(False)

    def mute_after(self, pattern: bytes | None) -> None:
        self.pattern = pattern

    def muted(self) -> list[int]:
        """The client ports (as the server sees them) of the connections whose answers drop."""
        return [link.upstream_port for link in self.links if link.mute_replies]

    def cut(self) -> None:
        """Reset every open connection, as a network would; the server hears of it only
        when it next reads or writes on it."""
        for link in list(self.links):
            for writer in link.writers:
                writer.transport.abort()

    def freeze(self) -> None:
        for link in self.links:
            link.mute_replies = link.mute_requests = True

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        link = _Link(up_writer.get_extra_info("sockname")[1], [writer, up_writer])
        self.links.add(link)
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, link, requests=True),
                self._pump(up_reader, writer, link, requests=False),
            )
        finally:
            self.links.discard(link)

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        link: _Link,
        *,
        requests: bool,
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await src.read(65536):
                if requests and self.pattern is not None and self.pattern in data:
                    link.mute_replies = True
                if link.mute_requests if requests else link.mute_replies:
                    continue
                dst.write(data)
                await dst.drain()
        # One side closed: so does the other, as a connection through a network would.
        with contextlib.suppress(ConnectionError, OSError):
            dst.close()


@contextlib.asynccontextmanager
async def pg_proxy(url: str) -> AsyncIterator[PgProxy]:
    target = make_url(url)
    proxy = PgProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
