"""Which URLs webhooks may be posted to (the SSRF guard), checked at registration and at each delivery.

A receiver's host name is resolved and every address it resolves to must be public: not
loopback, private, link-local (cloud metadata lives there: 169.254.169.254), shared, reserved,
multicast or unspecified. Delivery then connects to the address that was checked, so a name
that resolves differently the second time (DNS rebinding) cannot reach an internal service.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata services outside the link-local range.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")})


RESOLVE_SECONDS = 3.0  # a name that takes longer to resolve is refused (the request must not hang on it)


class TargetRefused(Exception):
    """The URL may not receive webhooks; the message says why (shown to the endpoint's admin)."""


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    addresses: tuple[str, ...]  # the checked addresses to connect to, in the resolver's order


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"))
        or address in METADATA_ADDRESSES
    )


def check_url_form(url: str, *, require_https: bool) -> tuple[str, int]:
    """The URL's host and port; refuses other schemes, credentials in the URL, and http when https is required."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused("the URL must be an absolute http(s) URL")
    if require_https and parts.scheme != "https":
        raise TargetRefused("the URL must use https")
    if parts.username or parts.password:
        raise TargetRefused("the URL must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("the URL's port is invalid") from None
    return parts.hostname, port


async def resolve(url: str, *, require_https: bool, allow_private: bool) -> Target:
    """Check the URL and resolve its host to an address it is allowed to reach."""
    host, port = check_url_form(url, require_https=require_https)
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]  # a literal address needs no lookup
    except ValueError:
        try:
            async with asyncio.timeout(RESOLVE_SECONDS):
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError):
            raise TargetRefused(f"the host {host} does not resolve") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"the host {host} does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise TargetRefused(f"the host {host} resolves to a non-public address ({refused[0]})")
    return Target(url=url, host=host, addresses=tuple(dict.fromkeys(str(a) for a in addresses)))
