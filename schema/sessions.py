"""Credentials checked recently are trusted for a couple of seconds (resolvers.accounts.CredentialCache); a mutation
may change what a credential stands for (a role, an activation, a revoked key, a signed-out token), so after one the
cache is emptied — in this process at once, and, with Redis, in every other process too (`CredentialSignal`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import redis.asyncio as aioredis
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.accounts import credentials

log = logging.getLogger("pasar.sessions")
REDIS_TIMEOUT_SECONDS = 0.5
RETRY_SECONDS = 5.0


class CredentialSignal:
    """With Redis (`PASAR_REDIS_URL`): after a mutation this process publishes on `<prefix>:credentials`, and every
    process listening empties its credential cache when it hears it, so a session ended in one process ends in the
    others within a Redis round trip rather than the cache's seconds. Without Redis, or while it is down, the cache's
    seconds (`PASAR_CREDENTIAL_CACHE_SECONDS`) bound it. The listener starts with the first request."""

    def __init__(self, url: str | None, prefix: str) -> None:
        self.url = url
        self.channel = f"{prefix}:credentials"
        self.listener: asyncio.Task | None = None
        self.subscribed = False
        self._client: Any = None
        self._sending: set[asyncio.Task] = set()
        self._warned = False

    def ensure_listening(self) -> None:
        if self.url and self.listener is None:
            self.listener = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            client = aioredis.from_url(self.url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.subscribed = True
                    credentials.forget_all()  # whatever was said while nobody listened
                    if self._warned:
                        log.info("credential signal: Redis answers again")
                        self._warned = False
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            credentials.forget_all()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # Redis away: the cache's seconds bound staleness until it is back
                self.subscribed = False
                if not self._warned:
                    log.warning(
                        "credential signal: Redis unreachable (%s); cached credentials expire alone", type(e).__name__
                    )
                    self._warned = True
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                self.subscribed = False
                await client.aclose()

    def publish(self) -> None:
        """Tell the other processes, without making the request wait for Redis."""
        if not self.url:
            return
        task = asyncio.get_running_loop().create_task(self._publish())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _publish(self) -> None:
        if self._client is None:
            self._client = aioredis.from_url(
                self.url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
            )
        try:
            await self._client.publish(self.channel, b"forget")
        except Exception as e:
            log.warning("credential signal: could not publish (%s)", type(e).__name__)

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            await asyncio.gather(self.listener, return_exceptions=True)
            self.listener = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None


_signals: dict[tuple[str | None, str], CredentialSignal] = {}


def signal_for(settings: Any) -> CredentialSignal:
    """The signal of the Redis and prefix these settings name (one per process and pair)."""
    key = (getattr(settings, "redis_url", None), getattr(settings, "redis_prefix", "pasar"))
    if key not in _signals:
        _signals[key] = CredentialSignal(*key)
    return _signals[key]


class ForgetCredentialsAfterMutations(SchemaExtension):
    """Empties the credential cache after every mutation, whatever it changed, here and (with Redis) everywhere."""

    def on_execute(self) -> Iterator[None]:
        yield
        if self.execution_context.operation_type is OperationType.MUTATION:
            credentials.forget_all()
            signal_for(getattr(self.execution_context.context, "settings", None)).publish()
