"""Order events for subscribers: in-process on SQLite, PostgreSQL LISTEN/NOTIFY across server processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from tortoise import connections

log = logging.getLogger("pasar.events")
CHANNEL = "pasar_order_events"


@dataclass(frozen=True)
class OrderEventMessage:
    event_id: int
    order_id: int
    number: str
    kind: str
    opd_id: int
    buyer_id: int
    umkm_id: int
    from_status: str | None
    to_status: str
    at: str


class EventBus:
    """Fans messages out to this process's subscribers."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[OrderEventMessage]] = set()

    def deliver_local(self, msg: OrderEventMessage) -> None:
        for q in list(self._queues):
            try:
                q.put_nowait(msg)
            except asyncio.QueueFull:
                # A subscriber that stopped reading loses this event; the others must still get it.
                log.warning("order event %s dropped for a subscriber %d events behind", msg.event_id, q.qsize())

    async def publish(self, msgs: list[OrderEventMessage]) -> None:
        for m in msgs:
            self.deliver_local(m)

    async def start(self) -> None:
        return None

    async def subscribe(self, idle: float | None = None) -> AsyncIterator[OrderEventMessage | None]:
        """This process's messages as they come; with `idle`, a `None` after that many seconds without one (the
        subscriber's moment to check that its session still holds)."""
        await self.start()
        q: asyncio.Queue[OrderEventMessage] = asyncio.Queue(maxsize=1000)
        self._queues.add(q)
        try:
            while True:
                if idle is None:
                    yield await q.get()
                    continue
                try:
                    yield await asyncio.wait_for(q.get(), timeout=idle)
                except TimeoutError:
                    yield None
        finally:
            self._queues.discard(q)


class PostgresBus(EventBus):
    """NOTIFY after commit; one LISTEN connection per process feeds the local subscribers (its own messages too)."""

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.dsn = dsn
        self._listener = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._lock:
            if self._listener is not None and not self._listener.is_closed():
                return
            self._listener = await asyncpg.connect(self.dsn)
            await self._listener.add_listener(CHANNEL, self._on_notify)
            self._listener.add_termination_listener(self._on_terminate)

    def _on_terminate(self, conn) -> None:
        """The LISTEN connection died (database restart, network): reconnect while anyone listens."""
        self._listener = None
        if self._queues:
            log.warning("order-event listener lost; reconnecting")
            self._reconnect_task = asyncio.get_event_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        for delay in (0.5, 1, 2, 5, 10, 30, 60):
            await asyncio.sleep(delay)
            try:
                await self.start()
                log.info("order-event listener reconnected")
                return
            except Exception as e:  # keep trying: the database may still be starting
                log.warning("order-event listener still down: %s", e)

    def _on_notify(self, conn, pid, channel, payload: str) -> None:
        try:
            self.deliver_local(OrderEventMessage(**json.loads(payload)))
        except (TypeError, ValueError):
            log.warning("ignoring malformed order event %r", payload)

    async def publish(self, msgs: list[OrderEventMessage]) -> None:
        db = connections.get("default")
        for m in msgs:
            await db.execute_query("SELECT pg_notify($1, $2)", [CHANNEL, json.dumps(asdict(m))])

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None


_bus: EventBus | None = None


def _dsn(database_url: str) -> str:
    """An asyncpg DSN from DATABASE_URL, keeping driver options such as sslmode but not Tortoise's pool sizes."""
    parts = urlsplit(database_url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query) if k not in ("minsize", "maxsize", "max_inactive_connection_lifetime")
    ]
    return urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), ""))


def get_bus(database_url: str | None = None) -> EventBus:
    """The process's bus, chosen by the engine the ORM runs on."""
    global _bus
    if _bus is None:
        if connections.get("default").capabilities.dialect == "postgres" and database_url:
            _bus = PostgresBus(_dsn(database_url))
        else:
            _bus = EventBus()
    return _bus


async def publish(msgs: list[OrderEventMessage], database_url: str | None = None) -> None:
    if not msgs:
        return
    try:
        await get_bus(database_url).publish(msgs)
    except Exception:
        # The change is committed; a lost notification must not turn it into an error for the caller.
        log.exception("could not publish %d order events", len(msgs))
