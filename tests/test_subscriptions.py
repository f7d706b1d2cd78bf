"""Order subscriptions over WebSocket (graphql-transport-ws): who hears which order events, the token in the
connection_init payload, and (on PostgreSQL) events crossing server processes through LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from models.accounts import Token, User
from resolvers import events
from tests.conftest import SECRET, TEST_URL, gid

PROTOCOL = "graphql-transport-ws"
WAIT = 30.0  # longest wait for a message that must come (generous: the machine may be busy)
QUIET = 1.5  # how long a subscriber must hear nothing
SETTLE = 0.3  # lets a freshly sent `subscribe` reach the bus before an order is placed
ROOT = Path(__file__).resolve().parent.parent

ORDER_EVENTS = "subscription { orderEvents { orderId number toStatus fromStatus umkmId } }"
PLACE = """
mutation($p: ID!, $neededBy: Date!) {
  placeOrder(input: {items: [{productId: $p, quantity: 2}], neededBy: $neededBy, deliveryAddress: "Jl. Jimerto 25"}) {
    orders { id number status }
    errors { field code message }
  }
}"""
ACCEPT = """
mutation($id: ID!) {
  acceptOrder(input: {id: $id}) { order { id status } errors { field code message } }
}"""


# ---------------------------------------------------------------- helpers


@contextlib.asynccontextmanager
async def ws_client(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose WebSockets go straight into the in-process ASGI app."""
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app=app), base_url="http://test") as client:
        yield client


async def receive(ws: AsyncWebSocketSession, within: float = WAIT) -> dict:
    """The next protocol message, answering pings on the way."""
    while True:
        msg = await asyncio.wait_for(ws.receive_json(), within)
        if msg.get("type") == "ping":
            await ws.send_json({"type": "pong"})
            continue
        if msg.get("type") == "pong":
            continue
        return msg


async def init(ws: AsyncWebSocketSession, token: str | None) -> None:
    await ws.send_json({"type": "connection_init", "payload": {"token": token} if token else {}})
    ack = await receive(ws)
    assert ack == {"type": "connection_ack"} or ack.get("type") == "connection_ack", ack


async def subscribe(ws: AsyncWebSocketSession, query: str = ORDER_EVENTS, op_id: str = "1") -> None:
    await ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query}})


@contextlib.asynccontextmanager
async def order_events(
    client: httpx.AsyncClient, token: str | None, url: str = "http://test/graphql", settle: float = SETTLE
) -> AsyncIterator[AsyncWebSocketSession]:
    """A connection authenticated with `token`, subscribed to orderEvents as operation "1"."""
    async with aconnect_ws(url, client, subprotocols=[PROTOCOL]) as ws:
        await init(ws, token)
        await subscribe(ws)
        await asyncio.sleep(settle)
        yield ws


async def next_event(ws: AsyncWebSocketSession, within: float = WAIT) -> dict:
    msg = await receive(ws, within)
    assert msg.get("type") == "next" and msg.get("id") == "1", msg
    assert "errors" not in msg["payload"], msg
    return msg["payload"]["data"]["orderEvents"]


async def assert_silent(ws: AsyncWebSocketSession, seconds: float = QUIET) -> None:
    with pytest.raises(TimeoutError):
        msg = await receive(ws, seconds)
        pytest.fail(f"expected no message, got {msg}")


def needed_by() -> str:
    return (dt.date.today() + dt.timedelta(days=14)).isoformat()


async def place(gql, world, product) -> dict:
    data = await gql.ok(PLACE, {"p": gid("Product", product.id), "neededBy": needed_by()}, world.tokens["buyer"])
    payload = data["placeOrder"]
    assert payload["errors"] == [], payload
    [order] = payload["orders"]
    assert order["status"] == "SUBMITTED" and order["number"], order
    return order


# ---------------------------------------------------------------- who hears what


async def test_owner_subscription_receives_its_new_order(app, gql, world):
    async with ws_client(app) as client, order_events(client, world.tokens["owner"]) as ws:
        order = await place(gql, world, world.product)

        event = await next_event(ws)
        assert event["orderId"] == order["id"]
        assert event["number"] == order["number"]
        assert event["toStatus"] == "SUBMITTED"
        assert event["fromStatus"] is None
        assert event["umkmId"] == gid("Umkm", world.umkm.id)

        data = await gql.ok(ACCEPT, {"id": order["id"]}, world.tokens["owner"])
        assert data["acceptOrder"]["errors"] == [], data
        assert data["acceptOrder"]["order"]["status"] == "ACCEPTED"

        event = await next_event(ws)
        assert (event["orderId"], event["number"]) == (order["id"], order["number"])
        assert (event["fromStatus"], event["toStatus"]) == ("SUBMITTED", "ACCEPTED")


async def test_another_owners_subscription_receives_nothing(app, gql, world):
    async with (
        ws_client(app) as client,
        order_events(client, world.tokens["other_owner"]) as other,
        order_events(client, world.tokens["owner"]) as owner,
    ):
        mine = await place(gql, world, world.product)
        # the event was published (its owner hears it) ...
        assert (await next_event(owner))["number"] == mine["number"]
        # ... but not to another UMKM's owner
        await assert_silent(other)

        theirs = await place(gql, world, world.other_product)
        event = await next_event(other)
        assert (event["number"], event["toStatus"]) == (theirs["number"], "SUBMITTED")
        assert event["umkmId"] == gid("Umkm", world.other_umkm.id)
        await assert_silent(owner, 0.5)


async def test_buyer_hears_their_opds_orders(app, gql, world):
    async with ws_client(app) as client, order_events(client, world.tokens["buyer"]) as ws:
        first = await place(gql, world, world.product)
        second = await place(gql, world, world.other_product)
        heard = [await next_event(ws), await next_event(ws)]
        assert {(e["number"], e["toStatus"]) for e in heard} == {
            (first["number"], "SUBMITTED"),
            (second["number"], "SUBMITTED"),
        }


async def test_anonymous_subscription_is_refused(app, gql, world):
    async with ws_client(app) as client, aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as ws:
        await init(ws, None)  # no token: the connection itself is allowed (public queries) ...
        await subscribe(ws)
        msg = await receive(ws)
        # ... but the subscription is not
        assert msg.get("id") == "1", msg
        if msg["type"] == "error":
            errors = msg["payload"]
        else:
            assert msg["type"] == "next", msg
            errors = msg["payload"].get("errors") or []
            assert not (msg["payload"].get("data") or {}).get("orderEvents"), msg
        assert [e.get("extensions", {}).get("code") for e in errors] == ["UNAUTHENTICATED"], msg

        await asyncio.sleep(SETTLE)
        await place(gql, world, world.product)
        with contextlib.suppress(TimeoutError):
            while True:  # whatever else arrives (a `complete`), no order event does
                late = await receive(ws, 1.0)
                assert late.get("type") == "complete" and late.get("id") == "1", late


async def test_bad_token_is_rejected_at_connection_init(app, world):
    async with ws_client(app) as client, aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"token": world.tokens["owner"] + "x"}})
        with pytest.raises(WebSocketDisconnect) as closed:
            msg = await receive(ws)
            pytest.fail(f"expected the connection to be closed, got {msg}")
        assert closed.value.code == 4403, closed.value


# ---------------------------------------------------------------- the bus


def _message(event_id: int) -> events.OrderEventMessage:
    return events.OrderEventMessage(
        event_id=event_id, order_id=1, number="PO-1", kind="OPD", opd_id=1, buyer_id=1, umkm_id=1,
        from_status=None, to_status="SUBMITTED", at="2026-01-05T08:00:00+00:00",
    )  # fmt: skip


async def test_a_subscriber_that_stopped_reading_does_not_starve_the_others():
    bus = events.EventBus()
    stuck, live = bus.subscribe(), bus.subscribe()
    stuck_first, live_next = asyncio.ensure_future(anext(stuck)), asyncio.ensure_future(anext(live))
    try:
        await asyncio.sleep(0)  # both generators register their queues
        for i in range(1005):  # `stuck` takes the first event, then its queue (1000) fills up
            bus.deliver_local(_message(i))
            assert (await asyncio.wait_for(live_next, 1)).event_id == i
            live_next = asyncio.ensure_future(anext(live))
        assert stuck_first.result().event_id == 0
    finally:
        live_next.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await live_next
        await stuck.aclose()
        await live.aclose()
    assert not bus._queues


# ---------------------------------------------------------------- across server processes (PostgreSQL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_healthy(
    client: httpx.AsyncClient, base: str, proc: asyncio.subprocess.Process, within: float = 300.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if proc.returncode is not None:
            raise AssertionError(f"the second server exited with {proc.returncode}")
        try:
            r = await client.get(f"{base}/healthz", timeout=30)
            if r.status_code == 200:
                return
        except httpx.TransportError:
            pass
        if loop.time() > deadline:
            raise AssertionError(f"the second server did not become healthy within {within}s")
        await asyncio.sleep(0.2)


@pytest.mark.skipif(
    not TEST_URL.startswith("postgres"),
    reason="events cross server processes only through PostgreSQL LISTEN/NOTIFY (set PASAR_TEST_DATABASE_URL)",
)
async def test_order_reaches_a_subscriber_connected_to_another_server_process(gql, world, settings):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PASAR_SECRET": SECRET,
        "PYTHONPATH": str(ROOT),
    }
    for name in ("PASAR_HOST", "PASAR_PORT"):
        env.pop(name, None)
    log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        "--port",
        str(port),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient() as client:
            await wait_healthy(client, base, proc)
            async with order_events(client, world.tokens["owner"], f"{base}/graphql", settle=0.5) as ws:
                order = await place(gql, world, world.product)  # placed in this process, heard in the other
                event = await next_event(ws)
                assert (event["orderId"], event["number"]) == (order["id"], order["number"])
                assert event["toStatus"] == "SUBMITTED"
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.seek(0)
        output = log.read().decode(errors="replace")
        log.close()
        if "Traceback" in output:
            print(output[-4000:], file=sys.stderr)  # shown by pytest when the test fails


async def test_a_bad_argument_in_a_running_subscription_gets_a_code_not_a_raw_error(app, world):
    async with ws_client(app) as client, aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as ws:
        await init(ws, world.tokens["owner"])
        await subscribe(ws, 'subscription { orderEvents(umkmId: "bm9wZTox") { orderId } }')
        msg = await receive(ws)
        errors = msg["payload"] if msg["type"] == "error" else msg["payload"].get("errors")
        assert errors and errors[0]["extensions"]["code"] == "BAD_USER_INPUT", msg


@pytest.mark.skipif(not TEST_URL.startswith("postgres"), reason="the LISTEN connection exists on PostgreSQL only")
async def test_subscribers_keep_hearing_after_the_listen_connection_is_killed(app, gql, world):
    from tortoise import connections

    async with ws_client(app) as client, order_events(client, world.tokens["owner"]) as ws:
        bus = events.get_bus()
        assert isinstance(bus, events.PostgresBus) and bus._listener is not None
        pid = bus._listener.get_server_pid()
        await connections.get("default").execute_query("SELECT pg_terminate_backend($1)", [pid])
        for _ in range(50):  # the reconnect starts after half a second
            await asyncio.sleep(0.1)
            if bus._listener is not None and bus._listener.get_server_pid() != pid:
                break
        order = await place(gql, world, world.product)
        event = await next_event(ws)
        assert event["number"] == order["number"]


# ---------------------------------------------------------------- sessions end everywhere


@pytest.mark.parametrize("how", ["logout", "revoked key", "deactivated"])
async def test_an_open_subscription_ends_soon_after_its_session_does(app, gql, world, how):
    """Logout, a revoked partner credential or a deactivated user: the socket's subscription ends with
    UNAUTHENTICATED within a few seconds (PASAR_SESSION_CHECK_SECONDS: 5 by default, 1 in the tests), and hears
    nothing after."""
    token = world.tokens["owner"]
    async with ws_client(app) as client, order_events(client, token) as ws:
        await place(gql, world, world.product)
        assert (await next_event(ws))["toStatus"] == "SUBMITTED"  # alive
        if how == "logout":
            assert (await gql.ok("mutation { logout { ok } }", token=token))["logout"]["ok"]
        elif how == "revoked key":
            await Token.filter(user_id=world.users["owner"].id).update(revoked_at=dt.datetime.now(dt.UTC))
        else:
            await User.filter(id=world.users["owner"].id).update(active=False)
        msg = await receive(ws, WAIT)
        assert msg.get("id") == "1" and msg.get("type") in ("error", "next"), msg
        errors = msg["payload"] if msg["type"] == "error" else msg["payload"].get("errors")
        assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED", msg
        assert "session has ended" in errors[0]["message"]
        await place(gql, world, world.product)
        with pytest.raises(TimeoutError):
            while True:  # a `complete` may follow; no order event may
                late = await receive(ws, QUIET)
                assert late.get("type") == "complete", late
