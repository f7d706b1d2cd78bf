"""The client's address: the socket peer, or, behind a trusted reverse proxy, the hop that proxy added to
`X-Forwarded-For`. The rate limiter counts anonymous callers by it; anything else that needs "who is calling from
where" (sign-in throttling) takes it from here, so that every limit agrees on one address and none can be spoofed."""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

UNKNOWN = "unknown"  # a connection without a peer address (a test transport, a Unix socket)
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(text: str) -> tuple[str, ...]:
    """`PASAR_TRUSTED_PROXIES`: comma-separated addresses or networks (`10.0.0.1, 10.1.0.0/16, ::1`), checked
    here so that a typo stops start-up instead of trusting nobody (or everybody)."""
    entries = tuple(e.strip() for e in text.split(",") if e.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"PASAR_TRUSTED_PROXIES entry {entry!r} is not an IP address or network") from None
    return entries


@functools.lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _ip(text: str) -> IPAddress | None:
    """An address as a proxy writes it: `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:443` or `203.0.113.7:5000`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in n for n in networks)


def client_address(connection: Any, settings: Any) -> str:
    """The address of the client of an HTTP request or a WebSocket (a Starlette `Request` or `WebSocket`).

    The socket peer, unless the peer is one of `settings.trusted_proxies`: then `X-Forwarded-For` is read from the
    right (each proxy appends the address it was called from), trusted proxies are skipped, and the first untrusted
    hop is the client. Whatever a client writes into the header itself stands to the left of that hop and is never
    read. A hop that is not an address ends the walk at the last proxy that is trusted."""
    peer = connection.client.host if connection.client is not None else None
    if not peer:
        return UNKNOWN
    networks = _networks(tuple(getattr(settings, "trusted_proxies", ()) or ()))
    address = _ip(peer)
    if address is None or not networks or not _trusted(address, networks):
        return str(address) if address is not None else peer
    hops = [h for value in connection.headers.getlist("x-forwarded-for") for h in value.split(",")]
    for hop in reversed(hops):
        hop_address = _ip(hop)
        if hop_address is None:
            break
        address = hop_address
        if not _trusted(address, networks):
            break
    return str(address)
