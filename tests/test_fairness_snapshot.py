"""The under-sold list served from its snapshot: built once, read by pages, current after every write."""

# ruff: noqa: F811  (the `city` fixture is imported from tests/test_fairness.py)

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import pytest

from models.base import JAKARTA, Role
from models.catalog import Product
from models.fairness import RankingRow, RankingSnapshot
from models.registry import Kelurahan, Opd
from resolvers.fairness_policy import POLICY
from resolvers.ranking import rank_category
from schema.relay import from_global_id
from tests.conftest import gid
from tests.test_fairness import (  # noqa: F401  (today_is_as_of: the server's today is AS_OF here too)
    AS_OF,
    AS_OF_DT,
    RANKING,
    City,
    city,
    names,
    ranking,
    today_is_as_of,
)

NOON = dt.datetime.combine(AS_OF, dt.time(12), JAKARTA).astimezone(dt.UTC)
SOON = (AS_OF + dt.timedelta(days=10)).isoformat()  # needed by: 10 days after the server's today


async def reference(world, opd: Opd | None = None, quantity: int | None = None) -> list[tuple]:
    """The list computed now from the maintained statistics, without any snapshot."""
    r = await rank_category(world.batik.id, NOON, opd=opd, quantity=quantity)
    return [(row.umkm_id, row.rank, row.reasons, row.score.deficit, row.score.bucket) for row in r.rows]


async def paged(gql, world, first: int = 2, **v) -> list[tuple]:
    """The whole list read through the API `first` rows at a time."""
    out, after = [], None
    doc = RANKING.replace("umkm { name }", "umkm { id name }")
    while True:
        variables = {"c": gid("Category", world.batik.id), "d": AS_OF.isoformat(), "first": first, "after": after}
        variables.update(v)
        page = (await gql.ok(doc, variables, world.tokens["analyst"]))["underSoldUmkm"]  # every score component
        for e in page["edges"]:
            uid = int(from_global_id(e["umkm"]["id"])[1])
            out.append((uid, e["rank"], e["reasons"], e["score"]["deficit"], e["score"]["bucket"]))
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


async def same_as_reference(gql, world, opd: Opd | None = None, quantity: int | None = None) -> list[tuple]:
    v = {}
    if opd is not None:
        v["o"] = gid("Opd", opd.id)
    if quantity:
        v["q"] = quantity
    got = await paged(gql, world, **v)
    assert got == await reference(world, opd, quantity)
    return got


async def test_pages_of_the_snapshot_equal_the_ranking_computed_now_for_every_buyer(gql, world, city):
    await city.sale("Arjuna", 3_000_000, 10)
    await city.sale("Citra", 500_000, 40)
    await city.report("Dewi", 2_000_000)
    await city.add("Baru", verified_days=20)
    kel2 = await Kelurahan.filter(kecamatan_id=world.kecamatan2.id).first()
    await city.add("Jauh", kelurahan=kel2)
    full = await same_as_reference(gql, world)
    assert len(full) == 8 and [r[1] for r in full] == list(range(1, 9))
    served = await same_as_reference(gql, world, opd=world.opd)
    assert len(served) == 7 and all("SERVES_OPD_KECAMATAN" in r[2] for r in served)
    await same_as_reference(gql, world, opd=world.opd, quantity=50)
    assert await same_as_reference(gql, world, quantity=51) == []


async def test_a_second_request_reads_the_snapshot_not_the_statistics(gql, world, city):
    await city.sale("Arjuna", 1_000_000, 3)
    variables = {"c": gid("Category", world.batik.id), "d": AS_OF.isoformat()}
    sources = ("umkm_category_sales", "category_sales", "omzet_report")
    first = (await gql.raw(RANKING, variables, token=world.tokens["buyer"])).json()["extensions"]["sql"]
    assert any(s in q for q in first for s in sources), first
    second = (await gql.raw(RANKING, variables, token=world.tokens["buyer"])).json()["extensions"]["sql"]
    assert not [q for q in second if any(s in q for s in sources)], second
    # snapshot, its page, the UMKM, the products, and the one upsert of the buyer's exposure log
    assert len(second) <= 5, second
    assert sum("fairness_exposure" in q for q in second) == 1, second
    assert await RankingSnapshot.filter(category_id=world.batik.id).count() == 1
    assert await RankingRow.all().count() == 6


async def test_a_sale_makes_the_next_request_rebuild_the_list(gql, world, city):
    before = await ranking(gql, world)
    assert "NEVER_SOLD" in before["edges"][0]["reasons"]
    top = before["edges"][0]["umkm"]["name"]
    await city.sale(top, 5_000_000, 1)  # the function every delivery calls
    after = await ranking(gql, world)
    assert names(after)[-1] == top and names(after) != names(before)
    await same_as_reference(gql, world)


MUTATIONS = {
    "suspend": (
        "admin",
        "mutation($input: VerifyUmkmInput!) { verifyUmkm(input: $input) { errors { code } } }",
        lambda c: {"id": gid("Umkm", c.umkms["Bima"].id), "decision": "SUSPEND", "note": "audit"},
    ),
    "archive": (
        "other_owner",
        "mutation($input: ArchiveProductInput!) { archiveProduct(input: $input) { errors { code } } }",
        lambda c: {"id": gid("Product", c.products["Bima"].id)},
    ),
    "reprice": (
        "other_owner",
        "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { errors { code } } }",
        lambda c: {"id": gid("Product", c.products["Bima"].id), "price": 400_000},
    ),
    "sold_out": (
        "buyer",
        "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { errors { code } } }",
        lambda c: {
            "items": [{"productId": gid("Product", c.products["Bima"].id), "quantity": 50}],
            "neededBy": SOON,
            "deliveryAddress": "Jl. Jimerto 25-27, Surabaya",
        },
    ),
}


@pytest.mark.parametrize("change", sorted(MUTATIONS))
async def test_a_change_through_the_api_is_on_the_next_list(gql, world, city, change):
    assert "Bima" in names(await ranking(gql, world))  # the snapshot exists now
    token, doc, make = MUTATIONS[change]
    body = await gql.ok(doc, {"input": make(city)}, world.tokens[token])
    assert next(iter(body.values()))["errors"] == []
    # a buyer's order that empties the stock does not take the seller off (griefing, docs/FAIRNESS.md)
    assert ("Bima" in names(await ranking(gql, world))) is (change == "sold_out")
    await same_as_reference(gql, world)


async def test_reserving_a_rivals_whole_stock_does_not_knock_it_off_until_the_order_ships(gql, world, city):
    """Griefing: a buyer reserves all of Bima's stock. Bima stays on the list (and fairnessCheck gives no NO_STOCK)
    while the order is open; when the goods ship, the stock is really gone and Bima leaves; a cancelled order gives
    the stock back."""
    token, doc, make = MUTATIONS["sold_out"]
    placed = await gql.ok(
        doc.replace("errors { code }", "orders { id } errors { code }"), {"input": make(city)}, world.tokens[token]
    )
    assert (await Product.get(id=city.products["Bima"].id)).stock == 0
    assert "Bima" in names(await ranking(gql, world))
    check = "query($u: ID!, $c: ID!) { fairnessCheck(umkmId: $u, categoryId: $c) { eligible excludedBecause } }"
    v = {"u": gid("Umkm", city.umkms["Bima"].id), "c": gid("Category", world.batik.id)}
    assert (await gql.ok(check, v, world.tokens["buyer"]))["fairnessCheck"] == {"eligible": True, "excludedBecause": []}
    order_id = placed["placeOrder"]["orders"][0]["id"]
    cancel = "mutation($input: OrderReasonInput!) { cancelOrder(input: $input) { errors { code } } }"
    body = await gql.ok(cancel, {"input": {"id": order_id, "reason": "wrong size"}}, world.tokens["buyer"])
    assert body["cancelOrder"]["errors"] == []
    assert (await Product.get(id=city.products["Bima"].id)).held == 0
    assert "Bima" in names(await ranking(gql, world))
    # placed again, accepted and shipped: the units left the shop, Bima is out of stock and off the list
    placed = await gql.ok(
        doc.replace("errors { code }", "orders { id } errors { code }"), {"input": make(city)}, world.tokens[token]
    )
    order_id = placed["placeOrder"]["orders"][0]["id"]
    for step in ("acceptOrder", "shipOrder"):
        body = await gql.ok(
            f"mutation($i: OrderIdInput!) {{ {step}(input: $i) {{ errors {{ code }} }} }}",
            {"i": {"id": order_id}},
            world.tokens["other_owner"],
        )
        assert body[step]["errors"] == [], body
    assert "Bima" not in names(await ranking(gql, world))
    body = await gql.ok(check, v, world.tokens["buyer"])
    assert body["fairnessCheck"] == {"eligible": False, "excludedBecause": ["NO_STOCK"]}


async def test_booking_a_rivals_whole_monthly_capacity_does_not_knock_it_off_until_the_order_ships(gql, world, city):
    """Griefing, made to order: a buyer books all of Eka's capacity for the month. Eka used to leave the list at
    once (CAPACITY_SHORT for any quantity). A recent open booking now counts as capacity Eka still has, like a
    reservation of stock; once the goods ship the capacity is really used and Eka leaves; a cancel gives it back."""
    await Product.filter(id=city.products["Eka"].id).update(made_to_order=True, monthly_capacity=120, stock=0)
    assert names(await ranking(gql, world, q=100)) == ["Eka"]
    place = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orders { id } errors { code } } }"""
    book = {
        "items": [{"productId": gid("Product", city.products["Eka"].id), "quantity": 120}],
        "neededBy": SOON,
        "deliveryAddress": "Jl. Jimerto 25-27, Surabaya",
    }
    body = (await gql.ok(place, {"input": book}, world.tokens["buyer"]))["placeOrder"]
    assert body["errors"] == [], body
    assert names(await ranking(gql, world, q=100)) == ["Eka"]
    cancel = "mutation($input: OrderReasonInput!) { cancelOrder(input: $input) { errors { code } } }"
    v = {"input": {"id": body["orders"][0]["id"], "reason": "salah pesan"}}
    assert (await gql.ok(cancel, v, world.tokens["buyer"]))["cancelOrder"]["errors"] == []
    assert names(await ranking(gql, world, q=100)) == ["Eka"]
    body = (await gql.ok(place, {"input": book}, world.tokens["buyer"]))["placeOrder"]
    for step in ("acceptOrder", "shipOrder"):
        done = await gql.ok(
            f"mutation($i: OrderIdInput!) {{ {step}(input: $i) {{ errors {{ code }} }} }}",
            {"i": {"id": body["orders"][0]["id"]}},
            world.tokens["other_owner"],
        )
        assert done[step]["errors"] == [], done
    assert names(await ranking(gql, world, q=100)) == []  # the month's capacity is spent


@pytest.mark.parametrize("earlier, listed", [(0, True), (1, False)])
async def test_a_reservation_exactly_as_old_as_the_grace_still_counts_on_every_engine(
    gql, world, city, clock, earlier, listed
):
    """The grace is "reserved at or after the list moment minus 72 hours". A reservation made exactly then (a whole
    second: no microseconds) used to be older than the bound on SQLite only, where times are compared as text and the
    bound was written with `.000000`: Bima fell off on SQLite and stayed on PostgreSQL. A second earlier, it is off."""
    clock.at(AS_OF_DT - dt.timedelta(hours=POLICY.hold_grace_hours, seconds=earlier))
    token, doc, make = MUTATIONS["sold_out"]
    body = await gql.ok(doc, {"input": make(city)}, world.tokens[token])
    assert body["placeOrder"]["errors"] == []
    clock.at(AS_OF_DT)
    assert (await Product.get(id=city.products["Bima"].id)).stock == 0
    assert ("Bima" in names(await ranking(gql, world))) is listed


async def test_concurrent_requests_on_a_stale_list_agree_and_build_it_once(gql, world, city):
    await city.sale("Eka", 2_000_000, 5)
    results = await asyncio.gather(*[ranking(gql, world) for _ in range(4)])
    assert all(names(r) == names(results[0]) for r in results)
    assert await RankingRow.all().count() == 6  # one snapshot, its six rows
    assert await RankingSnapshot.all().count() == 1


async def test_snapshots_of_old_days_are_dropped_when_a_newer_one_is_built(gql, world, city, clock):
    for days in (10, 5, 0):
        clock.at(AS_OF_DT - dt.timedelta(days=days))  # each day's list read (and stored) on its day
        await ranking(gql, world, d=(AS_OF - dt.timedelta(days=days)).isoformat())
    kept = [s.as_of for s in await RankingSnapshot.all()]
    assert kept == [NOON], kept  # the lists of 10 and 5 days before were deleted as the newer ones were built


async def test_baskets_emptying_the_same_stocks_in_opposite_orders_all_go_through(gql, world, city):
    """Rows are taken in product id order, then the categories: no two placements wait for each other."""
    assert "Arjuna" in names(await ranking(gql, world))
    a, b = city.products["Arjuna"], city.products["Bima"]  # 50 in stock each
    doc = MUTATIONS["sold_out"][1].replace("errors { code }", "orders { id } errors { code }")

    def basket(first, second) -> dict:
        items = [{"productId": gid("Product", p.id), "quantity": 5} for p in (first, second)]
        return {"input": {"items": items, "neededBy": SOON, "deliveryAddress": "Jl. Jimerto 25-27, Surabaya"}}

    tokens = [world.tokens["buyer"]]
    for i in range(9):
        tokens.append((await world.user(f"basket{i}", Role.OPD_BUYER, world.opd))[1])
    results = await asyncio.gather(
        *(gql(doc, basket(a, b) if i % 2 else basket(b, a), tok) for i, tok in enumerate(tokens))
    )
    assert all("errors" not in r and r["data"]["placeOrder"]["errors"] == [] for r in results), results
    assert {p.stock for p in await Product.filter(id__in=[a.id, b.id])} == {0}
    assert {"Arjuna", "Bima"} <= set(names(await ranking(gql, world)))  # reserved, not shipped: still listed
    await same_as_reference(gql, world)


async def test_the_refresher_rebuilds_a_stale_list_before_the_next_request(gql, world, city):
    from resolvers.fairness_snapshot import refresh

    await ranking(gql, world)  # the list of AS_OF is being read
    assert await refresh(AS_OF_DT) == []  # fresh: nothing to do
    await city.sale("Citra", 4_000_000, 2)
    assert await refresh(AS_OF_DT) == [world.batik.id]
    variables = {"c": gid("Category", world.batik.id), "d": AS_OF.isoformat()}
    sql = (await gql.raw(RANKING, variables, token=world.tokens["buyer"])).json()["extensions"]["sql"]
    assert not [q for q in sql if "umkm_category_sales" in q or "omzet_report" in q], sql  # no build on the request
    await same_as_reference(gql, world)
    next_day = AS_OF_DT + dt.timedelta(days=1)
    assert await refresh(next_day) == [world.batik.id]  # a new day: built before anyone asks
    assert await RankingSnapshot.filter(as_of=NOON + dt.timedelta(days=1)).exists()


async def test_the_server_loop_refreshes_stale_lists_in_the_background(gql, world, city):
    from types import SimpleNamespace

    from app import _refresh_rankings
    from models.registry import Category

    await ranking(gql, world)
    await city.sale("Dewi", 1_000_000, 1)

    async def fresh() -> bool:
        generation = (await Category.get(id=world.batik.id)).ranking_generation
        return await RankingSnapshot.filter(as_of=NOON, generation=generation).exists()

    assert not await fresh()
    view = SimpleNamespace(clock=SimpleNamespace(now=lambda: AS_OF_DT))
    task = asyncio.create_task(_refresh_rankings(0, view))
    try:
        for _ in range(500):
            await asyncio.sleep(0.01)
            if await fresh():
                break
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await fresh()
