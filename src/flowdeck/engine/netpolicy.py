"""Which addresses components may reach over HTTP (the rules; `netguard` applies them).

A flow's author chooses the URLs its components fetch, so without rules a flow could read a
cloud instance's metadata (credentials), the server's own API, or services on the private
network behind it. Kept free of httpx so building an engine costs no import.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SETTING = "FLOWDECK_ALLOW_PRIVATE_NETWORKS"
# Instance metadata services hand out cloud credentials: never reachable, whatever the setting.
METADATA_HOSTS = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "metadata.azure.internal"}
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """What outbound requests may reach.

    `allow_private` lets requests reach loopback and private networks; `own_port` is the port
    the server listens on (`own_host` its address), refused on this machine's addresses so a
    flow cannot call the server's API with the server's own network position.
    """

    allow_private: bool = False
    own_host: str = ""
    own_port: int | None = None

    def refusal(self, host: str, address: IPAddress, port: int) -> str | None:
        """Why `address` (resolved from `host`) may not be reached, or None when it may."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        named = host if host.strip("[]") == str(address) else f"{host} ({address})"
        if address in METADATA_ADDRESSES or any(address in net for net in LINK_LOCAL):
            return f"{named} is a link-local or cloud metadata address"
        if port == self.own_port and self._is_own(address):
            return f"{host}:{port} is this server itself"
        if not self.allow_private and not address.is_global:
            return f"{named} is on a loopback or private network; set {SETTING}=true to allow it"
        return None

    def _is_own(self, address: IPAddress) -> bool:
        if address.is_loopback or address.is_unspecified:
            return True
        try:
            listen = ipaddress.ip_address(self.own_host)
        except ValueError:
            return False
        return listen == address or (listen.is_unspecified and _is_local(address))


def _is_local(address: IPAddress) -> bool:
    """Whether `address` is one of this machine's (only those can be bound)."""
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((str(address), 0))
        except OSError:
            return False
    return True
