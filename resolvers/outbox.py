"""The transactional outbox: the events other systems care about, written in the transaction of the change.

A rule calls `record(ctx, topic, aggregate, payload)` inside its `in_transaction()`; the row commits with the change
or not at all (a rolled-back change leaves no event). What leaves the platform is decided later, by the dispatcher
(resolvers/dispatch.py): webhooks for partner keys with the topic's scope, e-mails to the people concerned, and the
subscriptions' bus after commit (`order_messages`).

`PASAR_OUTBOX=off` (the setting `outbox`) writes no rows: for measuring the outbox's cost only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.orders import Order, OrderEvent, OrderKind
from models.outbox import OutboxEvent
from resolvers import events
from resolvers.common import Ctx

# Each topic a partner may subscribe to, with the scope its API key needs (an admin grants scopes).
WEBHOOK_TOPICS: dict[str, str] = {
    "order.placed": "orders:read",
    "order.accepted": "orders:read",
    "order.rejected": "orders:read",
    "order.shipped": "orders:read",
    "order.delivered": "orders:read",
    "order.paid": "orders:read",
    "order.cancelled": "orders:read",
    "umkm.verified": "umkm:read",
    "umkm.suspended": "umkm:read",
    "omzet.submitted": "omzet:read",
}
# Topics that only feed e-mails (never a webhook): e.g. a treasurer's reminder of an unpaid delivered order.
EMAIL_TOPICS = frozenset({"order.payment_reminder"})
TOPICS = frozenset(WEBHOOK_TOPICS) | EMAIL_TOPICS
ORDER_TOPIC = {
    "SUBMITTED": "order.placed",
    "ACCEPTED": "order.accepted",
    "REJECTED": "order.rejected",
    "SHIPPED": "order.shipped",
    "DELIVERED": "order.delivered",
    "PAID": "order.paid",
    "CANCELLED": "order.cancelled",
}


def enabled(ctx: Ctx) -> bool:
    return bool(getattr(ctx.settings, "outbox", True))


async def record(ctx: Ctx, topic: str, aggregate: str, payload: dict[str, Any]) -> OutboxEvent | None:
    """Write one event; call it inside the change's transaction. None when the outbox is switched off."""
    if topic not in TOPICS:
        raise ValueError(f"unknown outbox topic {topic!r}")
    if not enabled(ctx):
        return None
    return await OutboxEvent.create(topic=topic, aggregate=aggregate, payload=payload, created_at=ctx.clock.now())


async def queue_email_event(ctx: Ctx, topic: str, aggregate: str, payload: dict[str, Any]) -> OutboxEvent | None:
    """For rules that only notify people (e.g. `order.payment_reminder` with the order's facts, from the clocks of
    unpaid orders): the same outbox row, delivered as e-mails by the dispatcher."""
    if topic not in EMAIL_TOPICS:
        raise ValueError(f"{topic!r} is not an e-mail topic")
    return await record(ctx, topic, aggregate, payload)


def order_facts(order: Order, event: OrderEvent, note: str = "") -> dict[str, Any]:
    """What an order event carries in the outbox: the subscription message's fields, the total and the reason."""
    return {
        "event_id": event.id,
        "order_id": order.id,
        "number": order.number or "",
        "kind": order.kind.value,
        "opd_id": order.opd_id,
        "buyer_id": order.buyer_id,
        "umkm_id": order.umkm_id,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value,
        "at": (event.created_at or dt.datetime.now(dt.UTC)).isoformat(),
        "total": order.total,
        "reason": note if event.to_status.value in ("REJECTED", "CANCELLED") else "",  # not who received it
    }


async def record_order_event(ctx: Ctx, order: Order, event: OrderEvent, note: str = "") -> events.OrderEventMessage:
    """Inside the order's transaction: the outbox row of one status change, and the subscription message made from
    the same facts (published after commit)."""
    facts = order_facts(order, event, note)
    await record(ctx, ORDER_TOPIC[event.to_status.value], f"order:{order.id}", facts)
    return message_of(facts)


async def queue_payment_reminder(ctx: Ctx, order: Order, days_unpaid: int) -> OutboxEvent | None:
    """Inside a transaction: tell whoever pays an order that it is delivered and still unpaid (the OPD's treasurers,
    or the employee of a personal order), by e-mail. For the clocks of unpaid delivered orders."""
    facts = {
        "order_id": order.id,
        "number": order.number or "",
        "kind": order.kind.value,
        "opd_id": order.opd_id,
        "buyer_id": order.buyer_id,
        "umkm_id": order.umkm_id,
        "total": order.total,
        "days_unpaid": days_unpaid,
        "at": ctx.clock.now().isoformat(),
    }
    return await queue_email_event(ctx, "order.payment_reminder", f"order:{order.id}", facts)


def message_of(facts: dict[str, Any]) -> events.OrderEventMessage:
    return events.OrderEventMessage(**{k: facts[k] for k in events.OrderEventMessage.__dataclass_fields__})


def is_personal(payload: dict[str, Any]) -> bool:
    return payload.get("kind") == OrderKind.PERSONAL.value
