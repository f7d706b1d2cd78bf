# ruff: noqa: F811  (the `city` fixture is imported from tests/test_fairness.py)
"""The audit's attacks on the under-sold list, replayed through the API: none of them pays any more
(docs/FAIRNESS.md, "Gaming"). Each test plays the attack as the audit found it and checks the list a buyer reads."""

from __future__ import annotations

import datetime as dt

import pytest

from models.base import JAKARTA
from models.catalog import Product
from models.fairness import CategoryOrderQuantity, FairnessExposure
from resolvers import fairness_snapshot
from resolvers.fairness_policy import POLICY
from resolvers.invalidation import invalidate
from tests.conftest import gid
from tests.test_fairness import AS_OF, AS_OF_DT, city, names, ranking, row, today_is_as_of  # noqa: F401

CREATE = """mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } errors { code } } }"""
UPDATE = """mutation($input: UpdateProductInput!) { updateProduct(input: $input) { errors { code } } }"""
CHECK = """query($u: ID!, $c: ID!, $q: Int) {
  fairnessCheck(umkmId: $u, categoryId: $c, quantity: $q) { eligible rank excludedBecause } }"""


async def create(gql, world, umkm, name: str, price: int, stock: int) -> str:
    v = {
        "input": {
            "umkmId": gid("Umkm", umkm.id),
            "categoryId": gid("Category", world.batik.id),
            "name": name,
            "unit": "potong",
            "price": price,
            "stock": stock,
        }
    }
    body = (await gql.ok(CREATE, v, world.tokens["other_owner"]))["createProduct"]
    assert body["errors"] == [], body
    return body["product"]["id"]


async def test_stuffing_out_of_stock_listings_does_not_move_the_band(gql, world, city):
    """Seven out-of-stock Rp100k listings used to pull the median from 150k to 100k and push every competitor out
    as PRICE_OUT_OF_BAND. The band is taken over one price per seller, its cheapest product that can deliver."""
    stuffer = await city.add("Stuffer", price=100_000)  # one honest Rp100k product in stock
    for i in range(7):
        await create(gql, world, stuffer, f"Batik murah {i}", 100_000, 0)
    r = await ranking(gql, world)
    assert r["medianPrice"] == 150_000
    # every competitor stays on the list (the band is [90k, 195k]); the stuffer is on it once, with its real offer
    assert set(names(r)) == {"Arjuna", "Bima", "Citra", "Dewi", "Eka", "Fajar", "Stuffer"}
    v = {"u": gid("Umkm", city.umkms["Arjuna"].id), "c": gid("Category", world.batik.id)}
    assert (await gql.ok(CHECK, v, world.tokens["buyer"]))["fairnessCheck"]["excludedBecause"] == []


async def test_the_band_is_fixed_for_the_day_once_the_days_list_is_built(gql, world, city, clock):
    """Repricing during the day (here three sellers drop to Rp100k) moves no band until the next day's list."""
    await city.add("Stuffer", price=100_000)
    assert (await ranking(gql, world))["medianPrice"] == 150_000  # today's list is built: its band is fixed
    for name in ("Arjuna", "Bima", "Citra"):
        v = {"input": {"id": gid("Product", city.products[name].id), "price": 100_000}}
        assert (await gql.ok(UPDATE, v, world.tokens["other_owner"]))["updateProduct"]["errors"] == []
    today = await ranking(gql, world)
    assert today["medianPrice"] == 150_000 and "Fajar" in names(today)
    assert {"Arjuna", "Bima", "Citra"} <= set(names(today))  # Rp100k is inside today's band [90k, 195k]
    clock.at(AS_OF_DT + dt.timedelta(days=1))
    tomorrow = await ranking(gql, world, d=(AS_OF + dt.timedelta(days=1)).isoformat())
    assert tomorrow["medianPrice"] == 100_000  # four sellers at 100k, three at 150k


async def test_a_one_unit_dummy_in_the_band_does_not_list_a_dear_seller(gql, world, city):
    """A seller pricing at Rp400k listed a 1-unit dummy at Rp150k and was ranked NEVER_SOLD. A row's product must be
    able to deliver the category's median order quantity (here 16: counted order lines of 16 to 31 units)."""
    await CategoryOrderQuantity.create(category_id=world.batik.id, quantity_class=4, lines=5)
    mahal = await city.add("Mahal", price=400_000)
    await create(gql, world, mahal, "Batik dummy", 150_000, 1)
    r = await ranking(gql, world)
    assert "Mahal" not in names(r) and len(names(r)) == 6
    v = {"u": gid("Umkm", mahal.id), "c": gid("Category", world.batik.id)}
    got = (await gql.ok(CHECK, v, world.tokens["buyer"]))["fairnessCheck"]
    assert got == {"eligible": False, "rank": None, "excludedBecause": ["CAPACITY_SHORT"]}


async def test_the_row_shows_the_product_that_can_fill_the_quantity_asked(gql, world, city):
    """CAPACITY_OK used to come from one product while the row showed a cheaper one that could not fill the order."""
    await create(gql, world, city.umkms["Bima"], "Batik Bima grosir", 160_000, 500)  # Bima's 150k has 50 in stock
    r = await ranking(gql, world, q=100)
    assert names(r) == ["Bima"]
    assert row(r, "Bima")["cheapestEligibleProduct"] == {"name": "Batik Bima grosir", "price": 160_000}
    small = await ranking(gql, world, q=10)
    assert row(small, "Bima")["cheapestEligibleProduct"] == {"name": "Batik Bima", "price": 150_000}


PLACE = """mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { orders { id source sourceRank umkm { name } } errors { code } } }"""
SPENDING = "query($y: Int!) { opdSpending(year: $y) { opd { code } spend fairnessListShare } }"
SOON = (AS_OF + dt.timedelta(days=10)).isoformat()


async def place(gql, world, product_id: int, quantity: int = 1, token: str = "buyer", source="UNDER_SOLD_LIST"):
    v = {
        "input": {
            "items": [{"productId": gid("Product", product_id), "quantity": quantity}],
            "neededBy": SOON,
            "deliveryAddress": "Jl. Jimerto 25-27, Surabaya",
            "source": source,
        }
    }
    body = (await gql.ok(PLACE, v, world.tokens[token]))["placeOrder"]
    assert body["errors"] == [], body
    return body["orders"][0]


async def deliver_all(world) -> None:
    """Every order delivered now (what the seller and buyer would do through the API, shortened)."""
    from models.orders import Order, OrderStatus

    await Order.all().update(status=OrderStatus.DELIVERED, delivered_at=AS_OF_DT)


async def list_share(gql, world) -> float | None:
    rows = (await gql.ok(SPENDING, {"y": AS_OF.year}, world.tokens["admin"]))["opdSpending"]
    return next(r for r in rows if r["opd"]["code"] == world.opd.code)["fairnessListShare"]


async def test_a_label_buys_no_list_credit_and_one_showing_credits_one_order(gql, world, city):
    """An off-list order labelled UNDER_SOLD_LIST used to give the OPD a list share of 1.0, and three orders split
    from one purchase all recorded rank 1. Credit now comes from the server's record of what the buyer was shown."""
    off = await place(gql, world, city.products["Arjuna"].id)  # never shown: the label alone
    assert off["source"] == "UNDER_SOLD_LIST" and off["sourceRank"] is None
    await deliver_all(world)
    assert await list_share(gql, world) == 0.0
    r = await ranking(gql, world, token="buyer", d=None)  # the buyer reads today's list: its first rows are logged
    top = r["edges"][0]["umkm"]["name"]
    split = [await place(gql, world, city.products[top].id, 5) for _ in range(3)]
    assert [o["sourceRank"] for o in split] == [1, None, None]
    await deliver_all(world)
    # 150,000 of 150,000 + 3 × 750,000 followed the list
    assert await list_share(gql, world) == 750_000 / (150_000 + 3 * 750_000)


async def test_only_a_buyers_own_reading_counts_and_only_the_product_shown(gql, world, city):
    """Analysts and partners reading the list log nothing; a buyer ordering another product of a shown seller (the
    Rp400k one beside its in-band offer) gets no credit; an order off the recommended rows gets none either."""
    from models.fairness import FairnessExposure

    await ranking(gql, world, d=None)  # an analyst
    assert await FairnessExposure.all().count() == 0
    mahal = await city.add("Mahal", price=150_000, stock=100)
    dear = await create(gql, world, mahal, "Batik sutra", 400_000, 20)
    r = await ranking(gql, world, token="buyer", d=None)
    assert await FairnessExposure.filter(buyer_id=world.users["buyer"].id).count() == len(r["edges"]) == 7
    rank = {e["umkm"]["name"]: e["rank"] for e in r["edges"]}
    from schema.relay import from_global_id

    order = await place(gql, world, from_global_id(dear)[1])
    assert order["sourceRank"] is None  # the 400k sale is not the in-band product shown
    low = next(n for n, k in rank.items() if k > 3)
    assert (await place(gql, world, city.products[low].id))["sourceRank"] is None  # shown, not recommended
    if rank["Mahal"] <= 3:
        assert (await place(gql, world, city.products["Mahal"].id))["sourceRank"] == rank["Mahal"]
    else:
        assert (await place(gql, world, city.products["Mahal"].id))["sourceRank"] is None


SECRET = "query($d: Date!) { fairnessDaySecret(day: $d) }"
RANKING_DOC = """query($c: ID!, $first: Int) { underSoldUmkm(categoryId: $c, first: $first) {
  edges { rank reasons umkm { name } score { receivedShare } } } }"""


async def test_the_order_inside_a_bucket_is_keyed_secret_on_its_day_and_auditable_after(gql, world, city, clock):
    """The rotation key used to be linear in id and day: anyone could compute tomorrow's list. Now it is an
    HMAC with a random day secret: hidden on its day (no key, no secret), published the next day, and then anyone
    can recompute the order of that day's list from the published secret."""
    import hashlib
    import hmac

    today = await ranking(gql, world, token="buyer", d=None)
    assert {e["score"]["rotationKey"] for e in today["edges"]} == {None}
    assert (await gql.ok(SECRET, {"d": AS_OF.isoformat()}, world.tokens["analyst"]))["fairnessDaySecret"] is None
    tomorrow = (AS_OF + dt.timedelta(days=1)).isoformat()
    assert (await gql.ok(SECRET, {"d": tomorrow}, world.tokens["admin"]))["fairnessDaySecret"] is None
    clock.at(AS_OF_DT + dt.timedelta(days=1))
    secret = (await gql.ok(SECRET, {"d": AS_OF.isoformat()}, world.tokens["buyer"]))["fairnessDaySecret"]
    assert secret is not None and len(secret) == 64
    past = await ranking(gql, world, d=AS_OF.isoformat())  # an analyst audits yesterday's list
    assert names(past) == names(today)
    for e in past["edges"]:
        uid = city.umkms[e["umkm"]["name"]].id
        mac = hmac.new(bytes.fromhex(secret), f"{world.batik.id}:{uid}".encode(), hashlib.sha256).digest()
        assert e["score"]["rotationKey"] == int.from_bytes(mac[:4], "big") & 0x7FFF_FFFF
    keys = [e["score"]["rotationKey"] for e in past["edges"]]
    assert keys == sorted(keys)  # six never-sold sellers in one bucket: the keyed order is the whole order


SUBMIT = """mutation($input: SubmitOmzetReportInput!) { submitOmzetReport(input: $input) { errors { code } } }"""


async def report(gql, world, clock, umkm, period: str, total: int, on: dt.date) -> None:
    clock.at(dt.datetime.combine(on, dt.time(10), AS_OF_DT.tzinfo))
    v = {"input": {"umkmId": gid("Umkm", umkm.id), "period": period, "totalAmount": total}}
    assert (await gql.ok(SUBMIT, v, world.tokens["other_owner"]))["submitOmzetReport"]["errors"] == []


async def test_need_cannot_be_bought_by_correcting_down_or_by_late_reports(gql, world, city, clock):
    """Need follows from reported omzet. A correction downwards used to raise it; now each month counts at its
    highest figure, only when first filed on time, and two of the last three months must be reported."""
    dewi, eka = city.umkms["Dewi"], city.umkms["Eka"]
    for period, on in (("2026-03", dt.date(2026, 4, 5)), ("2026-04", dt.date(2026, 5, 5))):
        await report(gql, world, clock, dewi, period, 20_000_000, on)
    await report(gql, world, clock, dewi, "2026-05", 20_000_000, dt.date(2026, 6, 5))
    await report(gql, world, clock, eka, "2026-04", 1_000_000, dt.date(2026, 5, 5))
    await report(gql, world, clock, eka, "2026-05", 1_000_000, dt.date(2026, 6, 12))  # after the 10th: late
    clock.at(AS_OF_DT)
    before = row(await ranking(gql, world), "Dewi")["score"]
    assert before["omzetUsed"] == 20_000_000 and 0 < before["need"] < 1
    for period in ("2026-03", "2026-04", "2026-05"):  # Dewi "corrects" every month down to Rp1 juta
        await report(gql, world, clock, dewi, period, 1_000_000, AS_OF)
    after = await ranking(gql, world)
    assert row(after, "Dewi")["score"]["need"] == before["need"]
    assert row(after, "Dewi")["score"]["omzetUsed"] == 20_000_000
    eka_score = row(after, "Eka")["score"]  # one on-time month of three: no need, however low
    assert eka_score["need"] == 0 and eka_score["omzetUsed"] is None and eka_score["omzetSource"] == "NONE"


async def test_an_open_order_moves_only_its_sellers_row_at_ordering_and_a_cancel_takes_it_back(gql, world, city):
    """The rank used not to move until delivery: a seller could collect many orders at rank 1. Now an order counts
    provisionally from the moment it is placed — its seller's row moves to the end of its new bucket, in place, no
    rebuild — and a cancellation takes it back."""
    from models.fairness import RankingSnapshot

    before = await ranking(gql, world, token="buyer", d=None)
    top = before["edges"][0]["umkm"]["name"]
    built = (await RankingSnapshot.get(category_id=world.batik.id)).built_at
    order = await place(gql, world, city.products[top].id, 5, source="SEARCH")
    v = {"c": gid("Category", world.batik.id), "first": 100}
    body = (await gql.raw(RANKING_DOC, v, token=world.tokens["analyst"])).json()
    after = body["data"]["underSoldUmkm"]
    assert not [q for q in body["extensions"]["sql"] if "umkm_category_sales" in q], "no rebuild for an order"
    assert (await RankingSnapshot.get(category_id=world.batik.id)).built_at == built
    assert names(after)[-1] == top and names(after)[:-1] == names(before)[1:], (names(before), names(after))
    moved = row(after, top)
    assert "NEVER_SOLD" not in moved["reasons"] and moved["score"]["receivedShare"] > 0
    cancel = "mutation($input: OrderReasonInput!) { cancelOrder(input: $input) { errors { code } } }"
    body = await gql.ok(cancel, {"input": {"id": order["id"], "reason": "salah pesan"}}, world.tokens["buyer"])
    assert body["cancelOrder"]["errors"] == []
    back = await ranking(gql, world, d=None)
    assert names(back) == names(before) and "NEVER_SOLD" in row(back, top)["reasons"]


async def test_a_rebuild_keeps_an_open_order_as_the_latest_award_and_a_cancel_takes_it_back(gql, world, city):
    """An order moves its seller to the end of its new bucket at once. A later build of the same day's list (any
    change in the category rebuilds it) used to put the seller back in front of its bucket, as if the open order had
    not been awarded: one seller could collect an order per rebuild. The build now counts the open order as the
    seller's latest award; cancelling it leaves no trace."""
    for days, name in enumerate(("Eka", "Dewi", "Bima", "Arjuna"), start=2):
        await city.sale(name, 300_000, days)
    await invalidate()
    before = names(await ranking(gql, world, d=None))
    order = await place(gql, world, city.products["Citra"].id, 2, source="SEARCH")  # Rp300,000, open
    moved = names(await ranking(gql, world, d=None))
    await invalidate()
    rebuilt = names(await ranking(gql, world, d=None))
    assert moved[:2] == ["Fajar", "Citra"], (before, moved)  # in place: only Citra's row moved (out of the top bucket)
    # five sellers with Rp300,000 each share one bucket: the least recently awarded first, the open order last
    assert rebuilt == ["Fajar", "Arjuna", "Bima", "Dewi", "Eka", "Citra"], (before, moved, rebuilt)
    cancel = "mutation($input: OrderReasonInput!) { cancelOrder(input: $input) { errors { code } } }"
    body = await gql.ok(cancel, {"input": {"id": order["id"], "reason": "salah pesan"}}, world.tokens["buyer"])
    assert body["cancelOrder"]["errors"] == []
    assert names(await ranking(gql, world, d=None)) == before


async def test_delivery_ends_the_provisional_count_without_moving_the_list_again(gql, world, city):
    from models.fairness import CategorySales, UmkmCategorySales
    from resolvers.fairness_stats import rebuild_stats

    before = await ranking(gql, world, token="buyer", d=None)
    top = before["edges"][0]["umkm"]["name"]
    order = await place(gql, world, city.products[top].id, 5, source="SEARCH")
    opened = names(await ranking(gql, world, d=None))
    for step, token, extra in (
        ("acceptOrder", "other_owner", ""),
        ("shipOrder", "other_owner", ""),
        ("confirmDelivery", "buyer", ', receivedBy: "TU"'),
    ):
        doc = f"mutation($id: ID!) {{ {step}(input: {{id: $id{extra}}}) {{ errors {{ code }} }} }}"
        assert (await gql.ok(doc, {"id": order["id"]}, world.tokens[token]))[step]["errors"] == []
    assert names(await ranking(gql, world, d=None)) == opened
    assert abs(sum(await UmkmCategorySales.all().values_list("open_weighted", flat=True))) < 1e-6
    assert abs(sum(await CategorySales.all().values_list("open_weighted", flat=True))) < 1e-6
    drift = await rebuild_stats(fix=False)
    assert drift.rows_differing == 0


CHOICE = """query($c: ID!, $first: Int, $after: String) { underSoldUmkm(categoryId: $c, first: $first, after: $after) {
  edges { rank recommended defaultChoice umkm { name } cheapestEligibleProduct { price } }
  pageInfo { endCursor } } }"""


async def test_the_first_three_are_the_recommended_choice_and_rank_one_the_default_unless_dear(gql, world, city):
    v = {"c": gid("Category", world.batik.id), "first": 4}
    page = (await gql.ok(CHOICE, v, world.tokens["buyer"]))["underSoldUmkm"]
    got = [(e["rank"], e["recommended"], e["defaultChoice"]) for e in page["edges"]]
    assert got == [(1, True, True), (2, True, False), (3, True, False), (4, False, False)]
    nxt = await gql.ok(CHOICE, {**v, "after": page["pageInfo"]["endCursor"]}, world.tokens["buyer"])
    assert not any(e["recommended"] for e in nxt["underSoldUmkm"]["edges"])
    # rank 1 at more than 1.2 × the cheapest of the three: the cheapest is the default
    first, third = page["edges"][0]["umkm"]["name"], page["edges"][2]["umkm"]["name"]
    await Product.filter(id=city.products[first].id).update(price=190_000)
    await Product.filter(id=city.products[third].id).update(price=140_000)
    await invalidate()
    again = (await gql.ok(CHOICE, v, world.tokens["buyer"]))["underSoldUmkm"]["edges"]
    assert [e["umkm"]["name"] for e in again if e["defaultChoice"]] == [third]


async def test_a_newcomer_reaches_its_full_share_with_a_30_day_half_life(gql, world, city):
    await city.add("Gita", verified_days=30)
    g = row(await ranking(gql, world), "Gita")["score"]
    assert g["activeFraction"] == pytest.approx(1 - 2 ** (-31 / 30))  # about 0.51: no longer a NEWCOMER
    assert "NEWCOMER" not in row(await ranking(gql, world), "Gita")["reasons"]


async def test_a_bulk_order_above_the_city_threshold_is_sent_to_plan_bulk_order(settings, database, world, city):
    import dataclasses

    import httpx

    from app import create_app
    from tests.conftest import GQL

    app = create_app(dataclasses.replace(settings, bulk_threshold=5_000_000), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        gql = GQL(http)
        v = {
            "input": {
                "items": [{"productId": gid("Product", city.products["Arjuna"].id), "quantity": 40}],  # Rp6 juta
                "neededBy": (dt.date.today() + dt.timedelta(days=10)).isoformat(),  # this app runs on the real clock
                "deliveryAddress": "Balai Kota",
            }
        }
        doc = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { errors { field code message } } }"
        (err,) = (await gql.ok(doc, v, world.tokens["buyer"]))["placeOrder"]["errors"]
        assert (
            err["code"] == "USE_BULK_PLAN" and err["field"] == "items.0.quantity" and "planBulkOrder" in err["message"]
        )
        v["input"]["items"][0]["quantity"] = 30  # Rp4.5 juta: an ordinary order
        assert (await gql.ok(doc, v, world.tokens["buyer"]))["placeOrder"]["errors"] == []


MINE = """query($lang: String) { myFairness(lang: $lang) { umkm { name } category { name } eligible rank listed
  receivedThisYear fairShareThisYear priceBandLow priceBandHigh stockNeeded excludedBecause messages } }"""


async def test_a_seller_reads_its_own_standing_in_indonesian_or_english(gql, world, city):
    """The owner of the city's sellers (other_owner) sees each of them; a dear one learns the price band to meet."""
    mahal = await city.add("Mahal", price=400_000)
    rows = (await gql.ok(MINE, {}, world.tokens["other_owner"]))["myFairness"]
    by = {r["umkm"]["name"]: r for r in rows if r["category"]["name"] == "Batik"}
    assert set(city.umkms) <= set(by) and mahal.id
    arjuna = by["Arjuna"]
    assert arjuna["eligible"] and arjuna["rank"] >= 1 and arjuna["listed"] == 6 and arjuna["receivedThisYear"] == 0
    assert arjuna["messages"][0].startswith("Peringkat Anda hari ini")
    dear = by["Mahal"]
    assert not dear["eligible"] and dear["excludedBecause"] == ["PRICE_OUT_OF_BAND"]
    assert (dear["priceBandLow"], dear["priceBandHigh"], dear["stockNeeded"]) == (90_000, 195_000, 1)
    assert "Rp90,000" in dear["messages"][0] and "Rp195,000" in dear["messages"][0]
    english = (await gql.ok(MINE, {"lang": "en"}, world.tokens["other_owner"]))["myFairness"]
    assert any(m.startswith("Price a product between") for r in english for m in r["messages"])
    r = await gql.raw(MINE, {}, token=world.tokens["other_owner"], headers={"Accept-Language": "en-US,en;q=0.9"})
    header = r.json()["data"]["myFairness"]
    assert any(m.startswith("Your rank today") for row in header for m in row["messages"])
    theirs = await gql.ok(
        "query($u: ID!) { umkmFairness(umkmId: $u) { rank umkm { name } } }",
        {"u": gid("Umkm", city.umkms["Arjuna"].id)},
        world.tokens["admin"],
    )
    assert theirs["umkmFairness"] == [{"rank": arjuna["rank"], "umkm": {"name": "Arjuna"}}]
    mine = (await gql.ok(MINE, {}, world.tokens["owner"]))["myFairness"]  # another owner: its own UMKM only
    assert {r["umkm"]["name"] for r in mine} <= {world.umkm.name}


async def test_the_exposure_log_keeps_its_stated_retention_and_no_more(world):
    """Reading the list writes showings; the server's refresh loop deletes those older than `exposure_keep_days`, so
    reads do not write without bound. A showing inside the retention stays."""
    keep = POLICY.exposure_keep_days
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(JAKARTA).date()
    common = dict(
        buyer_id=world.users["buyer"].id, opd_id=world.opd.id, category_id=world.batik.id, product_id=1, rank=1
    )
    old = await FairnessExposure.create(day=today - dt.timedelta(days=keep + 1), umkm_id=world.umkm.id, **common)
    kept = await FairnessExposure.create(day=today - dt.timedelta(days=keep - 1), umkm_id=world.umkm.id, **common)
    await fairness_snapshot.refresh(now)
    assert not await FairnessExposure.exists(id=old.id)
    assert await FairnessExposure.exists(id=kept.id)
