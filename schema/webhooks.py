"""GraphQL shape of events out: partner webhooks, their delivery log, API key scopes, e-mail notifications."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from models import outbox as m
from models.accounts import ApiKey as ApiKeyRow
from resolvers import accounts as account_rules
from resolvers import webhooks as rules
from resolvers.outbox import WEBHOOK_TOPICS
from schema.accounts import ApiKey, ApiKeyPayload, User
from schema.common import _enum, jakarta
from schema.errors import UserError, UserErrors
from schema.permissions import ADMIN_ONLY, ADMIN_OR_PARTNER, IsUser
from schema.relay import Connection, decode_id, paginate, to_global_id

DeliveryStatus = _enum(
    m.DeliveryStatus,
    "Where a webhook delivery stands.",
    PENDING="Waiting for its first or next attempt.",
    DELIVERED="The endpoint answered 2xx.",
    DEAD="Given up: the retry schedule ran out (about 19 hours), or the endpoint was disabled.",
)


@strawberry.type(
    description="A partner's endpoint: the events it hears, for the API key it belongs to. Deliveries are signed per "
    "the Standard Webhooks specification (headers webhook-id, webhook-timestamp, webhook-signature)."
)
class Webhook:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    url: str = strawberry.field(description="Where events are POSTed (https).")
    event_types: list[str] = strawberry.field(description="The event types it hears.")
    active: bool = strawberry.field(description="Inactive endpoints get nothing; their pending deliveries die.")
    created_at: dt.datetime = strawberry.field(description="Registered at (Asia/Jakarta).")
    api_key_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: m.Webhook) -> Webhook:
        return cls(
            id=to_global_id("Webhook", r.id),
            url=r.url,
            event_types=list(r.event_types),
            active=r.active,
            created_at=jakarta(r.created_at),
            api_key_id=r.api_key_id,
        )

    @strawberry.field(description="The partner API key the endpoint belongs to.")
    async def api_key(self, info: Info) -> ApiKey:
        return ApiKey.from_row(await info.context.loaders.by_id(ApiKeyRow).load(self.api_key_id))


@strawberry.type(description="One try of a delivery.")
class DeliveryAttempt:
    number: int = strawberry.field(description="1 for the first try of the delivery, counting redeliveries on.")
    at: dt.datetime = strawberry.field(description="When (Asia/Jakarta).")
    status_code: int | None = strawberry.field(description="The endpoint's HTTP status; null without an answer.")
    duration_ms: int = strawberry.field(description="How long the try took, in milliseconds.")
    error: str = strawberry.field(description="Why it failed (a status, a timeout, a refused target); empty if not.")

    @classmethod
    def from_row(cls, r: m.DeliveryAttempt) -> DeliveryAttempt:
        return cls(
            number=r.number, at=jakarta(r.at), status_code=r.status_code, duration_ms=r.duration_ms, error=r.error
        )


@strawberry.type(description="One event for one endpoint, and its tries (the delivery log).")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    message_id: str = strawberry.field(description="The webhook-id header: the same on every try.")
    event_type: str = strawberry.field(description="The event type.")
    body: str = strawberry.field(description="The JSON sent.")
    status: DeliveryStatus = strawberry.field(description="Pending, delivered or dead.")
    attempt_count: int = strawberry.field(description="Failed or successful tries in the current schedule.")
    next_attempt_at: dt.datetime | None = strawberry.field(description="The next try, while pending.")
    last_status_code: int | None = strawberry.field(description="The last answer's HTTP status.")
    last_error: str = strawberry.field(description="The last try's error; empty if it succeeded.")
    created_at: dt.datetime = strawberry.field(description="Made at (Asia/Jakarta).")
    finished_at: dt.datetime | None = strawberry.field(description="Delivered or given up at.")
    pk: strawberry.Private[int]
    webhook_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: m.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=to_global_id("WebhookDelivery", r.id),
            message_id=rules.message_id(r.event_id, r.webhook_id),
            event_type=r.topic,
            body=r.body,
            status=r.status,
            attempt_count=r.attempts,
            next_attempt_at=jakarta(r.next_attempt_at),
            last_status_code=r.last_status_code,
            last_error=r.last_error,
            created_at=jakarta(r.created_at),
            finished_at=jakarta(r.finished_at),
            pk=r.id,
            webhook_id=r.webhook_id,
        )

    @strawberry.field(description="The tries, oldest first (the latest 20).")
    async def attempts(self, info: Info) -> list[DeliveryAttempt]:
        rows = await info.context.loaders.batch("delivery_attempts", rules.attempts_of).load(self.pk)
        return [DeliveryAttempt.from_row(a) for a in rows]

    @strawberry.field(description="The endpoint.")
    async def webhook(self, info: Info) -> Webhook:
        return Webhook.from_row(await info.context.loaders.by_id(m.Webhook).load(self.webhook_id))


@strawberry.type
class WebhooksQuery:
    @strawberry.field(
        description="Webhook endpoints: all (admin), or a partner key's own.", permission_classes=ADMIN_OR_PARTNER
    )
    async def webhooks(self, info: Info, first: int | None = 20, after: str | None = None) -> Connection[Webhook]:
        return await paginate(rules.webhooks_query(info.context), [("id", False)], first, after, Webhook.from_row)

    @strawberry.field(
        description="The delivery log, newest first: every endpoint's (admin), or a partner key's own endpoints'.",
        permission_classes=ADMIN_OR_PARTNER,
    )
    async def webhook_deliveries(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        webhook_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this endpoint's.")] = None,
        status: Annotated[DeliveryStatus | None, strawberry.argument(description="Only these.")] = None,
    ) -> Connection[WebhookDelivery]:
        hook = decode_id(webhook_id, "Webhook", "webhookId") if webhook_id else None
        qs = rules.deliveries_query(info.context, hook, status)
        return await paginate(qs, [("id", True)], first, after, WebhookDelivery.from_row)


@strawberry.input(description="A partner's endpoint (admin).")
class CreateWebhookInput:
    api_key_id: strawberry.ID = strawberry.field(description="The partner API key it belongs to.")
    url: str = strawberry.field(description="https URL, at most 500 characters; private addresses are refused.")
    event_types: list[str] = strawberry.field(
        description="Event types, each needing its scope on the key: " + ", ".join(sorted(WEBHOOK_TOPICS)) + "."
    )


@strawberry.type(description="Result of `createWebhook`; `secret` (whsec_…) is shown only here, once.")
class CreateWebhookPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The endpoint.")
    secret: str | None = strawberry.field(default=None, description="The signing secret to give the partner.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="Change an endpoint (admin); omitted fields stay.")
class UpdateWebhookInput:
    id: strawberry.ID = strawberry.field(description="The endpoint.")
    url: str | None = strawberry.field(default=None, description="A new URL.")
    event_types: list[str] | None = strawberry.field(default=None, description="A new set of event types.")
    active: bool | None = strawberry.field(default=None, description="False: stop sending to it.")


@strawberry.type(description="Result of `updateWebhook`.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The endpoint after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="Send a delivery again.")
class RedeliverWebhookInput:
    delivery_id: strawberry.ID = strawberry.field(description="A delivered or dead delivery.")


@strawberry.type(description="Result of `redeliverWebhook`.")
class RedeliverWebhookPayload:
    delivery: WebhookDelivery | None = strawberry.field(default=None, description="The delivery, pending again.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="The scopes of a partner API key (admin): exactly these.")
class SetApiKeyScopesInput:
    id: strawberry.ID = strawberry.field(description="The key.")
    scopes: list[str] = strawberry.field(
        description="catalog:read, procurement:read, orders:read (order events, never personal orders), umkm:read "
        "(UMKM verified or suspended), omzet:read (that a month's omzet was reported, never the amounts)."
    )


@strawberry.input(description="Notification e-mails for the caller.")
class SetEmailNotificationsInput:
    enabled: bool = strawberry.field(description="False: send me no notification e-mails.")


@strawberry.type(description="Result of `setEmailNotifications`.")
class EmailNotificationsPayload:
    user: User | None = strawberry.field(default=None, description="The caller.")
    enabled: bool | None = strawberry.field(default=None, description="Whether e-mails are sent to the caller now.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.type
class WebhooksMutation:
    @strawberry.mutation(
        description="Register a partner's webhook endpoint (admin).",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
        key_id = decode_id(input.api_key_id, "ApiKey", "apiKeyId")
        secret, hook = await rules.create_webhook(info.context, key_id, input.url, input.event_types)
        return CreateWebhookPayload(webhook=Webhook.from_row(hook), secret=secret)

    @strawberry.mutation(
        description="Change or disable a webhook endpoint (admin).",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def update_webhook(self, info: Info, input: UpdateWebhookInput) -> WebhookPayload:
        hook = await rules.update_webhook(
            info.context, decode_id(input.id, "Webhook"), input.url, input.event_types, input.active
        )
        return WebhookPayload(webhook=Webhook.from_row(hook))

    @strawberry.mutation(
        description="Send a delivered or dead delivery again, now (admin, or the key that owns the endpoint).",
        permission_classes=ADMIN_OR_PARTNER,
        extensions=[UserErrors()],
    )
    async def redeliver_webhook(self, info: Info, input: RedeliverWebhookInput) -> RedeliverWebhookPayload:
        row = await rules.redeliver(info.context, decode_id(input.delivery_id, "WebhookDelivery", "deliveryId"))
        return RedeliverWebhookPayload(delivery=WebhookDelivery.from_row(row))

    @strawberry.mutation(
        description="Grant a partner API key exactly these scopes (admin).",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def set_api_key_scopes(self, info: Info, input: SetApiKeyScopesInput) -> ApiKeyPayload:
        key = await account_rules.set_api_key_scopes(info.context, decode_id(input.id, "ApiKey"), input.scopes)
        return ApiKeyPayload(api_key=ApiKey.from_row(key))

    @strawberry.mutation(
        description="Turn notification e-mails on or off for yourself.",
        permission_classes=[IsUser],
        extensions=[UserErrors()],
    )
    async def set_email_notifications(self, info: Info, input: SetEmailNotificationsInput) -> EmailNotificationsPayload:
        user = await account_rules.set_email_notifications(info.context, input.enabled)
        return EmailNotificationsPayload(user=User.from_row(user), enabled=not user.email_opt_out)
