"""An httpx client that applies a NetworkPolicy where each connection is made.

The guard resolves the host name itself, checks every address it resolves to, and connects
to the address it checked, so a DNS answer that changes between check and connect (DNS
rebinding) cannot slip through; every redirect is a new request through the guard.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from flowdeck.engine.netpolicy import METADATA_HOSTS, IPAddress, NetworkPolicy


class BlockedAddress(httpx.ConnectError):
    """A component asked for an address the network policy forbids (a failed connection)."""


async def checked_address(policy: NetworkPolicy, host: str, port: int) -> IPAddress:
    """The address to connect to for `host`; BlockedAddress when any it resolves to is refused."""
    name = host.rstrip(".").lower()
    if name in METADATA_HOSTS:
        raise BlockedAddress(f"refused to connect: {host} is a cloud metadata host")
    try:
        addresses = [ipaddress.ip_address(name.strip("[]"))]
    except ValueError:
        addresses = await _lookup(name, port)
    for address in addresses:
        reason = policy.refusal(host, address, port)
        if reason is not None:
            raise BlockedAddress(f"refused to connect: {reason}")
    return addresses[0]


async def _lookup(name: str, port: int) -> list[IPAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {name}: {exc.strerror}") from None
    # Scope ids (`fe80::1%eth0`) are cut off: the address itself decides.
    found = dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    if not found:
        raise httpcore.ConnectError(f"cannot resolve {name}")
    return list(found)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens each connection to the address the policy checked for the requested name.

    TLS and the connection pool still see the name (TLS verifies the certificate against it),
    since only the socket's address is swapped.
    """

    def __init__(
        self, policy: NetworkPolicy, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        async with asyncio.timeout(timeout):  # the name's lookup counts as connecting
            address = await checked_address(self.policy, host, port)
        return await self.inner.connect_tcp(
            str(address),
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress(f"refused to connect: {path} is a local socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_client(
    policy: NetworkPolicy, *, timeout: float, follow_redirects: bool = True
) -> httpx.AsyncClient:
    """An httpx client whose every connection the policy checks (for components, MCP clients).

    Environment proxies are not used: a proxy would resolve and connect on its own, out of
    the guard's sight.
    """
    transport = httpx.AsyncHTTPTransport()
    # httpx's transport takes no network backend: its pool is rebuilt with ours (httpcore's
    # public hook), with httpx's default limits.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(policy),
    )
    return httpx.AsyncClient(
        transport=transport,
        trust_env=False,
        timeout=timeout,
        follow_redirects=follow_redirects,
    )
