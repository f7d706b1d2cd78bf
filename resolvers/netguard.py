"""Outbound HTTP that a partner's URL cannot turn against us (server-side request forgery).

- HTTPS only (`http://` only with PASAR_WEBHOOK_ALLOW_HTTP, for tests and local receivers);
- the host is resolved once and *every* address it resolves to must be a public one: private (10/8, 172.16/12,
  192.168/16, fc00::/7), loopback (127/8, ::1), link-local (169.254/16 — the cloud metadata service — fe80::/10),
  unspecified, multicast, reserved and shared ranges are refused, as are IPv4 addresses mapped into IPv6 — unless the
  host is listed in PASAR_WEBHOOK_ALLOWED_HOSTS;
- the connection goes to the address that was checked (the URL's host is replaced by it, the Host header and the TLS
  server name stay the original name), so a second DNS answer cannot point it elsewhere (DNS rebinding);
- no redirects, no proxies from the environment, connect and read timeouts, and at most `MAX_RESPONSE_BYTES` of the
  answer read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

MAX_URL = 500
MAX_RESPONSE_BYTES = 4096


class TargetRefused(Exception):
    """The URL may not be called: its message says why (shown to admins and in the delivery log)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, without brackets
    port: int
    url: str


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address on the public internet: not private, loopback, link-local, multicast, reserved or shared."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return public_address(ip.ipv4_mapped)
    return ip.is_global and not ip.is_multicast


def parse_target(url: str, *, allow_http: bool, allowed_hosts: tuple[str, ...]) -> Target:
    """The URL's parts, checked without the network: the scheme, no credentials in it, an IP literal in a public
    range (a name is checked when it is resolved, at each delivery)."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise TargetRefused(f"The URL must be 1 to {MAX_URL} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("This is not a URL.") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise TargetRefused("Only https:// URLs are called.")
    host = (parts.hostname or "").lower()
    if not host:
        raise TargetRefused("The URL names no host.")
    if parts.username or parts.password:
        raise TargetRefused("The URL may not carry a user name or password.")
    ip = _ip(host)
    if ip is not None and not public_address(ip) and host not in allowed_hosts:
        raise TargetRefused(f"{host} is not a public address.")
    return Target(scheme, host, port or (443 if scheme == "https" else 80), url)


async def resolve(target: Target, allowed_hosts: tuple[str, ...]) -> str:
    """The address to connect to: every address the host resolves to must be public (unless the host is allowed)."""
    ip = _ip(target.host)
    if ip is not None:
        addresses = [ip]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except OSError as e:
            raise TargetRefused(f"{target.host} does not resolve ({e.strerror or type(e).__name__}).") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
        if not addresses:
            raise TargetRefused(f"{target.host} does not resolve.")
    if target.host not in allowed_hosts:
        for a in addresses:
            if not public_address(a):
                raise TargetRefused(f"{target.host} resolves to {a}, which is not a public address.")
    return str(addresses[0])


def client(connect_seconds: float, read_seconds: float) -> httpx.AsyncClient:
    """The client for partner endpoints: no redirects, no environment proxies, bounded waits."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(read_seconds, connect=connect_seconds),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=0),  # each request its own pinned socket
    )


async def post(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_http: bool,
    allowed_hosts: tuple[str, ...],
) -> tuple[int, bytes]:
    """POST `body` to the checked, pinned address of `url`: the status code and the first bytes of the answer.
    Raises TargetRefused for a refused target and httpx errors for network failures."""
    target = parse_target(url, allow_http=allow_http, allowed_hosts=allowed_hosts)
    address = await resolve(target, allowed_hosts)
    parts = urlsplit(target.url)
    literal = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((target.scheme, f"{literal}:{target.port}", parts.path or "/", parts.query, ""))
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:
        host_header = f"[{target.host}]" if target.port == default_port else f"[{target.host}]:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = http.build_request(
        "POST", pinned, content=body, headers={**headers, "host": host_header}, extensions=extensions
    )
    response = await http.send(request, stream=True)
    try:
        head = b""
        async for chunk in response.aiter_bytes():
            head += chunk
            if len(head) >= MAX_RESPONSE_BYTES:
                break
        return response.status_code, head[:MAX_RESPONSE_BYTES]
    finally:
        await response.aclose()
