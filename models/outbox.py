"""Events leaving the platform: the transactional outbox, partner webhooks, their delivery log, queued e-mails.

An `OutboxEvent` is written in the same transaction as the change it tells of (an order placed, a UMKM suspended, an
omzet report submitted), so it exists exactly when the change does. The dispatcher (resolvers/dispatch.py) fans each
event out once into `WebhookDelivery` rows (one per endpoint that may hear it) and `EmailMessage` rows (one per
recipient), then delivers those with retries; every try is an `DeliveryAttempt` row. Retention: rows older than the
settings' retention are purged by the dispatcher (docs/ARCHITECTURE.md, "Events out").
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model

from models.accounts import ApiKey, User


class DeliveryStatus(str, Enum):
    PENDING = "PENDING"  # waiting for its (next) attempt
    DELIVERED = "DELIVERED"  # answered 2xx
    DEAD = "DEAD"  # gave up: the retry schedule ran out, or the endpoint is gone


class OutboxEvent(Model):
    """One event other systems care about, written in the transaction of the change."""

    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=40)  # e.g. order.placed, umkm.suspended, omzet.submitted
    aggregate = fields.CharField(max_length=40)  # order:12, umkm:3: deliveries keep the order of one aggregate
    payload = fields.JSONField()  # every fact a consumer may need; each consumer gets the part it may read
    created_at = fields.DatetimeField()
    fanned_out_at = fields.DatetimeField(null=True)  # deliveries and e-mails made for it (once)

    class Meta:
        table = "outbox_event"
        indexes = (("fanned_out_at", "id"), ("created_at",))


class Webhook(Model):
    """A partner's endpoint: the events it asked for, signed with a secret derived from PASAR_SECRET and `salt`."""

    id = fields.IntField(primary_key=True)
    api_key: fields.ForeignKeyRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey", related_name="webhooks", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=500)
    event_types = fields.JSONField(default=list)
    salt = fields.CharField(max_length=64)  # the signing secret is HMAC(PASAR_SECRET, salt): never stored
    active = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="webhooks", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "webhook"


class WebhookDelivery(Model):
    """One event for one endpoint, tried until delivered or dead, with what that endpoint's key may read."""

    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[OutboxEvent] = fields.ForeignKeyField(
        "models.OutboxEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    aggregate = fields.CharField(max_length=40)
    topic = fields.CharField(max_length=40)
    body = fields.TextField()  # the JSON sent, fixed at fan-out so that every retry sends the same bytes
    status = fields.CharEnumField(DeliveryStatus, max_length=10, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=300, default="")

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "id"), ("webhook_id", "id"), ("created_at",))


class DeliveryAttempt(Model):
    """One try of a delivery: the delivery log partners and admins read."""

    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="tries", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    duration_ms = fields.IntField()
    error = fields.CharField(max_length=300, default="")

    class Meta:
        table = "delivery_attempt"
        indexes = (("delivery_id", "id"),)


class EmailMessage(Model):
    """A notification e-mail to one user, written at fan-out (subject and text fixed then) and sent with retries."""

    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[OutboxEvent] = fields.ForeignKeyField(
        "models.OutboxEvent", related_name="emails", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="emails", on_delete=fields.CASCADE
    )
    subject = fields.CharField(max_length=200)
    text = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=10, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=300, default="")

    class Meta:
        table = "email_message"
        indexes = (("status", "id"), ("created_at",))
