"""The order clocks (resolvers/clocks.py): unaccepted orders cancelled by the platform, payment reminders, the test
clock, one runner at a time; on both engines, with the test clock moved forward rather than sleeping."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import subprocess
import time

import httpx
import pytest

from app import create_app
from models.catalog import Product
from models.orders import Order, OrderEvent, OrderStatus
from models.outbox import OutboxEvent
from resolvers.clocks import run_clocks
from resolvers.common import SystemContext
from schema.relay import from_global_id
from tests.conftest import GQL, TEST_URL, error_codes
from tests.test_cli import (
    HTTP_TIMEOUT,
    PASAR,
    READY_TIMEOUT,
    ROOT,
    RUN_TIMEOUT,
    env_for,
    free_port,
    stop,
    wait_until_serving,
)
from tests.test_orders import ACCEPT, DELIVER, PAY, SHIP, act, place

ADVANCE = """mutation($input: AdvanceTestClockInput!) {
  advanceTestClock(input: $input) { now errors { field code message } } }"""
EVENTS = "query($id: ID!) { order(id: $id) { status closedReason events { kind fromStatus toStatus actor note } } }"
DAY = 24


@pytest.fixture
def clock_app(settings, database):
    """The app in test mode (PASAR_TEST_CLOCK), one per test: its clock moves forward on an admin's
    `advanceTestClock` (less than a week in all: the tests' tokens expire after one)."""
    changed = dataclasses.replace(settings, test_clock=True, payment_reminder_days=2)
    return create_app(changed, manage_database=False)


@pytest.fixture
async def cgql(clock_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=clock_app), base_url="http://test") as client:
        yield GQL(client)


def run_now(clock_app):
    """One run of the clocks as the server's background loop makes it: SYSTEM, by the server's (test) clock."""
    view = clock_app.state.graphql_view
    return run_clocks(SystemContext(view.settings, clock=view.clock))


async def advance(cgql, world, hours: int) -> dict:
    return (await cgql.ok(ADVANCE, {"input": {"hours": hours}}, world.tokens["admin"]))["advanceTestClock"]


async def stock(product) -> int:
    return (await Product.get(id=product.id)).stock


async def test_unaccepted_orders_are_cancelled_once_by_the_system_and_their_stock_returns(cgql, clock_app, world):
    t = world.tokens
    before = await stock(world.product)
    waiting = [(await place(cgql, t["buyer"], (world.product, 2, None)))["orders"][0]["id"] for _ in range(3)]
    accepted = (await place(cgql, t["buyer"], (world.product, 1, None)))["orders"][0]["id"]
    await act(cgql, ACCEPT, t["owner"], id=accepted)
    assert await stock(world.product) == before - 7

    assert (await run_now(clock_app)).cancelled == []  # not yet three days
    moved = await advance(cgql, world, 3 * DAY - 1)
    assert moved["errors"] == [] and moved["now"]
    assert (await run_now(clock_app)).cancelled == []  # 71 hours: still not
    await advance(cgql, world, 2)
    run = await run_now(clock_app)
    assert sorted(run.cancelled) == sorted(from_global_id(i)[1] for i in waiting)
    assert (await run_now(clock_app)).cancelled == []  # a second run finds nothing left to cancel

    assert await stock(world.product) == before - 1  # the accepted order keeps its unit
    for oid in waiting:
        order = (await cgql.ok(EVENTS, {"id": oid}, t["buyer"]))["order"]
        assert order["status"] == "CANCELLED"
        assert order["closedReason"] == "system: not accepted within 3 days"
        assert [(e["kind"], e["fromStatus"], e["toStatus"], e["actor"]) for e in order["events"]] == [
            ("STATUS_CHANGE", None, "SUBMITTED", order["events"][0]["actor"]),
            ("STATUS_CHANGE", "SUBMITTED", "CANCELLED", None),
        ]
        assert order["events"][1]["note"].startswith("system:")
    assert (await cgql.ok(EVENTS, {"id": accepted}, t["buyer"]))["order"]["status"] == "ACCEPTED"


async def test_a_sellers_accept_racing_the_system_cancel_has_exactly_one_winner(cgql, clock_app, world):
    t = world.tokens
    before = await stock(world.product)
    await advance(cgql, world, 3 * DAY + 1)  # every order placed from now on is overdue at once
    winners = {"accept": 0, "cancel": 0}

    async def clocks_after(ticks: int):
        for _ in range(ticks):  # the run starts a little later each time, so that either side may get there first
            await asyncio.sleep(0)
        return await run_now(clock_app)

    for n in range(20):
        oid = (await place(cgql, t["buyer"], (world.product, 1, None)))["orders"][0]["id"]
        pk = from_global_id(oid)[1]
        accepted, run = await asyncio.gather(act(cgql, ACCEPT, t["owner"], id=oid), clocks_after(n * 3))
        order = await Order.get(id=pk)
        statuses = [e.to_status for e in await OrderEvent.filter(order_id=pk).order_by("id")]
        if order.status is OrderStatus.ACCEPTED:
            winners["accept"] += 1
            assert accepted["errors"] == [] and run.cancelled == [] and run.lost in (0, 1)
            assert statuses == [OrderStatus.SUBMITTED, OrderStatus.ACCEPTED]
        else:
            winners["cancel"] += 1
            assert order.status is OrderStatus.CANCELLED
            assert [e["code"] for e in accepted["errors"]] == ["INVALID_TRANSITION"] and run.cancelled == [pk]
            assert statuses == [OrderStatus.SUBMITTED, OrderStatus.CANCELLED]
    assert await stock(world.product) == before - winners["accept"]  # each cancelled unit came back, once


async def test_delivered_unpaid_orders_get_one_payment_reminder_per_period(cgql, clock_app, world):
    t = world.tokens
    oid = (await place(cgql, t["buyer"], (world.product, 1, None)))["orders"][0]["id"]
    pk = from_global_id(oid)[1]
    await act(cgql, ACCEPT, t["owner"], id=oid)
    await act(cgql, SHIP, t["owner"], id=oid)
    await act(cgql, DELIVER, t["buyer"], id=oid, receivedBy="Bu Sri")

    assert (await run_now(clock_app)).reminded == []
    await advance(cgql, world, 2 * DAY + 1)  # PASAR_PAYMENT_REMINDER_DAYS=2 here
    assert (await run_now(clock_app)).reminded == [pk]
    assert (await run_now(clock_app)).reminded == []  # once per period, however often the clocks run
    await advance(cgql, world, DAY)
    assert (await run_now(clock_app)).reminded == []
    await advance(cgql, world, DAY)
    assert (await run_now(clock_app)).reminded == [pk]  # the next period

    order = (await cgql.ok(EVENTS, {"id": oid}, t["treasurer"]))["order"]
    reminders = [e for e in order["events"] if e["kind"] == "PAYMENT_REMINDER"]
    assert order["status"] == "DELIVERED" and len(reminders) == 2
    assert all((e["fromStatus"], e["toStatus"], e["actor"]) == ("DELIVERED", "DELIVERED", None) for e in reminders)
    assert reminders[0]["note"].startswith("system: payment reminder")
    # each reminder also goes out as an e-mail to whoever pays, through the outbox (resolvers/outbox.py)
    queued = await OutboxEvent.filter(topic="order.payment_reminder", aggregate=f"order:{pk}").count()
    assert queued == 2

    paid = await act(cgql, PAY, t["treasurer"], id=oid, amount=150_000, reference="SP2D/1")
    assert paid["errors"] == []
    await advance(cgql, world, 2 * DAY)
    assert (await run_now(clock_app)).reminded == []  # paid: no more


async def test_payment_reminders_stop_after_twelve_periods(cgql, clock_app, world):
    t = world.tokens
    oid = (await place(cgql, t["buyer"], (world.product, 1, None)))["orders"][0]["id"]
    pk = from_global_id(oid)[1]
    await act(cgql, ACCEPT, t["owner"], id=oid)
    await act(cgql, SHIP, t["owner"], id=oid)
    await act(cgql, DELIVER, t["buyer"], id=oid, receivedBy="Bu Sri")
    now = dt.datetime.now(dt.UTC)
    await Order.filter(id=pk).update(delivered_at=now - dt.timedelta(days=2 * 12 - 1))  # in the 12th period
    assert (await run_now(clock_app)).reminded == [pk]
    await Order.filter(id=pk).update(delivered_at=now - dt.timedelta(days=2 * 12 + 1), payment_reminded_at=None)
    assert (await run_now(clock_app)).reminded == []  # past the 12th: no more


async def test_the_test_clock_is_refused_outside_test_mode(gql, world):
    body = await gql.ok(ADVANCE, {"input": {"hours": 72}}, world.tokens["admin"])
    assert [e["code"] for e in body["advanceTestClock"]["errors"]] == ["TEST_CLOCK_OFF"]
    assert body["advanceTestClock"]["now"] is None


async def test_only_an_admin_moves_the_test_clock(cgql, world):
    for role in ("owner", "buyer", "analyst", "partner"):
        body = await cgql(ADVANCE, {"input": {"hours": 1}}, world.tokens[role])
        assert error_codes(body) == ["FORBIDDEN"], (role, body)
    body = await cgql(ADVANCE, {"input": {"hours": 0}}, world.tokens["admin"])
    assert [e["code"] for e in body["data"]["advanceTestClock"]["errors"]] == ["TOO_SMALL"]


async def test_pasar_clocks_run_once_cancels_an_overdue_order(gql, world, settings):
    t = world.tokens
    before = await stock(world.product)
    oid = (await place(gql, t["buyer"], (world.product, 2, None)))["orders"][0]["id"]
    pk = from_global_id(oid)[1]
    await Order.filter(id=pk).update(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3, minutes=1))
    r = await asyncio.to_thread(
        subprocess.run,
        [*PASAR, "clocks", "run", "--once"],
        env=env_for(settings.database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert r.returncode == 0, r.stderr
    assert "1 unaccepted orders cancelled" in r.stdout
    assert (await Order.get(id=pk)).status is OrderStatus.CANCELLED
    assert await stock(world.product) == before


@pytest.mark.skipif(not TEST_URL.startswith("postgres"), reason="several server processes need PostgreSQL")
async def test_two_server_processes_cancel_each_unaccepted_order_exactly_once(gql, world, tmp_path):
    """Two workers (`pasar serve --workers 2`) both running the clocks every second on one database: every overdue
    order is cancelled once, with one event, and its stock comes back once."""
    t = world.tokens
    before = await stock(world.product)

    async def overdue(n: int) -> list[int]:
        ids = [(await place(gql, t["buyer"], (world.product, 1, None)))["orders"][0]["id"] for _ in range(n)]
        pks = [from_global_id(i)[1] for i in ids]
        await Order.filter(id__in=pks).update(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=4))
        return pks

    async def until_cancelled(pks: list[int], deadline: float) -> None:
        while await Order.filter(id__in=pks, status=OrderStatus.SUBMITTED).exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the orders were not cancelled:\n{log.read_text()}")
            await asyncio.sleep(0.5)

    first = await overdue(8)
    port = free_port()
    log = tmp_path / "serve.log"
    env = env_for(TEST_URL, PASAR_REDIS_URL="redis://127.0.0.1:6379/13", PASAR_CLOCKS_SECONDS="1")
    env["PASAR_FAIRNESS_REFRESH_SECONDS"] = "0"
    with log.open("w") as out:
        proc = await asyncio.to_thread(
            subprocess.Popen,
            [*PASAR, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        await asyncio.to_thread(wait_until_serving, proc, port, log)
        deadline = time.monotonic() + READY_TIMEOUT
        while log.read_text().count("Application startup complete") < 2:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"two workers did not both start:\n{log.read_text()}")
            await asyncio.sleep(0.5)
        await until_cancelled(first, deadline)
        # more overdue orders while both workers keep running the clocks every second: cancelled once as well,
        # and the first ones, which both workers' rounds saw meanwhile, are not cancelled again
        second = await overdue(8)
        await until_cancelled(second, time.monotonic() + READY_TIMEOUT)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT) as client:
            assert (await client.get("/healthz")).status_code == 200
    finally:
        stop(proc)
    assert "order clocks: " in log.read_text()
    for pk in first + second:
        assert await OrderEvent.filter(order_id=pk, to_status=OrderStatus.CANCELLED).count() == 1, pk
    assert await stock(world.product) == before
