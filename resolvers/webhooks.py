"""Partner webhooks: endpoints registered by admins for a partner key, what each event may carry, the delivery log.

An endpoint belongs to one API key and hears only the topics whose scope the key holds (resolvers/outbox.py
`WEBHOOK_TOPICS`); a personal order is never sent (docs/PRIVACY.md), and an omzet event carries no amount. Each
delivery is signed per the Standard Webhooks specification with the endpoint's secret, which is derived from
PASAR_SECRET and a per-endpoint salt (shown once, at creation; never stored).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.accounts import ApiKey
from models.outbox import DeliveryAttempt, DeliveryStatus, OutboxEvent, Webhook, WebhookDelivery
from resolvers import netguard
from resolvers.common import AccessError, Ctx, DomainError, Principal, Validator, global_id
from resolvers.outbox import WEBHOOK_TOPICS, is_personal

MAX_WEBHOOKS_PER_KEY = 10
MAX_ATTEMPTS_SHOWN = 20


def signing_secret(server_secret: str, salt: str) -> str:
    """The endpoint's `whsec_…` secret (Standard Webhooks): HMAC-SHA-256 of its salt under PASAR_SECRET."""
    key = hmac.new(server_secret.encode(), f"webhook:{salt}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(key).decode()


def message_id(event_id: int, webhook_id: int) -> str:
    """The `webhook-id` header: the outbox event and the endpoint; the same on every retry of one delivery."""
    return f"msg_{event_id}_{webhook_id}"


# ---------------------------------------------------------------- what a partner may read


def partner_data(topic: str, facts: dict[str, Any]) -> dict[str, Any] | None:
    """The `data` of an event as a partner key sees it, or None when it is never sent (a personal order)."""
    if topic.startswith("order."):
        if is_personal(facts):
            return None
        return {
            "order": {
                "id": global_id("Order", facts["order_id"]),
                "number": facts["number"],
                "status": facts["to_status"],
                "previousStatus": facts["from_status"],
                "total": facts["total"],
                "opd": {"id": global_id("Opd", facts["opd_id"])},
                "umkm": {"id": global_id("Umkm", facts["umkm_id"])},
            }
        }
    if topic.startswith("umkm."):
        return {
            "umkm": {
                "id": global_id("Umkm", facts["umkm_id"]),
                "name": facts["name"],
                "status": facts["to_status"],
                "previousStatus": facts["from_status"],
                "kecamatan": {"id": global_id("Kecamatan", facts["kecamatan_id"])},
            }
        }
    if topic == "omzet.submitted":  # that a month was reported, never the amounts
        return {
            "umkm": {"id": global_id("Umkm", facts["umkm_id"])},
            "period": facts["period"],
            "revision": facts["revision"],
            "late": facts["late"],
        }
    return None


def hears(webhook: Webhook, key: ApiKey, event: OutboxEvent) -> bool:
    scope = WEBHOOK_TOPICS.get(event.topic)
    return (
        scope is not None
        and webhook.active
        and key.revoked_at is None
        and event.topic in webhook.event_types
        and scope in key.scopes
    )


def body_of(event: OutboxEvent) -> str | None:
    """The JSON body sent for an event (the same for every endpoint that hears it), or None if it is never sent."""
    data = partner_data(event.topic, event.payload)
    if data is None:
        return None
    envelope = {"type": event.topic, "timestamp": event.payload.get("at") or event.created_at.isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True)


# ---------------------------------------------------------------- endpoints


def _check(ctx: Ctx, v: Validator, key: ApiKey | None, url: str | None, event_types: list[str] | None) -> None:
    s = ctx.settings
    if url is not None:
        try:
            netguard.parse_target(url, allow_http=s.webhook_allow_http, allowed_hosts=s.webhook_allowed_hosts)
        except netguard.TargetRefused as e:
            v.add("url", "URL_REFUSED", "This address cannot receive webhooks: {reason}", reason=str(e))
    if event_types is not None:
        if not event_types:
            v.add("eventTypes", "REQUIRED", "Choose at least one event type.")
        unknown = sorted(set(event_types) - set(WEBHOOK_TOPICS))
        if unknown:
            v.add(
                "eventTypes",
                "UNKNOWN_EVENT_TYPE",
                "Unknown event types: {types}.",
                types=", ".join(t[:40] for t in unknown[:5]),
            )
        elif key is not None:
            missing = sorted({WEBHOOK_TOPICS[t] for t in event_types} - set(key.scopes))
            if missing:
                scopes = ", ".join(missing)
                v.add("eventTypes", "SCOPE_MISSING", "The API key lacks the scopes {scopes}.", scopes=scopes)


async def create_webhook(ctx: Ctx, api_key_id: int, url: str, event_types: list[str]) -> tuple[str, Webhook]:
    """An admin registers a partner's endpoint; returns the signing secret (shown once) and the endpoint."""
    async with in_transaction():
        key = await ApiKey.get_or_none(id=api_key_id)
        if key is None or key.revoked_at is not None:
            raise DomainError("NOT_FOUND", "No such API key (or it was revoked).", "apiKeyId")
        v = Validator()
        _check(ctx, v, key, url, event_types)
        if await Webhook.filter(api_key_id=key.id).count() >= MAX_WEBHOOKS_PER_KEY:
            v.add("apiKeyId", "TOO_MANY", "At most {maximum} endpoints per API key.", maximum=MAX_WEBHOOKS_PER_KEY)
        v.raise_if_any()
        salt = secrets.token_hex(16)
        hook = await Webhook.create(
            api_key_id=key.id,
            url=url.strip(),
            event_types=sorted(set(event_types)),
            salt=salt,
            created_by_id=ctx.principal.user_id,
        )
    return signing_secret(ctx.settings.secret, salt), hook


async def update_webhook(
    ctx: Ctx, webhook_id: int, url: str | None, event_types: list[str] | None, active: bool | None
) -> Webhook:
    async with in_transaction():
        hook = await Webhook.get_or_none(id=webhook_id).select_related("api_key")
        if hook is None:
            raise DomainError("NOT_FOUND", "No such webhook.", "id")
        v = Validator()
        _check(ctx, v, hook.api_key, url, event_types)
        v.raise_if_any()
        if url is not None:
            hook.url = url.strip()
        if event_types is not None:
            hook.event_types = sorted(set(event_types))
        if active is not None:
            hook.active = active
        await hook.save(update_fields=["url", "event_types", "active"])
    return hook


# ---------------------------------------------------------------- reading: admins all, a partner key its own


def _own(p: Principal) -> dict[str, Any]:
    if p.is_admin:
        return {}
    if p.api_key_id is not None:
        return {"api_key_id": p.api_key_id}
    raise AccessError()


def webhooks_query(ctx: Ctx) -> QuerySet[Webhook]:
    return Webhook.filter(**_own(ctx.principal))


async def get_webhook(ctx: Ctx, webhook_id: int) -> Webhook | None:
    return await webhooks_query(ctx).filter(id=webhook_id).first()


def deliveries_query(ctx: Ctx, webhook_id: int | None, status: DeliveryStatus | None) -> QuerySet[WebhookDelivery]:
    own = _own(ctx.principal)
    qs = WebhookDelivery.filter(**{f"webhook__{k}": v for k, v in own.items()})
    if webhook_id is not None:
        qs = qs.filter(webhook_id=webhook_id)
    if status is not None:
        qs = qs.filter(status=status)
    return qs


async def attempts_of(delivery_ids: list[int]) -> list[list[DeliveryAttempt]]:
    """The latest tries of each delivery (at most MAX_ATTEMPTS_SHOWN each, oldest first): one statement."""
    grouped: dict[int, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
    for a in await DeliveryAttempt.filter(delivery_id__in=list(set(delivery_ids))).order_by("id"):
        grouped[a.delivery_id].append(a)
    return [grouped[i][-MAX_ATTEMPTS_SHOWN:] for i in delivery_ids]


async def redeliver(ctx: Ctx, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (delivered or dead): it is pending now, with a fresh retry schedule."""
    async with in_transaction():
        d = await deliveries_query(ctx, None, None).filter(id=delivery_id).first()
        if d is None:
            raise DomainError("NOT_FOUND", "No such delivery.", "id")
        if d.status is DeliveryStatus.PENDING:
            raise DomainError("ALREADY_PENDING", "This delivery is still being tried.", "id")
        await WebhookDelivery.filter(id=d.id, status=d.status).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=ctx.clock.now(), finished_at=None
        )
    return await WebhookDelivery.get(id=delivery_id)
