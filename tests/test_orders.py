"""Orders from basket to payment, through the endpoint, on both engines."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from models.base import Role
from models.catalog import Product
from models.orders import CapacityUse, Order, OrderEvent, OrderItem, Payment, Placement
from models.registry import Umkm
from schema.relay import from_global_id
from tests.conftest import error_codes, gid

JAKARTA = ZoneInfo("Asia/Jakarta")
SOON = (dt.datetime.now(JAKARTA).date() + dt.timedelta(days=10)).isoformat()

PLACE = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    orders { id number status total kind umkm { name } items { name quantity unitPrice subtotal option } }
    errors { field code message }
  }
}"""

ORDER_FIELDS = "id number status total daysToPay deliveredAt receivedBy paidAt"


def mutation(name: str, input_type: str) -> str:
    return f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{ order {{ {ORDER_FIELDS} }}
        errors {{ field code message }} }} }}"""


ACCEPT = mutation("acceptOrder", "OrderIdInput")
SHIP = mutation("shipOrder", "OrderIdInput")
REJECT = mutation("rejectOrder", "OrderReasonInput")
CANCEL = mutation("cancelOrder", "OrderReasonInput")
DELIVER = mutation("confirmDelivery", "ConfirmDeliveryInput")
PAY = mutation("recordPayment", "RecordPaymentInput")
RATE = mutation("rateOrder", "RateOrderInput")


def basket(*lines, **extra) -> dict:
    items = [{"productId": gid("Product", p.id), "quantity": q, **({"option": o} if o else {})} for p, q, o in lines]
    return {"input": {"items": items, "neededBy": SOON, "deliveryAddress": "Jl. Jimerto 25-27, Surabaya", **extra}}


async def place(gql, token, *lines, **extra) -> dict:
    body = await gql(PLACE, basket(*lines, **extra), token)
    assert "errors" not in body, body
    return body["data"]["placeOrder"]


async def act(gql, doc, token, **input_) -> dict:
    body = await gql(doc, {"input": input_}, token)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def test_the_whole_story_from_basket_to_paid_with_five_events(gql, world):
    t = world.tokens
    placed = await place(gql, t["buyer"], (world.product, 3, None))
    assert placed["errors"] == []
    order = placed["orders"][0]
    assert order["status"] == "SUBMITTED" and order["kind"] == "OPD"
    assert order["number"].startswith(f"PO-{dt.date.today().year}-")
    assert order["total"] == 3 * 150_000
    oid = order["id"]
    assert (await act(gql, ACCEPT, t["owner"], id=oid))["order"]["status"] == "ACCEPTED"
    assert (await act(gql, SHIP, t["owner"], id=oid))["order"]["status"] == "SHIPPED"
    delivered = await act(gql, DELIVER, t["buyer"], id=oid, receivedBy="Bu Sri (TU)")
    assert delivered["order"]["status"] == "DELIVERED" and delivered["order"]["receivedBy"] == "Bu Sri (TU)"
    paid = await act(gql, PAY, t["treasurer"], id=oid, amount=450_000, reference="SP2D/2026/001")
    assert paid["errors"] == []
    assert paid["order"]["status"] == "PAID"
    assert paid["order"]["daysToPay"] == 0

    data = await gql.ok(
        "query($id: ID!) { order(id: $id) { events { fromStatus toStatus actor at } payment { amount reference } } }",
        {"id": oid},
        t["admin"],
    )
    events = data["order"]["events"]
    assert [(e["fromStatus"], e["toStatus"]) for e in events] == [
        (None, "SUBMITTED"),
        ("SUBMITTED", "ACCEPTED"),
        ("ACCEPTED", "SHIPPED"),
        ("SHIPPED", "DELIVERED"),
        ("DELIVERED", "PAID"),
    ]
    actors = [e["actor"] for e in events]
    u = world.users
    assert actors == [gid("User", u[n].id) for n in ("buyer", "owner", "owner", "buyer", "treasurer")]
    times = [dt.datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times) and all(x.utcoffset() == dt.timedelta(hours=7) for x in times)
    assert data["order"]["payment"] == {"amount": 450_000, "reference": "SP2D/2026/001"}


async def test_days_to_pay_counts_jakarta_days_from_delivery_to_payment(gql, world):
    t = world.tokens
    oid = (await place(gql, t["buyer"], (world.product, 1, None)))["orders"][0]["id"]
    await act(gql, ACCEPT, t["owner"], id=oid)
    await act(gql, SHIP, t["owner"], id=oid)
    await act(gql, DELIVER, t["buyer"], id=oid, receivedBy="Pak Budi")
    # delivered twelve days ago, paid today
    pk = from_global_id(oid)[1]
    await Order.filter(id=pk).update(delivered_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=12))
    paid = await act(gql, PAY, t["treasurer"], id=oid, amount=150_000, reference="SP2D/9")
    assert paid["order"]["daysToPay"] == 12


async def test_a_basket_across_two_umkm_becomes_two_orders(gql, world):
    placed = await place(gql, world.tokens["buyer"], (world.product, 2, None), (world.other_product, 1, None))
    assert sorted(o["umkm"]["name"] for o in placed["orders"]) == ["Batik Kenongo", "Batik Lain"]
    assert sorted(o["total"] for o in placed["orders"]) == [200_000, 300_000]
    assert await Product.get(id=world.product.id).values_list("stock", flat=True) == 48


async def test_thirty_buyers_racing_for_stock_of_ten_exactly_ten_win(gql, world):
    await Product.filter(id=world.product.id).update(stock=10)
    tokens = [world.tokens["buyer"]]
    for i in range(29):
        tokens.append((await world.user(f"racer{i}", Role.OPD_BUYER, world.opd))[1])
    results = await asyncio.gather(*(gql(PLACE, basket((world.product, 1, None)), tok) for tok in tokens))
    won = [r for r in results if r["data"]["placeOrder"]["orders"]]
    lost = [r for r in results if r["data"]["placeOrder"]["errors"]]
    assert len(won) == 10 and len(lost) == 20
    assert {r["data"]["placeOrder"]["errors"][0]["code"] for r in lost} == {"INSUFFICIENT_STOCK"}
    assert (await Product.get(id=world.product.id)).stock == 0
    assert await Order.filter(umkm_id=world.umkm.id).count() == 10


async def test_racing_accept_and_cancel_exactly_one_wins(gql, world):
    for _ in range(5):
        oid = (await place(gql, world.tokens["buyer"], (world.product, 1, None)))["orders"][0]["id"]
        a, c = await asyncio.gather(
            gql(ACCEPT, {"input": {"id": oid}}, world.tokens["owner"]),
            gql(CANCEL, {"input": {"id": oid, "reason": "salah pesan"}}, world.tokens["buyer"]),
        )
        outcomes = [a["data"]["acceptOrder"], c["data"]["cancelOrder"]]
        winners = [o for o in outcomes if not o["errors"]]
        losers = [o for o in outcomes if o["errors"]]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0]["errors"][0]["code"] == "INVALID_TRANSITION"
        pk = Order.filter(number=winners[0]["order"]["number"])
        order = await pk.first()
        assert order.status.value == winners[0]["order"]["status"]
        assert await OrderEvent.filter(order_id=order.id).count() == 2


async def test_replaying_an_idempotency_key_returns_the_same_orders(gql, world):
    first = await place(gql, world.tokens["buyer"], (world.product, 2, None), idempotencyKey="rapat-senin-1")
    again = await place(gql, world.tokens["buyer"], (world.product, 2, None), idempotencyKey="rapat-senin-1")
    assert [o["number"] for o in again["orders"]] == [o["number"] for o in first["orders"]]
    assert await Order.all().count() == 1
    assert (await Product.get(id=world.product.id)).stock == 48  # reserved once
    other = await place(gql, world.tokens["buyer"], (world.product, 3, None), idempotencyKey="rapat-senin-1")
    assert other["orders"] is None
    assert [e["code"] for e in other["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert await Order.all().count() == 1


async def test_concurrent_replays_of_one_key_make_one_set_of_orders(gql, world):
    results = await asyncio.gather(
        *(gql(PLACE, basket((world.product, 1, None), idempotencyKey="k-1"), world.tokens["buyer"]) for _ in range(5))
    )
    numbers = {tuple(o["number"] for o in r["data"]["placeOrder"]["orders"]) for r in results}
    assert len(numbers) == 1
    assert await Order.all().count() == 1 and await Placement.all().count() == 1


async def snapshot() -> tuple:
    return (
        await Order.all().count(),
        await OrderItem.all().count(),
        await OrderEvent.all().count(),
        await Payment.all().count(),
        tuple(await Product.all().order_by("id").values_list("stock", flat=True)),
        tuple(await CapacityUse.all().order_by("id").values_list("used", flat=True)),
        tuple(await Order.all().order_by("id").values_list("status", flat=True)),
    )


async def delivered_order(gql, world) -> str:
    oid = (await place(gql, world.tokens["buyer"], (world.product, 1, None)))["orders"][0]["id"]
    await act(gql, ACCEPT, world.tokens["owner"], id=oid)
    await act(gql, SHIP, world.tokens["owner"], id=oid)
    return oid


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("pay_before_delivery", "INVALID_TRANSITION", "id"),
        ("wrong_amount", "WRONG_AMOUNT", "amount"),
        ("pay_in_future", "IN_THE_FUTURE", "paidOn"),
        ("rate_before_delivery", "NOT_DELIVERED", "id"),
        ("ship_someone_elses", "NOT_FOUND", "id"),
        ("buyer_for_another_opd", "NOT_YOUR_OPD", "opdId"),
        ("suspended_seller", "SELLER_SUSPENDED", "items.0.productId"),
        ("treasurer_confirms_delivery", None, None),
        ("below_minimum", "BELOW_MINIMUM", "items.0.quantity"),
        ("needed_by_in_the_past", "IN_THE_PAST", "neededBy"),
        ("too_soon_for_lead_time", "TOO_SOON", "neededBy"),
        ("unknown_option", "INVALID_OPTION", "items.0.option"),
        ("zero_quantity", "TOO_SMALL", "items.0.quantity"),
    ],
)
async def test_mistakes_are_payload_errors_and_change_nothing(gql, world, case, code, field):
    t = world.tokens
    oid = await delivered_order(gql, world)  # SHIPPED
    before = await snapshot()
    if case == "pay_before_delivery":
        body = await gql(PAY, {"input": {"id": oid, "amount": 150_000, "reference": "x"}}, t["treasurer"])
    elif case == "wrong_amount":
        await act(gql, DELIVER, t["buyer"], id=oid, receivedBy="Sri")
        before = await snapshot()
        body = await gql(PAY, {"input": {"id": oid, "amount": 149_999, "reference": "x"}}, t["treasurer"])
    elif case == "pay_in_future":
        await act(gql, DELIVER, t["buyer"], id=oid, receivedBy="Sri")
        before = await snapshot()
        future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
        body = await gql(
            PAY, {"input": {"id": oid, "amount": 150_000, "reference": "x", "paidOn": future}}, t["treasurer"]
        )
    elif case == "rate_before_delivery":
        body = await gql(RATE, {"input": {"id": oid, "score": 5}}, t["buyer"])
    elif case == "ship_someone_elses":
        body = await gql(SHIP, {"input": {"id": oid}}, t["other_owner"])
    elif case == "buyer_for_another_opd":
        body = await gql(PLACE, basket((world.product, 1, None), opdId=gid("Opd", world.opd2.id)), t["buyer"])
    elif case == "suspended_seller":
        await Umkm.filter(id=world.umkm.id).update(status="SUSPENDED")
        body = await gql(PLACE, basket((world.product, 1, None)), t["buyer"])
    elif case == "treasurer_confirms_delivery":
        body = await gql(DELIVER, {"input": {"id": oid, "receivedBy": "x"}}, t["treasurer"])
        assert error_codes(body) == ["FORBIDDEN"]
        assert await snapshot() == before
        return
    elif case == "below_minimum":
        await Product.filter(id=world.product.id).update(min_order_quantity=20)
        body = await gql(PLACE, basket((world.product, 5, None)), t["buyer"])
    elif case == "needed_by_in_the_past":
        body = await gql(
            PLACE, {"input": {**basket((world.product, 1, None))["input"], "neededBy": "2020-01-01"}}, t["buyer"]
        )
    elif case == "too_soon_for_lead_time":
        await Product.filter(id=world.product.id).update(lead_time_days=30)
        body = await gql(PLACE, basket((world.product, 1, None)), t["buyer"])
    elif case == "unknown_option":
        await Product.filter(id=world.product.id).update(options=["S", "M", "L"])
        body = await gql(PLACE, basket((world.product, 1, "XXL")), t["buyer"])
    elif case == "zero_quantity":
        body = await gql(PLACE, basket((world.product, 0, None)), t["buyer"])
    payload = next(iter(body["data"].values()))
    assert "errors" not in body, body
    assert payload["errors"][0]["code"] == code, payload
    assert payload["errors"][0]["field"] == field
    assert payload["errors"][0]["message"]
    assert await snapshot() == before


async def test_a_failure_in_the_middle_of_a_multi_umkm_basket_leaves_nothing_behind(gql, world):
    await Product.filter(id=world.other_product.id).update(stock=1)
    before = await snapshot()
    body = await gql(PLACE, basket((world.product, 2, None), (world.other_product, 5, None)), world.tokens["buyer"])
    payload = body["data"]["placeOrder"]
    assert payload["orders"] is None
    assert payload["errors"][0]["code"] == "INSUFFICIENT_STOCK"
    assert payload["errors"][0]["field"] == "items.1.quantity"
    assert await snapshot() == before


async def test_made_to_order_capacity_is_used_by_month_and_released_on_reject(gql, world):
    tailor = await world.product_for(
        world.umkm, "Jahit seragam ASN", price=160_000, made_to_order=True, monthly_capacity=70, stock=0
    )
    first = await place(gql, world.tokens["buyer"], (tailor, 50, None))
    assert first["errors"] == []
    body = await gql(PLACE, basket((tailor, 30, None)), world.tokens["buyer"])
    assert body["data"]["placeOrder"]["errors"][0]["code"] == "CAPACITY_EXCEEDED"
    rejected = await act(gql, REJECT, world.tokens["owner"], id=first["orders"][0]["id"], reason="penjahit sakit")
    assert rejected["order"]["status"] == "REJECTED"
    again = await place(gql, world.tokens["buyer"], (tailor, 70, None))
    assert again["errors"] == []
    assert await CapacityUse.filter(product_id=tailor.id).values_list("used", flat=True) == [70]


async def test_cancel_returns_stock_and_admin_may_cancel_up_to_shipped(gql, world):
    oid = await delivered_order(gql, world)  # SHIPPED, stock 49
    body = await gql(CANCEL, {"input": {"id": oid, "reason": "x"}}, world.tokens["buyer"])
    assert body["data"]["cancelOrder"]["errors"][0]["code"] == "INVALID_TRANSITION"
    assert "SHIPPED" in body["data"]["cancelOrder"]["errors"][0]["message"]
    done = await act(gql, CANCEL, world.tokens["admin"], id=oid, reason="UMKM ditangguhkan")
    assert done["order"]["status"] == "CANCELLED"
    assert (await Product.get(id=world.product.id)).stock == 50


async def test_rating_after_delivery_feeds_the_umkm_average(gql, world):
    oid = await delivered_order(gql, world)
    await act(gql, DELIVER, world.tokens["buyer"], id=oid, receivedBy="Sri")
    rated = await act(gql, RATE, world.tokens["buyer"], id=oid, score=4, comment="rapi")
    assert rated["errors"] == []
    twice = await gql(RATE, {"input": {"id": oid, "score": 5}}, world.tokens["buyer"])
    assert twice["data"]["rateOrder"]["errors"][0]["code"] == "ALREADY_RATED"
    data = await gql.ok(
        "query($id: ID!) { node(id: $id) { ... on Umkm { ratingAverage } } }", {"id": gid("Umkm", world.umkm.id)}
    )
    assert data["node"]["ratingAverage"] == 4.0


async def test_an_employee_buys_personally_and_pays_themselves(gql, world):
    t = world.tokens
    placed = await place(gql, t["employee"], (world.product, 1, None))
    order = placed["orders"][0]
    assert order["kind"] == "PERSONAL"
    await act(gql, ACCEPT, t["owner"], id=order["id"])
    await act(gql, SHIP, t["owner"], id=order["id"])
    await act(gql, DELIVER, t["employee"], id=order["id"], receivedBy="sendiri")
    # the OPD's treasurer does not pay a personal order, the employee does
    body = await gql(PAY, {"input": {"id": order["id"], "amount": 150_000, "reference": "QRIS"}}, t["treasurer"])
    assert body["data"]["recordPayment"]["errors"][0]["code"] == "NOT_FOUND"
    paid = await act(gql, PAY, t["employee"], id=order["id"], amount=150_000, reference="QRIS")
    assert paid["order"]["status"] == "PAID"


async def test_who_sees_which_orders(gql, world):
    await place(gql, world.tokens["buyer"], (world.product, 1, None))
    await place(gql, world.tokens["employee"], (world.other_product, 1, None))
    q = "{ orders(first: 50) { totalCount edges { node { kind umkm { name } } } } }"

    async def seen(name):
        body = await gql(q, token=world.tokens.get(name))
        if "errors" in body:
            return error_codes(body)
        return sorted((e["node"]["kind"], e["node"]["umkm"]["name"]) for e in body["data"]["orders"]["edges"])

    assert await seen("buyer") == [("OPD", "Batik Kenongo")]
    assert await seen("treasurer") == [("OPD", "Batik Kenongo")]
    assert await seen("employee") == [("PERSONAL", "Batik Lain")]
    assert await seen("owner") == [("OPD", "Batik Kenongo")]
    assert await seen("other_owner") == [("PERSONAL", "Batik Lain")]
    assert await seen("admin") == [("OPD", "Batik Kenongo"), ("PERSONAL", "Batik Lain")]
    assert await seen("analyst") == [("OPD", "Batik Kenongo")]  # a personal order: its employee, seller, admins
    assert await seen("partner") == ["FORBIDDEN"]
    assert await seen("nobody") == ["UNAUTHENTICATED"]


LIST = """
query($first: Int) {
  orders(first: $first) {
    edges { node { number total umkm { name } opd { name } items { name quantity product { name price } } } }
  }
}"""


@pytest.mark.parametrize("n", [5, 50])
async def test_listing_orders_with_items_products_umkm_and_opd_costs_2_statements(gql, world, n):
    for _ in range(n):
        await place(gql, world.tokens["buyer"], (world.product, 1, None), (world.other_product, 1, None))
    r = await gql.raw(LIST, {"first": n}, token=world.tokens["admin"])
    body = r.json()
    assert "errors" not in body, body
    assert len(body["data"]["orders"]["edges"]) == n
    assert all(len(e["node"]["items"]) == 1 for e in body["data"]["orders"]["edges"])
    assert body["extensions"]["sqlStatements"] == 2, body["extensions"]["sql"]  # the page/order; the items
    one = (await gql.raw(LIST, {"first": 1}, token=world.tokens["admin"])).json()
    assert one["extensions"]["sqlStatements"] == body["extensions"]["sqlStatements"]


ONE_ORDER = """query($id: ID!) { order(id: $id) { number total
  items { name quantity unitPrice product { name price umkm { name } } } umkm { name } opd { name } } }"""


@pytest.mark.parametrize("n", [5, 50])
async def test_one_order_with_its_items_products_and_umkm_costs_1_statement(gql, world, n):
    products = [world.product] + [await world.product_for(world.umkm, f"Batik motif {i}") for i in range(n - 1)]
    placed = await place(gql, world.tokens["buyer"], *[(p, 1, None) for p in products])
    oid = placed["orders"][0]["id"]
    body = (await gql.raw(ONE_ORDER, {"id": oid}, token=world.tokens["buyer"])).json()
    assert "errors" not in body, body
    assert len(body["data"]["order"]["items"]) == n
    # compiled reads: the order (its visibility), its items joined beside it (models.query.RowWithLines); the general
    # executor, which reads the items through their batch loader, takes 2 (tests/test_compiled.py compares them)
    assert body["extensions"]["sqlStatements"] == 1, body["extensions"]["sql"]
    small = await place(gql, world.tokens["buyer"], (world.other_product, 1, None))
    one = (await gql.raw(ONE_ORDER, {"id": small["orders"][0]["id"]}, token=world.tokens["buyer"])).json()
    assert one["extensions"]["sqlStatements"] == body["extensions"]["sqlStatements"]
