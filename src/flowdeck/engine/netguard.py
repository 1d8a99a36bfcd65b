"""An httpx client that applies a NetworkPolicy where each connection is made.

The guard resolves the host name itself, checks every address it resolves to, and connects
to the address it checked, so a DNS answer that changes between check and connect (DNS
rebinding) cannot slip through; every redirect is a new request through the guard.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

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
        raise httpx.ConnectError(f"cannot resolve {name}: {exc.strerror}") from None
    # Scope ids (`fe80::1%eth0`) are cut off: the address itself decides.
    found = dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    if not found:
        raise httpx.ConnectError(f"cannot resolve {name}")
    return list(found)


class GuardedTransport(httpx.AsyncBaseTransport):
    """Sends each request to the address the policy checked, keeping the name for TLS."""

    def __init__(self, policy: NetworkPolicy, inner: httpx.AsyncBaseTransport) -> None:
        self.policy = policy
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await checked_address(self.policy, url.host, port)
        # The Host header keeps the name; `sni_hostname` makes TLS check the certificate
        # against it, not against the address.
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=str(address)),
            headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": url.host},
        )
        return await self.inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self.inner.aclose()


def guarded_client(
    policy: NetworkPolicy, *, timeout: float, follow_redirects: bool = True
) -> httpx.AsyncClient:
    """An httpx client whose every connection the policy checks (for components, MCP clients).

    Environment proxies are not used: a proxy would resolve and connect on its own, out of
    the guard's sight.
    """
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, httpx.AsyncHTTPTransport()),
        trust_env=False,
        timeout=timeout,
        follow_redirects=follow_redirects,
    )
