"""The outbox dispatcher: turns committed outbox events into webhook deliveries and e-mails, and delivers them.

One round (`dispatch_once`), in one server process at a time (`models.jobs.single_runner("outbox-dispatch")`):

1. **Fan out** the events not yet fanned out, oldest first, in one transaction each batch: a `WebhookDelivery` per
   endpoint that may hear the event (its key's scope, its event types; never a personal order) and an
   `EmailMessage` per person to tell (settings `email` on, the person not opted out).
2. **Deliver** the pending deliveries that are due, per endpoint in id order. Deliveries of one aggregate (one order,
   one UMKM) go in order: while an earlier one is pending, the later ones wait. A failed attempt (no answer, a
   timeout, a refused target, a status other than 2xx — redirects are not followed) is retried after
   `RETRY_DELAYS` (5 s, 30 s, 2 min, 10 min, 1 h, 6 h, 12 h); after the eighth failed attempt, about 19 hours
   after the first, the delivery is dead. Once an endpoint fails in a round, its other deliveries wait for the
   next round; endpoints are served side by side (`ENDPOINTS_AT_ONCE`). At least once: a delivery whose answer
   was lost is sent again with the same `webhook-id`. A delivery whose endpoint was disabled, or whose key lost the
   scope, dies without being sent.
3. **E-mails** due are sent over SMTP with the same schedule.
4. **Purge**, at most once an hour: outbox events, deliveries, their attempts and e-mails older than the retention
   (`outbox_retention_days`, 30 by default) once finished.

`now` is the dispatcher's clock (tests pass it); the signature's timestamp is always the real time of sending.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook as Signer
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models.accounts import User
from models.base import Role
from models.jobs import single_runner
from models.outbox import DeliveryAttempt, DeliveryStatus, EmailMessage, OutboxEvent, Webhook, WebhookDelivery
from models.registry import Umkm
from resolvers import mail, netguard
from resolvers.outbox import WEBHOOK_TOPICS
from resolvers.webhooks import body_of, hears, message_id, signing_secret

log = logging.getLogger("pasar.outbox")
JOB = "outbox-dispatch"
RETRY_DELAYS = (5, 30, 120, 600, 3600, 6 * 3600, 12 * 3600)  # seconds after the 1st … 7th failed attempt
BATCH = 500
USER_AGENT = "PasarUMKM-Webhooks/1"
PURGE_EVERY = dt.timedelta(hours=1)
MAX_ERROR = 300
ENDPOINTS_AT_ONCE = 10  # endpoints served side by side: a slow one does not hold up the others


@dataclass
class Round:
    """What one round did."""

    ran: bool = True  # False: another process holds the dispatcher
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    emailed: int = 0
    purged: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        if not self.ran:
            return "outbox: another process is dispatching"
        return (
            f"outbox: {self.fanned_out} events fanned out, {self.delivered} delivered, {self.failed} failed attempts, "
            f"{self.dead} dead, {self.emailed} e-mails sent"
        )


def next_attempt(attempts: int, now: dt.datetime) -> dt.datetime | None:
    """When to try again after `attempts` failed attempts; None: dead."""
    if attempts > len(RETRY_DELAYS):
        return None
    return now + dt.timedelta(seconds=RETRY_DELAYS[attempts - 1])


# ---------------------------------------------------------------- fan-out


async def _recipients(settings: Any, events: list[OutboxEvent]) -> tuple[dict[int, list[User]], dict[int, str]]:
    """Who gets an e-mail for each event (by event id), and the sellers' names (by UMKM id)."""
    umkm_ids = {e.payload.get("umkm_id") for e in events if e.topic.startswith("order.")}
    umkms = {u.id: u for u in await Umkm.filter(id__in=[i for i in umkm_ids if i])} if umkm_ids else {}
    wanted: dict[int, tuple[str, Any]] = {}
    for e in events:
        f = e.payload
        if e.topic in ("order.placed", "order.cancelled") and f.get("umkm_id") in umkms:
            wanted[e.id] = ("user", umkms[f["umkm_id"]].owner_id)
        elif e.topic in ("order.rejected", "order.shipped"):
            wanted[e.id] = ("user", f.get("buyer_id"))
        elif e.topic == "order.payment_reminder":
            if f.get("kind") == "PERSONAL":
                wanted[e.id] = ("user", f.get("buyer_id"))
            else:
                wanted[e.id] = ("treasurers", f.get("opd_id"))
    user_ids = {v for k, v in wanted.values() if k == "user" and v}
    opd_ids = {v for k, v in wanted.values() if k == "treasurers" and v}
    q = Q(id__in=list(user_ids) or [-1]) | Q(role=Role.OPD_TREASURER, opd_id__in=list(opd_ids) or [-1])
    users = await User.filter(q, active=True, email_opt_out=False)
    by_id = {u.id: u for u in users}
    treasurers: dict[int, list[User]] = defaultdict(list)
    for u in users:
        if u.role is Role.OPD_TREASURER and u.opd_id is not None:
            treasurers[u.opd_id].append(u)
    out: dict[int, list[User]] = {}
    for event_id, (kind, ref) in wanted.items():
        out[event_id] = ([by_id[ref]] if ref in by_id else []) if kind == "user" else treasurers.get(ref, [])
    return out, {i: u.name for i, u in umkms.items()}


async def fan_out(settings: Any, now: dt.datetime) -> int:
    events = await OutboxEvent.filter(fanned_out_at=None).order_by("id").limit(BATCH)
    if not events:
        return 0
    hooks = await Webhook.filter(active=True, api_key__revoked_at=None).select_related("api_key").order_by("id")
    deliveries, emails = [], []
    people, sellers = await _recipients(settings, events) if settings.email else ({}, {})
    for e in events:
        listeners = [h for h in hooks if hears(h, h.api_key, e)]
        body = body_of(e) if listeners else None
        if body is not None:
            deliveries += [
                WebhookDelivery(
                    event_id=e.id,
                    webhook_id=h.id,
                    aggregate=e.aggregate,
                    topic=e.topic,
                    body=body,
                    next_attempt_at=now,
                    created_at=now,
                )
                for h in listeners
            ]
        for user in people.get(e.id, []):
            text = mail.render(e.topic, e.payload, sellers.get(e.payload.get("umkm_id"), "penjual"))
            if text is not None:
                emails.append(
                    EmailMessage(
                        event_id=e.id,
                        user_id=user.id,
                        subject=text.subject,
                        text=text.text,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    async with in_transaction():
        if deliveries:
            await WebhookDelivery.bulk_create(deliveries)
        if emails:
            await EmailMessage.bulk_create(emails)
        await OutboxEvent.filter(id__in=[e.id for e in events], fanned_out_at=None).update(fanned_out_at=now)
    return len(events)


# ---------------------------------------------------------------- webhooks


async def _attempt(settings: Any, http: httpx.AsyncClient, d: WebhookDelivery, now: dt.datetime, r: Round) -> bool:
    hook: Webhook = d.webhook
    msg_id = message_id(d.event_id, hook.id)
    sent_at = dt.datetime.now(dt.UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Signer(signing_secret(settings.secret, hook.salt)).sign(msg_id, sent_at, d.body),
    }
    started = time.perf_counter()
    status, error = None, ""
    try:
        status, _head = await netguard.post(
            http,
            hook.url,
            d.body.encode(),
            headers,
            allow_http=settings.webhook_allow_http,
            allowed_hosts=settings.webhook_allowed_hosts,
        )
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    except netguard.TargetRefused as e:
        error = f"refused: {e}"
    except httpx.TimeoutException:
        error = "timed out"
    except httpx.HTTPError as e:
        error = f"{type(e).__name__}: {e}".strip().rstrip(":")
    except OSError as e:  # a socket error httpx did not wrap
        error = f"{type(e).__name__}: {e}"
    took = int((time.perf_counter() - started) * 1000)
    ok = not error
    attempts = d.attempts + 1
    retry_at = None if ok else next_attempt(attempts, now)
    state = DeliveryStatus.DELIVERED if ok else (DeliveryStatus.PENDING if retry_at else DeliveryStatus.DEAD)
    async with in_transaction():
        number = await DeliveryAttempt.filter(delivery_id=d.id).count() + 1
        await DeliveryAttempt.create(
            delivery_id=d.id, number=number, at=now, status_code=status, duration_ms=took, error=error[:MAX_ERROR]
        )
        await WebhookDelivery.filter(id=d.id).update(
            status=state,
            attempts=attempts,
            next_attempt_at=retry_at,
            finished_at=None if state is DeliveryStatus.PENDING else now,
            last_status_code=status,
            last_error=error[:MAX_ERROR],
        )
    if ok:
        r.delivered += 1
    else:
        r.failed += 1
        r.dead += state is DeliveryStatus.DEAD
        log.info("webhook delivery %s to endpoint %s failed (attempt %s): %s", d.id, hook.id, attempts, error)
    return ok


async def deliver(settings: Any, http: httpx.AsyncClient, now: dt.datetime, r: Round) -> None:
    pending = (
        await WebhookDelivery.filter(status=DeliveryStatus.PENDING)
        .select_related("webhook", "webhook__api_key")
        .order_by("id")
        .limit(BATCH)
    )
    by_endpoint: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for d in pending:
        by_endpoint[d.webhook_id].append(d)
    gate = asyncio.Semaphore(ENDPOINTS_AT_ONCE)

    async def one_endpoint(rows: list[WebhookDelivery]) -> None:
        async with gate:
            waiting: set[str] = set()  # aggregates with an earlier delivery still pending: later ones keep their turn
            failed = False
            for d in rows:
                if d.aggregate in waiting:
                    continue
                hook, key = d.webhook, d.webhook.api_key
                gone = not hook.active or key.revoked_at is not None or d.topic not in hook.event_types
                if gone or WEBHOOK_TOPICS.get(d.topic) not in key.scopes:
                    why = "the endpoint was disabled" if gone else "the API key no longer has the scope"
                    await WebhookDelivery.filter(id=d.id).update(
                        status=DeliveryStatus.DEAD, finished_at=now, last_error=why
                    )
                    r.dead += 1
                    continue
                if failed or (d.next_attempt_at is not None and d.next_attempt_at > now):
                    waiting.add(d.aggregate)
                    continue
                if not await _attempt(settings, http, d, now, r):
                    waiting.add(d.aggregate)
                    failed = True  # the endpoint is down or refusing: its other deliveries wait for the next round

    await asyncio.gather(*(one_endpoint(rows) for rows in by_endpoint.values()))


# ---------------------------------------------------------------- e-mail


async def send_emails(settings: Any, now: dt.datetime, r: Round) -> None:
    if not settings.email:
        return
    due = (
        await EmailMessage.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .select_related("user")
        .order_by("id")
        .limit(BATCH)
    )
    for m in due:
        user: User = m.user
        if user.email_opt_out or not user.active:
            await EmailMessage.filter(id=m.id).update(
                status=DeliveryStatus.DEAD, finished_at=now, last_error="the recipient turned e-mails off"
            )
            continue
        try:
            await mail.send(settings, user.email, mail.Mail(m.subject, m.text))
            error = ""
        except Exception as e:  # any SMTP or network failure: retried on the schedule
            error = f"{type(e).__name__}: {e}"[:MAX_ERROR]
        attempts = m.attempts + 1
        retry_at = None if not error else next_attempt(attempts, now)
        state = DeliveryStatus.DELIVERED if not error else (DeliveryStatus.PENDING if retry_at else DeliveryStatus.DEAD)
        await EmailMessage.filter(id=m.id).update(
            status=state,
            attempts=attempts,
            next_attempt_at=retry_at,
            finished_at=None if state is DeliveryStatus.PENDING else now,
            last_error=error,
        )
        if error:
            log.info("e-mail %s failed (attempt %s): %s", m.id, attempts, error)
        else:
            r.emailed += 1


# ---------------------------------------------------------------- retention


async def purge(settings: Any, now: dt.datetime) -> dict[str, int]:
    """Delete what is older than the retention and finished: attempts, deliveries, e-mails, then the events."""
    cutoff = now - dt.timedelta(days=settings.outbox_retention_days)
    done = (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD)
    old = WebhookDelivery.filter(status__in=done, finished_at__lt=cutoff)
    out = {"attempts": await DeliveryAttempt.filter(delivery_id__in=Subquery(old.values("id"))).delete()}
    out["deliveries"] = await WebhookDelivery.filter(status__in=done, finished_at__lt=cutoff).delete()
    out["emails"] = await EmailMessage.filter(status__in=done, finished_at__lt=cutoff).delete()
    out["events"] = (
        await OutboxEvent.filter(created_at__lt=cutoff)
        .exclude(fanned_out_at=None)
        .exclude(id__in=Subquery(WebhookDelivery.all().values("event_id")))
        .exclude(id__in=Subquery(EmailMessage.all().values("event_id")))
        .delete()
    )
    return out


# ---------------------------------------------------------------- a round


class Dispatcher:
    """The dispatcher of one process: its HTTP client and when it last purged."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.http = netguard.client(min(5.0, settings.webhook_timeout_seconds), settings.webhook_timeout_seconds)
        self.purged_at: dt.datetime | None = None

    async def close(self) -> None:
        await self.http.aclose()

    async def dispatch_once(self, now: dt.datetime | None = None) -> Round:
        now = now or dt.datetime.now(dt.UTC)
        r = Round()
        async with single_runner(JOB) as mine:
            if not mine:
                return Round(ran=False)
            r.fanned_out = await fan_out(self.settings, now)
            await deliver(self.settings, self.http, now, r)
            await send_emails(self.settings, now, r)
            if self.purged_at is None or now - self.purged_at >= PURGE_EVERY:
                r.purged = await purge(self.settings, now)
                self.purged_at = now
        return r


async def dispatch_once(settings: Any, now: dt.datetime | None = None) -> Round:
    """One round with a client of its own (the command line, tests)."""
    d = Dispatcher(settings)
    try:
        return await d.dispatch_once(now)
    finally:
        await d.close()
