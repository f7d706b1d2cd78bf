"""The city's view through the endpoint: equity, sales rankings, OPD spending, purchase categories; the
maintained fairness statistics against a rebuild; the rank an order from the list records."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from models.orders import Order
from models.registry import Category, OpdBudget
from resolvers.equity import equity_reference
from resolvers.fairness_stats import rebuild_stats
from schema.relay import from_global_id
from tests.conftest import error_codes, gid

JAKARTA = ZoneInfo("Asia/Jakarta")
TODAY = dt.datetime.now(JAKARTA).date()
SOON = (TODAY + dt.timedelta(days=10)).isoformat()
YEAR = TODAY.year

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  orders { id number sourceRank source umkm { name } } errors { field code message } } }"""


async def buy(gql, world, product, quantity, *, token="buyer", source="SEARCH", pay=True, deliver=True) -> str:
    body = await gql.ok(
        PLACE,
        {
            "input": {
                "items": [{"productId": gid("Product", product.id), "quantity": quantity}],
                "neededBy": SOON,
                "deliveryAddress": "Jl. Jimerto 25",
                "source": source,
            }
        },
        world.tokens[token],
    )
    payload = body["placeOrder"]
    assert payload["errors"] == [], payload
    oid = payload["orders"][0]["id"]
    owner = "owner" if product.umkm_id == world.umkm.id else "other_owner"
    for m in ("acceptOrder", "shipOrder"):
        await gql.ok(
            f"mutation($id: ID!) {{ {m}(input: {{id: $id}}) {{ errors {{ code }} }} }}",
            {"id": oid},
            world.tokens[owner],
        )
    if deliver:
        await gql.ok(
            'mutation($id: ID!) { confirmDelivery(input: {id: $id, receivedBy: "TU"}) { errors { code } } }',
            {"id": oid},
            world.tokens[token],
        )
    if deliver and pay:
        payer = "treasurer" if token == "buyer" else token
        total = product.price * quantity
        await gql.ok(
            'mutation($id: ID!, $a: Rupiah!) { recordPayment(input: {id: $id, amount: $a, reference: "SP2D"}) { errors { code } } }',
            {"id": oid, "a": total},
            world.tokens[payer],
        )
    return oid


async def test_maintained_fairness_statistics_equal_a_rebuild_from_the_orders(gql, world):
    await buy(gql, world, world.product, 3)
    await buy(gql, world, world.other_product, 2, pay=False)
    await buy(gql, world, world.product, 1, deliver=False)  # shipped only: not a sale
    drift = await rebuild_stats(fix=False)
    assert drift.rows_differing == 0 and drift.max_relative_error < 1e-9
    assert drift.rows_checked == 3  # two UMKM × batik, and the batik total


async def test_an_order_from_the_list_records_the_rank_the_server_computed(gql, world):
    ranking = await gql.ok(
        "query($c: ID!, $o: ID) { underSoldUmkm(categoryId: $c, opdId: $o) { edges { rank umkm { name } } } }",
        {"c": gid("Category", world.batik.id), "o": gid("Opd", world.opd.id)},
        world.tokens["buyer"],
    )
    ranks = {e["umkm"]["name"]: e["rank"] for e in ranking["underSoldUmkm"]["edges"]}
    body = await gql.ok(
        PLACE,
        {
            "input": {
                "items": [{"productId": gid("Product", world.other_product.id), "quantity": 1}],
                "neededBy": SOON,
                "deliveryAddress": "Balai Kota",
                "source": "UNDER_SOLD_LIST",
            }
        },
        world.tokens["buyer"],
    )
    order = body["placeOrder"]["orders"][0]
    assert order["source"] == "UNDER_SOLD_LIST" and order["sourceRank"] == ranks["Batik Lain"]
    # one showing credits one order: a second order of the same seller the same day has no list credit
    searched = await gql.ok(
        PLACE,
        {
            "input": {
                "items": [{"productId": gid("Product", world.other_product.id), "quantity": 1}],
                "neededBy": SOON,
                "deliveryAddress": "Balai Kota",
            }
        },
        world.tokens["buyer"],
    )
    assert searched["placeOrder"]["orders"][0]["sourceRank"] is None


EQUITY = """query($c: ID!, $f: Date!, $t: Date!) { equityReport(categoryId: $c, periodFrom: $f, periodTo: $t) {
  members sellers purchases total gini jain theil zeroSalesShare top10Share coverageEfficiency unmetFairShare lorenz } }"""


async def test_equity_report_matches_the_reference_over_eligible_umkm_with_zeros(gql, world):
    extra = [await world.umkm_for(world.users["other_owner"], f"Batik {i}") for i in range(3)]
    for u in extra:
        await world.product_for(u, f"Kain {u.name}", price=160_000)
    await buy(gql, world, world.product, 4)  # 600,000
    await buy(gql, world, world.other_product, 1)  # 200,000
    r = (
        await gql.ok(
            EQUITY,
            {"c": gid("Category", world.batik.id), "f": TODAY.isoformat(), "t": TODAY.isoformat()},
            world.tokens["analyst"],
        )
    )["equityReport"]
    # the period's population: the five batik sellers, and the one suspended today (a seller during the period);
    # fair shares weighted by need: nobody reported, all verified today, so equal shares
    x = [600_000, 200_000, 0, 0, 0, 0]
    ref = equity_reference(x, fair=[800_000 / 6] * 6, purchases=2)
    assert (r["members"], r["sellers"], r["purchases"], r["total"]) == (6, 2, 2, 800_000)
    for k, g in (
        ("gini", "gini"),
        ("jain", "jain"),
        ("theil", "theil"),
        ("zero_share", "zeroSalesShare"),
        ("top10_share", "top10Share"),
        ("coverage_efficiency", "coverageEfficiency"),
        ("unmet_fair_share", "unmetFairShare"),
    ):
        assert r[g] == pytest.approx(ref[k], rel=1e-6), k  # shares from verification times a few ms apart
    assert r["lorenz"] == pytest.approx(ref["lorenz"])
    empty = (
        await gql.ok(
            EQUITY,
            {"c": gid("Category", world.snack.id), "f": "2020-01-01", "t": "2020-12-31"},
            world.tokens["partner"],
        )
    )["equityReport"]
    assert empty["gini"] is None and empty["total"] == 0
    assert error_codes(
        await gql(EQUITY, {"c": gid("Category", world.batik.id), "f": "2020-01-01", "t": "2020-12-31"})
    ) == ["UNAUTHENTICATED"]


async def test_the_equity_population_is_the_periods_not_todays(gql, world):
    """Members of a past period: sellers verified and listing then — one whose stock is gone today still counts; one
    verified after the period, or whose product came after it, does not (the world's own sellers: verified today)."""
    from models.catalog import Product
    from models.registry import Umkm

    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    sold_out = await world.umkm_for(world.users["other_owner"], "Habis Stok")
    late = await world.umkm_for(world.users["other_owner"], "Produk Baru")
    for u, stock in ((sold_out, 0), (late, 50)):
        await Umkm.filter(id=u.id).update(verified_at=long_ago)
        p = await world.product_for(u, f"Kain {u.name}", price=160_000, stock=stock)
        if u is sold_out:
            await Product.filter(id=p.id).update(created_at=long_ago)
    v = {
        "c": gid("Category", world.batik.id),
        "f": (TODAY - dt.timedelta(days=40)).isoformat(),
        "t": (TODAY - dt.timedelta(days=10)).isoformat(),
    }
    r = (await gql.ok(EQUITY, v, world.tokens["analyst"]))["equityReport"]
    assert r["members"] == 1 and r["total"] == 0 and r["zeroSalesShare"] == 1


RANKING = """query($c: ID!, $f: Date!, $t: Date!, $o: SalesOrder!) {
  umkmSalesRanking(categoryId: $c, periodFrom: $f, periodTo: $t, order: $o) {
    totalCount edges { rank amount orders opds daysSinceVerification umkm { name } } } }"""


async def test_sales_ranking_shows_who_sells_most_and_who_never_sold(gql, world):
    quiet = await world.umkm_for(world.users["other_owner"], "Belum Laku")
    await world.product_for(quiet, "Batik sepi")
    await buy(gql, world, world.product, 4)
    await buy(gql, world, world.other_product, 1)
    v = {"c": gid("Category", world.batik.id), "f": TODAY.isoformat(), "t": TODAY.isoformat()}
    most = (await gql.ok(RANKING, {**v, "o": "MOST"}, world.tokens["buyer"]))["umkmSalesRanking"]
    assert [(e["umkm"]["name"], e["amount"], e["orders"], e["opds"]) for e in most["edges"]] == [
        ("Batik Kenongo", 600_000, 1, 1),
        ("Batik Lain", 200_000, 1, 1),
    ]
    least = (await gql.ok(RANKING, {**v, "o": "LEAST"}, world.tokens["buyer"]))["umkmSalesRanking"]
    assert least["edges"][0]["umkm"]["name"] == "Belum Laku" and least["edges"][0]["amount"] == 0
    assert least["edges"][0]["daysSinceVerification"] == 0


SPENDING = """query($y: Int!) { opdSpending(year: $y) { opd { code } spend orders umkmReached pagu paguShare
  meetsSmallBusinessRule fairnessListShare medianDaysToPay unpaidDelivered staffPurchases staffSpend } }"""


async def test_opd_spending_reports_share_of_pagu_days_to_pay_and_staff_purchases(gql, world):
    await OpdBudget.create(opd_id=world.opd.id, year=YEAR, amount=1_000_000)
    oid = await buy(gql, world, world.product, 2)  # 300,000 paid today
    # list credit comes from what the buyer was shown: reading the list, then buying a seller from it
    await gql.ok(
        "query($c: ID!) { underSoldUmkm(categoryId: $c) { totalCount } }",
        {"c": gid("Category", world.batik.id)},
        world.tokens["buyer"],
    )
    await buy(gql, world, world.other_product, 1, source="UNDER_SOLD_LIST", pay=False)  # 200,000, unpaid
    await buy(gql, world, world.product, 1, token="employee")  # staff purchase 150,000
    # the first order was delivered 10 days before it was paid
    pk = from_global_id(oid)[1]
    await Order.filter(id=pk).update(delivered_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
    rows = (await gql.ok(SPENDING, {"y": YEAR}, world.tokens["partner"]))["opdSpending"]
    mine = next(r for r in rows if r["opd"]["code"] == "DISPENDIK")
    assert (mine["spend"], mine["orders"], mine["umkmReached"], mine["pagu"]) == (500_000, 2, 2, 1_000_000)
    assert mine["paguShare"] == pytest.approx(0.5) and mine["meetsSmallBusinessRule"] is True
    assert mine["fairnessListShare"] == pytest.approx(0.4)
    assert mine["medianDaysToPay"] == 10 and mine["unpaidDelivered"] == 1
    assert (mine["staffPurchases"], mine["staffSpend"]) == (None, None)  # one employee bought: under 5
    admin = (await gql.ok(SPENDING, {"y": YEAR}, world.tokens["admin"]))["opdSpending"]
    assert [(r["staffPurchases"], r["staffSpend"]) for r in admin if r["opd"]["code"] == "DISPENDIK"] == [(1, 150_000)]
    other = next(r for r in rows if r["opd"]["code"] == "DINKES")
    assert other["spend"] == 0 and other["paguShare"] is None and other["medianDaysToPay"] is None


async def test_opd_purchase_categories_carry_spend_and_their_under_sold_list(gql, world):
    sub = await Category.create(name="Batik tulis", slug="batik-tulis", parent=world.batik)
    tulis = await world.product_for(world.umkm, "Kain tulis", price=150_000, category=sub)
    await buy(gql, world, tulis, 2)
    await buy(gql, world, world.other_product, 1)
    data = await gql.ok(
        """query($id: ID!) { node(id: $id) { ... on Opd { purchaseCategories { category { name } spend orderCount
             underSoldUmkm(first: 5) { totalCount edges { rank umkm { name } } } } } } }""",
        {"id": gid("Opd", world.opd.id)},
        world.tokens["buyer"],
    )
    (pc,) = data["node"]["purchaseCategories"]
    assert pc["category"]["name"] == "Batik" and pc["spend"] == 500_000 and pc["orderCount"] == 2
    # the band's centre is one price per seller (150,000 and 200,000: 175,000), so both sellers are listed
    assert {e["umkm"]["name"] for e in pc["underSoldUmkm"]["edges"]} == {"Batik Kenongo", "Batik Lain"}
