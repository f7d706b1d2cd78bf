"""Bulk purchases through the endpoint: a water-filled plan, then orders in one transaction."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from models.catalog import Product
from models.fairness import BulkPlan
from models.orders import CapacityUse, Order
from models.registry import Category
from resolvers import fairness_stats
from tests.conftest import error_codes, gid

JAKARTA = ZoneInfo("Asia/Jakarta")
NEEDED = (dt.datetime.now(JAKARTA).date() + dt.timedelta(days=30)).isoformat()

PLAN = """mutation($input: PlanBulkOrderInput!) { planBulkOrder(input: $input) {
  plan { id quantity plannedQuantity total minLot placedAt policyVersion
         lines { quantity unitPrice subtotal rank levelBefore levelAfter umkm { name } product { name } } }
  errors { field code message } } }"""
PLACE = """mutation($input: PlaceBulkOrderInput!) { placeBulkOrder(input: $input) {
  orders { number source sourceRank total umkm { name } items { quantity } } errors { field code message } } }"""


async def tailors(world, capacities: dict[str, int], made_to_order: bool = True) -> Category:
    cat = await Category.create(name="Seragam & jasa jahit", slug="seragam")
    for name, cap in capacities.items():
        u = await world.umkm_for(world.users["other_owner"], name)
        await world.product_for(
            u,
            f"Jahit seragam {name}",
            price=150_000,
            category=cat,
            made_to_order=made_to_order,
            monthly_capacity=cap if made_to_order else None,
            stock=0 if made_to_order else cap,
            options=["S", "M", "L"],
        )
    return cat


async def plan(gql, world, cat, quantity, **extra) -> dict:
    body = await gql.ok(
        PLAN,
        {
            "input": {
                "categoryId": gid("Category", cat.id),
                "quantity": quantity,
                "neededBy": NEEDED,
                "deliveryAddress": "Dinas Pendidikan",
                **extra,
            }
        },
        world.tokens["buyer"],
    )
    return body["planBulkOrder"]


async def test_a_bulk_plan_splits_the_quantity_exactly_within_capacity_and_lots(gql, world):
    cat = await tailors(world, {"Ani": 100, "Budi": 200, "Cici": 60, "Dodo": 15, "Euis": 300})
    # Budi already sold a lot in this category: the water-filling gives him least
    await fairness_stats.record_sale(
        (await Product.get(name="Jahit seragam Budi")).umkm_id, {cat.id: 30_000_000}, dt.datetime.now(dt.UTC)
    )
    payload = await plan(gql, world, cat, 400, minLot=20)
    assert payload["errors"] == []
    p = payload["plan"]
    lines = {x["umkm"]["name"]: x for x in p["lines"]}
    assert p["plannedQuantity"] == 400 == sum(x["quantity"] for x in p["lines"])
    assert "Dodo" not in lines  # capacity 15 < minimum lot 20
    assert all(x["quantity"] >= 20 for x in p["lines"])
    caps = {"Ani": 100, "Budi": 200, "Cici": 60, "Euis": 300}
    assert all(lines[n]["quantity"] <= caps[n] for n in lines)
    assert lines.get("Budi", {"quantity": 0})["quantity"] < min(lines["Ani"]["quantity"], lines["Euis"]["quantity"])
    assert p["total"] == 400 * 150_000 and [x["rank"] for x in p["lines"]] == sorted(x["rank"] for x in p["lines"])
    # the levels follow from each supplier's omzet: null for the buyer, read by an analyst (PRIVACY.md)
    assert all(x["levelBefore"] is None and x["levelAfter"] is None for x in p["lines"])
    doc = "query($id: ID!) { node(id: $id) { ... on BulkPlan { lines { levelBefore levelAfter } } } }"
    seen = (await gql.ok(doc, {"id": p["id"]}, world.tokens["analyst"]))["node"]["lines"]
    assert len(seen) == len(p["lines"]) and all(x["levelAfter"] >= x["levelBefore"] >= 0 for x in seen)


async def test_asking_more_than_capacity_plans_what_the_umkm_can_make(gql, world):
    cat = await tailors(world, {"Ani": 100, "Cici": 60})
    p = (await plan(gql, world, cat, 5_000))["plan"]
    assert p["quantity"] == 5_000 and p["plannedQuantity"] == 160


async def test_placing_a_plan_makes_bulk_orders_once_and_reserves_capacity(gql, world):
    cat = await tailors(world, {"Ani": 100, "Cici": 100, "Euis": 100})
    p = (await plan(gql, world, cat, 240))["plan"]
    placed = (
        await gql.ok(PLACE, {"input": {"planId": p["id"], "idempotencyKey": "seragam-2027"}}, world.tokens["buyer"])
    )["placeBulkOrder"]
    assert placed["errors"] == []
    assert sorted(o["total"] for o in placed["orders"]) == sorted(x["subtotal"] for x in p["lines"])
    assert {o["source"] for o in placed["orders"]} == {"BULK_PLAN"}
    ranks = {x["umkm"]["name"]: x["rank"] for x in p["lines"]}
    assert {o["umkm"]["name"]: o["sourceRank"] for o in placed["orders"]} == ranks
    assert sum(await CapacityUse.all().values_list("used", flat=True)) == 240
    replay = (
        await gql.ok(PLACE, {"input": {"planId": p["id"], "idempotencyKey": "seragam-2027"}}, world.tokens["buyer"])
    )["placeBulkOrder"]
    assert sorted(o["number"] for o in replay["orders"]) == sorted(o["number"] for o in placed["orders"])
    again = (await gql.ok(PLACE, {"input": {"planId": p["id"]}}, world.tokens["buyer"]))["placeBulkOrder"]
    assert again["errors"][0]["code"] == "PLAN_ALREADY_PLACED"
    assert await Order.all().count() == len(placed["orders"])
    assert (await BulkPlan.get(id=1)).placed_at is not None


async def test_a_plan_that_no_longer_fits_places_nothing(gql, world):
    cat = await tailors(world, {"Ani": 100, "Cici": 100}, made_to_order=False)
    p = (await plan(gql, world, cat, 200))["plan"]
    await Product.filter(name="Jahit seragam Cici").update(stock=10)  # sold elsewhere meanwhile
    body = (await gql.ok(PLACE, {"input": {"planId": p["id"]}}, world.tokens["buyer"]))["placeBulkOrder"]
    assert body["orders"] is None and body["errors"][0]["code"] == "INSUFFICIENT_STOCK"
    assert await Order.all().count() == 0
    assert (await Product.get(name="Jahit seragam Ani")).stock == 100
    assert (await BulkPlan.get(id=1)).placed_at is None


async def test_only_opd_buyers_plan_and_bad_input_is_a_payload_error(gql, world):
    cat = await tailors(world, {"Ani": 100})
    variables = {
        "input": {"categoryId": gid("Category", cat.id), "quantity": 50, "neededBy": NEEDED, "deliveryAddress": "x"}
    }
    assert error_codes(await gql(PLAN, variables, world.tokens["owner"])) == ["FORBIDDEN"]
    assert error_codes(await gql(PLAN, variables, world.tokens["treasurer"])) == ["FORBIDDEN"]
    bad = (await plan(gql, world, cat, 0))["errors"]
    assert bad[0]["field"] == "quantity"
    none = (await plan(gql, world, cat, 50, minLot=500))["errors"]
    assert none[0]["code"] == "NO_SUPPLIERS"
    assert await BulkPlan.all().count() == 0
