"""Rate limits per caller, and the WebSocket limits (connections per caller, messages per connection).

A caller is the token's user, the partner API key, or, for anonymous callers, the client address
(`schema.client.client_address`). Each caller has one policy, chosen by what it is: `anonymous`, `partner`, the
user's role (`ADMIN`, `OPD_BUYER`, …) or, for a role without an entry, `user`. The counting is a fixed window: in this
process's memory (`LocalWindows`), or in Redis through the `limits` library when `PASAR_REDIS_URL` is set, so that
every server process shares one count per caller. When Redis does not answer, each process counts alone with its share
of each limit (limit / `PASAR_WORKERS`), logs one WARNING, tries Redis again every few seconds, and logs one INFO when
it is back.

The answers follow draft-ietf-httpapi-ratelimit-headers-10 (2025-09-27): `RateLimit-Policy: "anonymous";q=60;w=60`
and `RateLimit: "anonymous";r=59;t=42` on every limited response; a refused request gets HTTP 429 with `Retry-After`
(the same seconds as `t`) and a GraphQL error with `extensions.code` `RATE_LIMITED`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage, Storage
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from starlette.websockets import WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter

from models.base import Role
from resolvers.common import Principal

log = logging.getLogger("pasar.ratelimit")

DEFAULT_RATE_LIMITS = "anonymous=60/minute;user=300/minute;partner=600/minute;ADMIN=1200/minute;ANALYST=1200/minute"
POLICIES = ("anonymous", "user", "partner", *(r.value for r in Role))
OFF = "off"
REDIS_TIMEOUT_SECONDS = 0.5  # a Redis that answers slower than this counts as down: the request must not wait
REDIS_RETRY_SECONDS = 5.0  # while Redis is down, how often one request tries it again
WS_CLOSE_CODE = 4429  # graphql-transport-ws uses 44xx for its own closes; 4429 = "too many", as HTTP 429


# ---------------------------------------------------------------- settings


def parse_rate_limits(text: str | None) -> dict[str, RateLimitItem | None]:
    """`PASAR_RATE_LIMITS`: `name=limit` entries separated by `;` over the defaults (`DEFAULT_RATE_LIMITS`), a limit
    in the `limits` notation (`60/minute`, `600 per hour`, `10/5 seconds`) or `off`; the whole value `off` turns every
    limit off. Raises ValueError with one line saying what to fix."""
    text = (text or "").strip()
    if text.lower() == OFF:
        return dict.fromkeys(POLICIES)  # every policy named, and none limits
    policies: dict[str, RateLimitItem | None] = {}
    for source in (DEFAULT_RATE_LIMITS, text):
        for entry in filter(None, (e.strip() for e in source.split(";"))):
            name, sep, value = (part.strip() for part in entry.partition("="))
            match = next((p for p in POLICIES if p.lower() == name.lower()), None)
            if not sep or match is None:
                raise ValueError(
                    f"PASAR_RATE_LIMITS entry {entry!r} must be name=limit, with a name among {', '.join(POLICIES)}"
                )
            if value.lower() == OFF:
                policies[match] = None
                continue
            try:
                policies[match] = parse(value)
            except ValueError:
                raise ValueError(f"PASAR_RATE_LIMITS entry {entry!r}: write the limit as 60/minute or off") from None
    return policies  # a role without an entry of its own has the users' limit (policy_name)


def check_redis_url(url: str | None) -> None:
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("PASAR_REDIS_URL must start with redis://, rediss:// or unix://")


def _where(url: str) -> str:
    """The Redis server's host and port, without the password a URL may hold: for the log."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}" if parts.scheme != "unix" else parts.path


# ---------------------------------------------------------------- HTTP requests


def policy_name(principal: Principal, policies: dict[str, RateLimitItem | None]) -> str:
    if principal.api_key_id is not None:
        return "partner"
    if principal.user_id is not None:
        role = principal.role.value if principal.role is not None else "user"
        return role if role in policies else "user"
    return "anonymous"


def caller_key(principal: Principal, address: str) -> str:
    """Whose count: the user, the API key, or the address of an anonymous caller (a rejected token is anonymous)."""
    if principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"addr:{address}"


@dataclass(frozen=True)
class Decision:
    """One request's count: allowed or not, and what the headers say."""

    allowed: bool
    policy: str
    limit: int
    window: int  # seconds
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w={self.window}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers

    def message(self) -> str:
        return f"Too many requests: {self.limit} per {self.window} s for {self.policy}; try again in {self.reset} s."

    def extensions(self) -> dict[str, Any]:
        return {"policy": self.policy, "limit": self.limit, "windowSeconds": self.window, "retryAfter": self.reset}


class RateLimits:
    """The HTTP request limits of one server process (one per app: counters are not shared between apps unless
    they share a Redis)."""

    def __init__(self, settings: Any, retry_seconds: float = REDIS_RETRY_SECONDS) -> None:
        self.policies = parse_rate_limits(settings.rate_limits)
        self.workers = max(1, int(getattr(settings, "workers", 1) or 1))
        self.retry_seconds = retry_seconds
        self.memory = LocalWindows()
        self.shared: Storage | None = None
        self.redis_where = ""
        self.redis_down = False
        self._tried_at = 0.0  # when Redis was last tried while down
        self._shares: dict[str, RateLimitItem] = {}
        if settings.redis_url and self.enabled:
            self.redis_where = _where(settings.redis_url)
            self.shared = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=settings.redis_prefix,
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),  # redis-py retries 10 times by default: a request would wait for it
            )

    @property
    def enabled(self) -> bool:
        return any(item is not None for item in self.policies.values())

    def share(self, policy: str, item: RateLimitItem) -> RateLimitItem:
        """This process's part of a limit while it counts alone: limit / PASAR_WORKERS, at least 1."""
        if policy not in self._shares:
            amount = max(1, item.amount // self.workers)
            self._shares[policy] = type(item)(amount, item.multiples, namespace="SHARE")
        return self._shares[policy]

    async def hit(self, principal: Principal, address: str) -> Decision | None:
        """Counts one request of this caller; None when its policy has no limit."""
        policy = policy_name(principal, self.policies)
        item = self.policies.get(policy)
        if item is None:
            return None
        key = caller_key(principal, address)
        if self.shared is not None:
            if self._try_redis():
                try:
                    async with asyncio.timeout(2 * REDIS_TIMEOUT_SECONDS):
                        count, reset_time = await _count(self.shared, item, policy, key)
                except (StorageError, OSError, TimeoutError) as e:
                    self._went_down(e)
                else:
                    if self.redis_down:
                        self.redis_down = False
                        log.info(
                            "rate limits: Redis at %s answers again; the limits are shared again", self.redis_where
                        )
                    return self._decision(policy, item, count, reset_time)
            item = self.share(policy, item)  # Redis is down: this process counts alone
        return self._decision(policy, item, *self.memory.incr(item.key_for(policy, key), item.get_expiry()))

    def _try_redis(self) -> bool:
        if not self.redis_down:
            return True
        now = time.monotonic()
        if now - self._tried_at < self.retry_seconds:
            return False
        self._tried_at = now  # one request tries; the others go on counting alone meanwhile
        return True

    def _went_down(self, error: BaseException) -> None:
        self._tried_at = time.monotonic()
        if not self.redis_down:
            self.redis_down = True
            log.warning(
                "rate limits: Redis at %s does not answer (%s); this process counts alone with its share of each "
                "limit (limit / PASAR_WORKERS = %d) until it does",
                self.redis_where,
                type(error.__cause__ or error).__name__,
                self.workers,
            )

    @staticmethod
    def _decision(policy: str, item: RateLimitItem, count: int, reset_time: float) -> Decision:
        allowed = count <= item.amount
        reset = max(0, math.ceil(reset_time - time.time()))
        return Decision(
            allowed=allowed,
            policy=policy,
            limit=item.amount,
            window=item.get_expiry(),
            remaining=max(0, item.amount - count),
            reset=reset if allowed else max(1, reset),
        )

    async def close(self) -> None:
        if isinstance(self.shared, RedisStorage):
            await self.shared.bridge.storage.aclose()  # the redis-py client limits made


async def _count(storage: Storage, item: RateLimitItem, *identifiers: str) -> tuple[int, float]:
    """The fixed window of `limits.aio.strategies.FixedWindowRateLimiter.hit` (increment; the first hit of a window
    sets its expiry), reading the count from the increment itself: two Redis commands instead of the strategy's
    three (hit, then get_window_stats' GET and TTL). Returns the count with this request, and when the window ends."""
    key = item.key_for(*identifiers)
    count = await storage.incr(key, item.get_expiry())
    return count, await storage.get_expiry(key)


class LocalWindows:
    """Fixed windows in this process's memory, counted as `limits`' fixed window counts them (a key's first hit
    starts its window, which ends `expiry` seconds later; the count grows until then), without the library's
    in-memory storage, which starts a task and takes a lock on every hit. At most `max_keys` windows: when a new
    key finds the table full, the ended windows are dropped; if it is still full (as many callers as that within
    one window), the oldest half goes (those callers start a new window)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._windows: dict[str, list[float]] = {}  # key -> [count, when the window ends (time.time())]

    def incr(self, key: str, expiry: float) -> tuple[int, float]:
        """Counts one hit of `key`: (the count with this hit, when its window ends)."""
        now = time.time()
        window = self._windows.get(key)
        if window is None or window[1] <= now:
            if window is None and len(self._windows) >= self.max_keys:
                self._make_room(now)
            window = self._windows[key] = [0, now + expiry]
        window[0] += 1
        return int(window[0]), window[1]

    def _make_room(self, now: float) -> None:
        live = {k: w for k, w in self._windows.items() if w[1] > now}
        if len(live) >= self.max_keys:
            live = dict(list(live.items())[len(live) // 2 :])  # insertion order: the oldest windows first
        self._windows = live

    def __len__(self) -> int:
        return len(self._windows)


# ---------------------------------------------------------------- WebSocket


class WebSocketLimits:
    """At most `max_connections` open WebSockets per caller in this process, counted from `connection_init` (when the
    caller is known) until the socket closes. A socket that never sends `connection_init` is closed by Strawberry
    after its wait (60 s)."""

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self.open: collections.Counter[str] = collections.Counter()

    def admit(self, websocket: Any, principal: Principal, address: str) -> bool:
        key = caller_key(principal, address)
        if self.max_connections and self.open[key] >= self.max_connections:
            websocket.state.close_with = (WS_CLOSE_CODE, f"Too many connections: at most {self.max_connections}")
            return False
        self.open[key] += 1
        websocket.state.connection_slot = key
        return True

    def release(self, websocket: Any) -> None:
        key = getattr(websocket.state, "connection_slot", None)
        if key is not None:
            websocket.state.connection_slot = None
            self.open[key] -= 1
            if self.open[key] <= 0:
                del self.open[key]


class LimitedWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's WebSocket adapter with at most `ws_max_messages_per_second` messages per connection (a socket
    sending more is closed with 4429), and a refusal's own close code (`state.close_with`, set by the view when a
    caller has too many connections) instead of Strawberry's 4403."""

    def __init__(self, view: Any, request: Any, response: Any) -> None:
        super().__init__(view, request, response)
        self.max_per_second = view.settings.ws_max_messages_per_second
        self._second = -1
        self._count = 0

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        async for message in super().iter_json(ignore_parsing_errors=ignore_parsing_errors):
            second = int(time.monotonic())
            if second != self._second:
                self._second, self._count = second, 0
            self._count += 1
            if self.max_per_second and self._count > self.max_per_second:
                await self.close(WS_CLOSE_CODE, f"Too many messages: at most {self.max_per_second} per second")
                return
            yield message

    async def close(self, code: int, reason: str) -> None:
        code, reason = getattr(self.ws.state, "close_with", None) or (code, reason)
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            await super().close(code, reason)
