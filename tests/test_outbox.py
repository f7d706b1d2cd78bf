"""Events leave the platform reliably: the transactional outbox, partner webhooks and notification e-mails.

A local receiver (a Starlette app served by uvicorn on 127.0.0.1 in a thread) plays the partner; it can be down,
answer 500, be slow or redirect. The dispatcher runs one round at a time with an explicit `now`, so the retry
schedule is tested without sleeping. Signatures are checked with the `standardwebhooks` library."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from standardwebhooks.webhooks import Webhook as Verifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Route
from tortoise.transactions import in_transaction

from app import create_app
from models.accounts import ApiKey
from models.orders import Order
from models.outbox import DeliveryAttempt, DeliveryStatus, EmailMessage, OutboxEvent, Webhook, WebhookDelivery
from resolvers import dispatch, netguard, outbox
from resolvers.common import SystemClock, global_id
from schema.relay import from_global_id, to_global_id
from tests.conftest import GQL, SECRET, TEST_URL, World, gid

ROOT = Path(__file__).resolve().parent.parent
SOON = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)).isoformat()
ORDER_TYPES = [
    "order.placed",
    "order.accepted",
    "order.rejected",
    "order.shipped",
    "order.delivered",
    "order.paid",
    "order.cancelled",
]
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { orders { id number } errors { field code } } }"
ACCEPT = "mutation($i: OrderIdInput!) { acceptOrder(input: $i) { order { status } errors { code } } }"
SHIP = "mutation($i: OrderIdInput!) { shipOrder(input: $i) { order { status } errors { code } } }"
REJECT = "mutation($i: OrderReasonInput!) { rejectOrder(input: $i) { order { status } errors { code } } }"
SCOPES = "mutation($i: SetApiKeyScopesInput!) { setApiKeyScopes(input: $i) { apiKey { scopes } errors { code } } }"
CREATE_HOOK = (
    "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { id url eventTypes apiKey { name } }"
    " errors { field code message } } }"
)
DELIVERIES = """query($w: ID, $first: Int, $after: String) { webhookDeliveries(webhookId: $w, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id messageId eventType status attemptCount lastStatusCode lastError
    attempts { number statusCode durationMs error } } } } }"""
REDELIVER = (
    "mutation($i: RedeliverWebhookInput!) { redeliverWebhook(input: $i) { delivery { status } errors { code } } }"
)
OPT = (
    "mutation($i: SetEmailNotificationsInput!) { setEmailNotifications(input: $i) { enabled user { emailNotifications }"
    " errors { code } } }"
)


# ---------------------------------------------------------------- the partner's receiver


class Receiver:
    """A partner endpoint on 127.0.0.1: `mode` is ok, fail (500), slow (sleeps past the client's timeout) or
    redirect (307 to /elsewhere); `got` holds (path, headers, body) of every request that reached a handler."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mode = "ok"
        self.got: list[tuple[str, dict[str, str], bytes]] = []
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    async def _hook(self, request: Request):
        body = await request.body()
        self.got.append((request.url.path, dict(request.headers), body))
        if self.mode == "fail":
            return PlainTextResponse("boom", status_code=500)
        if self.mode == "slow":
            await asyncio.sleep(20)
        if self.mode == "redirect":
            return RedirectResponse("/elsewhere", status_code=307)
        return PlainTextResponse("ok" * 10_000)  # a long answer: the client reads only its first bytes

    def start(self) -> None:
        app = Starlette(
            routes=[Route("/hook", self._hook, methods=["POST"]), Route("/elsewhere", self._hook, methods=["POST"])]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60  # a loaded machine starts slowly: poll, generously
        while not self.server.started:
            assert time.monotonic() < deadline, "the receiver did not start"
            assert self.thread.is_alive(), "the receiver died while starting"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(timeout=30)
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self, secret: str) -> list[dict]:
        """Every request to /hook, verified (raises on a bad signature), once per webhook-id, in arrival order."""
        seen, out = set(), []
        for path, headers, body in self.got:
            if path != "/hook":
                continue
            payload = Verifier(secret).verify(body, headers)
            if headers["webhook-id"] in seen:
                continue  # at least once: a retry of a delivery the receiver already had
            seen.add(headers["webhook-id"])
            out.append({**payload, "webhook-id": headers["webhook-id"]})
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiver():
    r = Receiver(free_port())
    yield r
    r.stop()


@pytest.fixture
def hook_settings(settings):
    """The suite's settings, with the local receiver allowed (http, 127.0.0.1) and a short read timeout."""
    return dataclasses.replace(
        settings, webhook_allow_http=True, webhook_allowed_hosts=("127.0.0.1",), webhook_timeout_seconds=5.0
    )


@pytest.fixture
async def hgql(hook_settings, database):
    app = create_app(hook_settings, manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield GQL(client)


async def key_gid(world: World) -> str:
    key = await ApiKey.get(prefix=world.partner_key[: len("pk_") + 8])
    return gid("ApiKey", key.id)


async def grant(gql: GQL, world: World, *scopes: str) -> None:
    data = await gql.ok(SCOPES, {"i": {"id": await key_gid(world), "scopes": list(scopes)}}, world.tokens["admin"])
    assert data["setApiKeyScopes"]["errors"] == [], data


async def register(gql: GQL, world: World, url: str, types: list[str]) -> tuple[str, str]:
    data = await gql.ok(
        CREATE_HOOK, {"i": {"apiKeyId": await key_gid(world), "url": url, "eventTypes": types}}, world.tokens["admin"]
    )
    payload = data["createWebhook"]
    assert payload["errors"] == [], payload
    assert payload["secret"].startswith("whsec_")
    return payload["secret"], payload["webhook"]["id"]


async def place(gql: GQL, world: World, token: str = "buyer", product=None, quantity: int = 2) -> dict:
    product = product or world.product
    i = {
        "items": [{"productId": gid("Product", product.id), "quantity": quantity}],
        "neededBy": SOON,
        "deliveryAddress": "Jl. Jimerto 25",
    }
    data = await gql.ok(PLACE, {"i": i}, world.tokens[token])
    assert data["placeOrder"]["errors"] == [], data
    return data["placeOrder"]["orders"][0]


async def step(gql: GQL, world: World, doc: str, order_id: str, who: str = "owner", **extra) -> None:
    data = await gql.ok(doc, {"i": {"id": order_id, **extra}}, world.tokens[who])
    assert next(iter(data.values()))["errors"] == [], data


async def drain(settings, start: dt.datetime, rounds: int = 12) -> dt.datetime:
    """Dispatch rounds an hour apart until nothing is pending (every retry is due by then)."""
    now = start
    for _ in range(rounds):
        await dispatch.dispatch_once(settings, now)
        if not await WebhookDelivery.filter(status=DeliveryStatus.PENDING).exists():
            return now
        now += dt.timedelta(hours=1)
    raise AssertionError("deliveries still pending")


# ---------------------------------------------------------------- delivery


async def test_a_receiver_down_failing_or_slow_gets_every_event_after_it_recovers_in_order_and_signed(
    hgql, world, receiver, hook_settings
):
    await grant(hgql, world, "orders:read")
    secret, hook_id = await register(hgql, world, receiver.url, ORDER_TYPES)
    first = await place(hgql, world)
    second = await place(hgql, world, product=world.other_product)
    await step(hgql, world, ACCEPT, first["id"])
    await step(hgql, world, SHIP, first["id"])
    await step(hgql, world, REJECT, second["id"], who="other_owner", reason="Stok habis")
    t0 = dt.datetime.now(dt.UTC)

    r = await dispatch.dispatch_once(hook_settings, t0)  # down: nobody listens on the port
    assert (r.fanned_out, r.delivered, r.failed) == (5, 0, 1)
    receiver.mode = "fail"
    receiver.start()
    r = await dispatch.dispatch_once(hook_settings, t0 + dt.timedelta(seconds=6))
    assert (r.delivered, r.failed) == (0, 1) and len(receiver.got) == 1
    receiver.mode = "slow"
    r = await dispatch.dispatch_once(hook_settings, t0 + dt.timedelta(seconds=40))
    assert (r.delivered, r.failed) == (0, 1)
    receiver.mode = "ok"
    await drain(hook_settings, t0 + dt.timedelta(minutes=10))

    got = receiver.events(secret)  # every signature verifies
    assert sorted(e["type"] for e in got) == sorted(
        ["order.placed", "order.placed", "order.accepted", "order.shipped", "order.rejected"]
    )
    per_order: dict[str, list[str]] = {}
    for e in got:
        per_order.setdefault(e["data"]["order"]["number"], []).append(e["type"])
    assert per_order[first["number"]] == ["order.placed", "order.accepted", "order.shipped"]
    assert per_order[second["number"]] == ["order.placed", "order.rejected"]
    placed = next(e for e in got if e["data"]["order"]["number"] == first["number"])
    assert placed["data"]["order"]["id"] == first["id"] and placed["data"]["order"]["total"] == 300_000
    assert all(e["webhook-id"].startswith("msg_") for e in got)

    # the delivery log: the first delivery's tries, as the admin and the partner see them
    body = await hgql.ok(DELIVERIES, {"w": hook_id, "first": 10}, world.tokens["partner"])
    log = body["webhookDeliveries"]
    assert log["totalCount"] == 5
    oldest = log["edges"][-1]["node"]
    assert oldest["status"] == "DELIVERED" and oldest["eventType"] == "order.placed"
    tries = oldest["attempts"]
    assert [t["number"] for t in tries] == [1, 2, 3, 4]
    assert tries[0]["statusCode"] is None and tries[0]["error"]
    assert (tries[1]["statusCode"], tries[1]["error"]) == (500, "HTTP 500")
    assert (tries[2]["statusCode"], tries[2]["error"]) == (None, "timed out")
    assert (tries[3]["statusCode"], tries[3]["error"]) == (200, "")
    page = await hgql.ok(DELIVERIES, {"first": 2}, world.tokens["admin"])
    assert page["webhookDeliveries"]["pageInfo"]["hasNextPage"] is True
    after = page["webhookDeliveries"]["pageInfo"]["endCursor"]
    rest = await hgql.ok(DELIVERIES, {"first": 10, "after": after}, world.tokens["admin"])
    assert len(rest["webhookDeliveries"]["edges"]) == 3


async def test_events_committed_before_a_crash_are_delivered_by_a_new_dispatcher_process(
    hgql, world, receiver, hook_settings, database_url
):
    """The server committed and died before dispatching: another process (`pasar outbox dispatch --once`) sends."""
    await grant(hgql, world, "orders:read")
    secret, _ = await register(hgql, world, receiver.url, ORDER_TYPES)
    order = await place(hgql, world)
    receiver.start()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PASAR_SECRET": SECRET,
        "PASAR_WEBHOOK_ALLOW_HTTP": "true",
        "PASAR_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app", "outbox", "dispatch", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "1 events fanned out, 1 delivered" in done.stdout
    got = receiver.events(secret)
    assert [(e["type"], e["data"]["order"]["number"]) for e in got] == [("order.placed", order["number"])]


async def test_a_rolled_back_change_sends_nothing(hgql, world, receiver, hook_settings):
    await grant(hgql, world, "orders:read")
    await register(hgql, world, receiver.url, ORDER_TYPES)
    # two sellers in one basket; the second has too little stock: no order at all, so no event either
    i = {
        "items": [
            {"productId": gid("Product", world.product.id), "quantity": 2},
            {"productId": gid("Product", world.other_product.id), "quantity": 10_000},
        ],
        "neededBy": SOON,
        "deliveryAddress": "Jl. Jimerto 25",
    }
    data = await hgql.ok(PLACE, {"i": i}, world.tokens["buyer"])
    assert [e["code"] for e in data["placeOrder"]["errors"]] == ["INSUFFICIENT_STOCK"]
    # and a rule that recorded its event and then failed
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await outbox.record(
                _ctx(hook_settings), "umkm.suspended", "umkm:1", {"umkm_id": 1, "name": "x", "kecamatan_id": 1}
            )
            raise RuntimeError("the change failed after its event was written")
    receiver.start()
    r = await dispatch.dispatch_once(hook_settings)
    assert (r.fanned_out, r.delivered) == (0, 0)
    assert await OutboxEvent.all().count() == 0 and await Order.all().count() == 0
    assert receiver.got == []


@dataclasses.dataclass
class _ctx:
    settings: object
    clock: object = dataclasses.field(default_factory=SystemClock)


# ---------------------------------------------------------------- what a key may hear


async def test_a_key_without_orders_read_hears_no_order_events_and_personal_orders_are_never_sent(
    hgql, world, receiver, hook_settings
):
    # without the scope, an endpoint cannot ask for order events
    data = await hgql.ok(
        CREATE_HOOK,
        {"i": {"apiKeyId": await key_gid(world), "url": receiver.url, "eventTypes": ["order.placed"]}},
        world.tokens["admin"],
    )
    assert [(e["field"], e["code"]) for e in data["createWebhook"]["errors"]] == [("eventTypes", "SCOPE_MISSING")]
    # with it, an endpoint is made; then the admin takes the scope away: nothing is sent after that
    await grant(hgql, world, "orders:read", "umkm:read")
    secret, _ = await register(hgql, world, receiver.url, [*ORDER_TYPES, "umkm.suspended"])
    await grant(hgql, world, "umkm:read")
    await place(hgql, world)
    suspend = "mutation($i: VerifyUmkmInput!) { verifyUmkm(input: $i) { umkm { status } errors { code } } }"
    body = await hgql.ok(
        suspend,
        {"i": {"id": gid("Umkm", world.other_umkm.id), "decision": "SUSPEND", "note": "izin habis"}},
        world.tokens["admin"],
    )
    assert body["verifyUmkm"]["errors"] == []
    receiver.start()
    await drain(hook_settings, dt.datetime.now(dt.UTC))
    got = receiver.events(secret)
    assert [e["type"] for e in got] == ["umkm.suspended"]
    assert got[0]["data"]["umkm"] == {
        "id": gid("Umkm", world.other_umkm.id),
        "name": "Batik Lain",
        "status": "SUSPENDED",
        "previousStatus": "VERIFIED",
        "kecamatan": {"id": gid("Kecamatan", world.other_umkm.kecamatan_id)},
    }
    # the scope back: an employee's personal order is still never sent, the OPD's order is
    await grant(hgql, world, "orders:read", "umkm:read")
    receiver.got.clear()
    await place(hgql, world, token="employee")
    opd_order = await place(hgql, world)
    await drain(hook_settings, dt.datetime.now(dt.UTC))
    got = receiver.events(secret)
    assert [(e["type"], e["data"]["order"]["number"]) for e in got] == [("order.placed", opd_order["number"])]
    sent = json.dumps(got)
    for personal in ("Jl. Jimerto", "Pak Batik", "081234567890", "0011223344", world.users["buyer"].email):
        assert personal not in sent


async def test_omzet_events_carry_no_amounts(hgql, world, receiver, hook_settings):
    await grant(hgql, world, "omzet:read")
    secret, _ = await register(hgql, world, receiver.url, ["omzet.submitted"])
    await OutboxEvent.create(
        topic="omzet.submitted",
        aggregate=f"umkm:{world.umkm.id}",
        payload={"umkm_id": world.umkm.id, "period": "2026-01", "revision": 1, "late": False, "total": 123_456_789},
        created_at=dt.datetime.now(dt.UTC),
    )
    receiver.start()
    await drain(hook_settings, dt.datetime.now(dt.UTC))
    (event,) = receiver.events(secret)
    assert event["data"] == {
        "umkm": {"id": gid("Umkm", world.umkm.id)},
        "period": "2026-01",
        "revision": 1,
        "late": False,
    }


# ---------------------------------------------------------------- retries, dead, redelivery, retention


async def test_a_delivery_dies_after_the_schedule_and_is_redelivered_by_hand(hgql, world, receiver, hook_settings):
    await grant(hgql, world, "orders:read")
    secret, hook_id = await register(hgql, world, receiver.url, ORDER_TYPES)
    await place(hgql, world)
    receiver.mode = "fail"
    receiver.start()
    now = dt.datetime.now(dt.UTC)
    for _ in range(len(dispatch.RETRY_DELAYS) + 1):
        await dispatch.dispatch_once(hook_settings, now)
        now += dt.timedelta(hours=13)  # past every delay of the schedule
    d = await WebhookDelivery.get()
    assert (d.status, d.attempts) == (DeliveryStatus.DEAD, len(dispatch.RETRY_DELAYS) + 1)
    assert await DeliveryAttempt.filter(delivery_id=d.id).count() == 8
    await dispatch.dispatch_once(hook_settings, now)
    assert await DeliveryAttempt.filter(delivery_id=d.id).count() == 8  # dead: no more tries
    # the partner owning the endpoint redelivers it; another key cannot see it
    delivery_id = to_global_id("WebhookDelivery", d.id)
    other_raw, _ = await _other_key(world)
    body = await hgql.ok(REDELIVER, {"i": {"deliveryId": delivery_id}}, other_raw)
    assert [e["code"] for e in body["redeliverWebhook"]["errors"]] == ["NOT_FOUND"]
    assert (await hgql.ok(DELIVERIES, {}, other_raw))["webhookDeliveries"]["totalCount"] == 0
    body = await hgql.ok(REDELIVER, {"i": {"deliveryId": delivery_id}}, world.tokens["partner"])
    assert body["redeliverWebhook"] == {"delivery": {"status": "PENDING"}, "errors": []}
    receiver.mode = "ok"
    receiver.got.clear()
    r = await dispatch.dispatch_once(hook_settings, now)
    assert r.delivered == 1
    assert [e["type"] for e in receiver.events(secret)] == ["order.placed"]
    log = await hgql.ok(DELIVERIES, {"w": hook_id}, world.tokens["admin"])
    node = log["webhookDeliveries"]["edges"][0]["node"]
    assert node["status"] == "DELIVERED" and node["attempts"][-1]["number"] == 9

    # retention: 30 days after it finished, the delivery, its tries and the event are purged
    r = await dispatch.dispatch_once(hook_settings, now + dt.timedelta(days=29))
    assert await WebhookDelivery.all().count() == 1
    r = await dispatch.dispatch_once(hook_settings, now + dt.timedelta(days=31))
    assert r.purged == {"attempts": 9, "deliveries": 1, "emails": 0, "events": 1}
    assert await OutboxEvent.all().count() == 0 and await DeliveryAttempt.all().count() == 0


async def _other_key(world: World) -> tuple[str, ApiKey]:
    from resolvers import accounts
    from tests.conftest import _AdminCtx

    return await accounts.create_api_key(_AdminCtx(world.settings, world.users["admin"].id), "Mitra Lain", None)


async def test_one_dispatcher_at_a_time(hook_settings):
    if not TEST_URL.startswith("postgres"):
        pytest.skip("on SQLite there is one process, which always dispatches")
    from models.jobs import single_runner

    async with single_runner(dispatch.JOB) as mine:
        assert mine
        r = await dispatch.dispatch_once(hook_settings)
    assert r.ran is False
    assert (await dispatch.dispatch_once(hook_settings)).ran is True


# ---------------------------------------------------------------- the SSRF guard


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://192.168.1.1/",
        "https://0.0.0.0/",
        "http://hooks.example.org/pasar",  # not https
        "https://user:pw@hooks.example.org/",
        "ftp://hooks.example.org/",
    ],
)
async def test_private_loopback_link_local_and_plain_http_endpoints_are_refused(gql, world, url):
    await grant(gql, world, "orders:read")
    data = await gql.ok(
        CREATE_HOOK,
        {"i": {"apiKeyId": await key_gid(world), "url": url, "eventTypes": ["order.placed"]}},
        world.tokens["admin"],
    )
    assert [(e["field"], e["code"]) for e in data["createWebhook"]["errors"]] == [("url", "URL_REFUSED")]
    assert await Webhook.all().count() == 0


async def test_a_name_resolving_to_loopback_is_refused_at_delivery_and_redirects_are_not_followed(
    hgql, world, receiver, hook_settings
):
    await grant(hgql, world, "orders:read")
    # a name, not an address: it passes registration and is checked when resolved, at each delivery
    await register(hgql, world, f"http://localhost:{receiver.port}/hook", ["order.placed"])
    await place(hgql, world)
    receiver.start()
    await dispatch.dispatch_once(hook_settings)
    assert receiver.got == []
    attempt = await DeliveryAttempt.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("refused: localhost resolves to") and "not a public address" in attempt.error

    # a receiver that redirects: the 307 is logged as a failure and /elsewhere is never called
    await Webhook.all().update(active=False)
    await register(hgql, world, receiver.url, ["order.placed"])
    receiver.mode = "redirect"
    await place(hgql, world)
    await dispatch.dispatch_once(hook_settings, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    assert [path for path, _, _ in receiver.got] == ["/hook"]
    redirect = await DeliveryAttempt.filter(status_code=307).get()
    assert redirect.error == "HTTP 307 (redirects are not followed)"


def test_the_guard_checks_every_kind_of_address():
    import ipaddress

    for bad in ("127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254", "::1", "fe80::1", "fc00::1",
                "::ffff:10.0.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1"):  # fmt: skip
        assert not netguard.public_address(ipaddress.ip_address(bad)), bad
    for good in ("1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert netguard.public_address(ipaddress.ip_address(good)), good
    with pytest.raises(netguard.TargetRefused):
        netguard.parse_target("http://127.0.0.1/", allow_http=True, allowed_hosts=())
    assert netguard.parse_target("http://127.0.0.1:9/x", allow_http=True, allowed_hosts=("127.0.0.1",)).port == 9


async def test_the_connection_goes_to_the_checked_address_with_the_original_host_name():
    """Pinned: the request is sent to the address that was checked; the Host header keeps the name."""
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers["host"], request.extensions.get("sni_hostname")))
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=False) as client:
        status, _ = await netguard.post(
            client, "http://localhost:8123/hook", b"{}", {}, allow_http=True, allowed_hosts=("localhost",)
        )
    assert status == 204
    assert seen[0][0] in ("127.0.0.1", "::1") and seen[0][1] == "localhost:8123"


def test_global_ids_in_payloads_are_the_apis():
    assert from_global_id(to_global_id("Order", 42)) == ("Order", 42)
    assert global_id("Order", 42) == to_global_id("Order", 42)


# ---------------------------------------------------------------- e-mail


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ready_timeout=60)
    controller.start()
    yield controller, inbox
    controller.stop()


async def test_owners_and_buyers_get_short_indonesian_e_mails_unless_they_opted_out(hgql, world, smtp, hook_settings):
    controller, inbox = smtp
    settings = dataclasses.replace(hook_settings, email=True, smtp_host="127.0.0.1", smtp_port=controller.port)
    first = await place(hgql, world)
    second = await place(hgql, world)
    await step(hgql, world, REJECT, first["id"], reason="Stok kain habis")
    await step(hgql, world, ACCEPT, second["id"])
    personal = await place(hgql, world, token="employee")
    await step(hgql, world, ACCEPT, personal["id"])
    await step(hgql, world, SHIP, personal["id"])
    r = await dispatch.dispatch_once(settings)
    # the owner: three new orders; the buyer: the rejection; the employee: the shipment (acceptance sends none)
    assert r.emailed == 5
    body = await hgql.ok(OPT, {"i": {"enabled": False}}, world.tokens["buyer"])
    assert body["setEmailNotifications"] == {"enabled": False, "user": {"emailNotifications": False}, "errors": []}
    await step(hgql, world, SHIP, second["id"])  # the buyer opted out: no e-mail for the shipment
    r = await dispatch.dispatch_once(settings)
    assert (r.fanned_out, r.emailed) == (1, 0)
    assert await EmailMessage.all().count() == 5
    got = [(to, msg["Subject"], msg.get_content()) for to, msg in inbox.messages]
    owner, buyer, employee = (world.users[n].email for n in ("owner", "buyer", "employee"))
    assert [(to, subject) for to, subject, _ in got] == [
        ([owner], f"Pesanan baru {first['number']}"),
        ([owner], f"Pesanan baru {second['number']}"),
        ([buyer], f"Pesanan {first['number']} ditolak"),
        ([owner], f"Pesanan baru {personal['number']}"),
        ([employee], f"Pesanan {personal['number']} sedang dikirim"),
    ]
    assert "konfirmasikan penerimaan (BAST)" in got[4][2]
    text = got[2][2]
    assert "ditolak oleh Batik Kenongo" in text and "Alasan: Stok kain habis" in text and "Rp300.000" in text
    for _to, _, text in got:
        assert "Jl. Jimerto" not in text and "Buyer" not in text and "0011223344" not in text
    assert await EmailMessage.filter(status=DeliveryStatus.DELIVERED).count() == 5


async def test_an_e_mail_is_retried_when_the_smtp_server_is_down(hgql, world, smtp, hook_settings):
    controller, inbox = smtp
    down = dataclasses.replace(hook_settings, email=True, smtp_host="127.0.0.1", smtp_port=free_port())
    await place(hgql, world)
    now = dt.datetime.now(dt.UTC)
    await dispatch.dispatch_once(down, now)
    m = await EmailMessage.get()
    assert (m.status, m.attempts) == (DeliveryStatus.PENDING, 1) and m.last_error
    up = dataclasses.replace(down, smtp_port=controller.port)
    await dispatch.dispatch_once(up, now + dt.timedelta(seconds=2))  # not due yet
    assert inbox.messages == []
    r = await dispatch.dispatch_once(up, now + dt.timedelta(seconds=6))
    assert r.emailed == 1 and len(inbox.messages) == 1


async def test_subscriptions_and_the_outbox_hear_the_same_event(hgql, world, hook_settings):
    """The subscription's message is made from the outbox row's facts (published after commit)."""
    order = await place(hgql, world)
    (event,) = await OutboxEvent.all()
    assert event.topic == "order.placed" and event.aggregate.startswith("order:")
    assert event.payload["number"] == order["number"] and event.payload["kind"] == "OPD"
    msg = outbox.message_of(event.payload)
    assert (msg.order_id, msg.to_status, msg.from_status) == (event.payload["order_id"], "SUBMITTED", None)


async def test_the_outbox_can_be_switched_off_for_measuring(world, settings, database):
    off = dataclasses.replace(settings, outbox=False)
    app = create_app(off, manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await place(GQL(client), world)
    assert await Order.all().count() == 1 and await OutboxEvent.all().count() == 0


async def test_a_payment_reminder_queued_by_a_rule_reaches_the_opds_treasurer(hgql, world, smtp, hook_settings):
    """`outbox.queue_payment_reminder` is for the clocks of unpaid delivered orders: e-mail only, never a webhook."""
    controller, inbox = smtp
    settings = dataclasses.replace(hook_settings, email=True, smtp_host="127.0.0.1", smtp_port=controller.port)
    await grant(hgql, world, "orders:read")
    await register(hgql, world, "https://mitra.test/pasar", ORDER_TYPES)
    order = await place(hgql, world)
    row = await Order.get(number=order["number"])
    await dispatch.dispatch_once(settings)  # the owner's "new order" e-mail
    inbox.messages.clear()
    async with in_transaction():
        await outbox.queue_payment_reminder(_ctx(settings), row, 7)
    deliveries = await WebhookDelivery.all().count()
    r = await dispatch.dispatch_once(settings)
    assert r.emailed == 1 and await WebhookDelivery.all().count() == deliveries
    ((to, msg),) = inbox.messages
    assert to == [world.users["treasurer"].email]
    assert msg["Subject"] == f"Pengingat pembayaran pesanan {order['number']}"
    assert "sudah diterima sejak 7 hari, tetapi belum dibayar" in msg.get_content()


async def test_bad_webhook_and_scope_inputs_are_payload_errors(gql, world):
    await grant(gql, world, "orders:read")
    bad = await gql.ok(
        CREATE_HOOK,
        {"i": {"apiKeyId": await key_gid(world), "url": "https://mitra.test/x", "eventTypes": ["order.exploded", ""]}},
        world.tokens["admin"],
    )
    assert [(e["field"], e["code"]) for e in bad["createWebhook"]["errors"]] == [("eventTypes", "UNKNOWN_EVENT_TYPE")]
    none = await gql.ok(
        CREATE_HOOK,
        {"i": {"apiKeyId": await key_gid(world), "url": "https://mitra.test/x", "eventTypes": []}},
        world.tokens["admin"],
    )
    assert [e["code"] for e in none["createWebhook"]["errors"]] == ["REQUIRED"]
    scopes = await gql.ok(
        SCOPES, {"i": {"id": await key_gid(world), "scopes": ["orders:write"]}}, world.tokens["admin"]
    )
    assert [e["code"] for e in scopes["setApiKeyScopes"]["errors"]] == ["UNKNOWN_SCOPE"]
    _secret, hook = await register(gql, world, "https://mitra.test/x", ["order.placed"])
    update = "mutation($i: UpdateWebhookInput!) { updateWebhook(input: $i) { webhook { url active } errors { field code } } }"
    moved = await gql.ok(update, {"i": {"id": hook, "url": "https://10.0.0.9/x"}}, world.tokens["admin"])
    assert moved["updateWebhook"]["errors"] == [{"field": "url", "code": "URL_REFUSED"}]
    off = await gql.ok(update, {"i": {"id": hook, "active": False}}, world.tokens["admin"])
    assert off["updateWebhook"] == {"webhook": {"url": "https://mitra.test/x", "active": False}, "errors": []}
    listed = await gql.ok(
        "{ webhooks { totalCount edges { node { url apiKey { name } } } } }", None, world.tokens["partner"]
    )
    assert listed["webhooks"]["totalCount"] == 1
    other_raw, _ = await _other_key(world)
    assert (await gql.ok("{ webhooks { totalCount } }", None, other_raw))["webhooks"]["totalCount"] == 0
