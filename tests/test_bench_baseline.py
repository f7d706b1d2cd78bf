"""The benchmark's raw baseline answers S1 (products) and S2 (one order) with exactly our JSON, and our side of
those scenarios costs at most 4 SQL statements whatever the size (bench/harness, bench/README.md).

The baseline's query functions run here through the app's own connection (`models.query.fetch_all`), so the same
comparison holds on SQLite and on PostgreSQL; the harness runs them over asyncpg.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bench.harness import baseline as b
from bench.harness.scenarios import S1_PRODUCTS, S2_ORDER, canonical
from models.base import UmkmStatus
from models.catalog import Product
from models.registry import Kelurahan
from tests.conftest import SECRET, gid

PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orders { id } errors { code message } } }"


async def catalogue(world) -> None:
    """~30 more products: three more sellers in two kecamatan, two categories, equal timestamps (the id breaks the
    tie), whole-second and microsecond timestamps, archived products and products of non-verified sellers."""
    kel2 = await Kelurahan.filter(kecamatan_id=world.kecamatan2.id).first()
    far = await world.umkm_for(world.users["owner"], "Kue Bu Sri", kelurahan=kel2)
    pending = await world.umkm_for(world.users["other_owner"], "Belum Diverifikasi", UmkmStatus.PENDING)
    sellers = [world.umkm, world.other_umkm, far]
    made = []
    for i in range(30):
        made.append(
            await world.product_for(
                sellers[i % 3],
                f"Produk {i:02d} “Suroboyo”",
                price=10_000 + 2_500 * i,
                category=world.snack if i % 2 else world.batik,
                active=i % 11 != 5,
            )
        )
    await world.product_for(pending, "Produk pending", price=55_000)
    await world.product_for(world.suspended_umkm, "Produk suspended lagi", price=65_000)
    tie = dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC)
    await Product.filter(id__in=[p.id for p in made[:6]]).update(created_at=tie)
    await Product.filter(id__in=[p.id for p in made[6:9]]).update(created_at=tie.replace(microsecond=250_000))


async def ours(gql, doc: str, variables: dict, token: str | None) -> tuple[dict, int]:
    r = await gql.raw(doc, variables, token=token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return body, body["extensions"]["sqlStatements"]


async def theirs(fn, variables: dict, token: str | None) -> tuple[dict, b.Counted]:
    db = b.Counted(b.TortoiseDb())
    caller = await b.caller_for(db, token, SECRET)
    return await fn(db, caller, variables), db


def assert_same_json(mine: dict, base: dict) -> None:
    assert canonical(mine) == canonical(base)
    if b.orjson is None:  # byte for byte as Strawberry encodes it (same field order)
        without = {k: v for k, v in mine.items() if k != "extensions"}
        assert json.dumps(without, separators=(",", ":")).encode() == b.encode(base)


async def test_products_equal_the_baseline_and_cost_the_same_statements_at_every_size(gql, world):
    await catalogue(world)
    counts = {}
    for n in (10, 50, 100):
        mine, counts[n] = await ours(gql, S1_PRODUCTS, {"first": n}, None)
        base, db = await theirs(b.products, {"first": n}, None)
        assert_same_json(mine, base)
        assert db.n == 1 and db.auth == 0
    edges = mine["data"]["products"]["edges"]
    assert 25 <= len(edges) < 50 and not mine["data"]["products"]["pageInfo"]["hasNextPage"]
    assert {"Produk pending", "Produk suspended lagi", "Batik suspended"}.isdisjoint(e["node"]["name"] for e in edges)
    small = (await ours(gql, S1_PRODUCTS, {"first": 10}, None))[0]["data"]["products"]
    assert len(small["edges"]) == 10 and small["pageInfo"]["hasNextPage"]
    assert max(counts.values()) <= 4, counts
    assert len(set(counts.values())) == 1, counts


@pytest.mark.parametrize("who", ["buyer", "other_owner", "admin"])
async def test_products_equal_the_baseline_for_each_kind_of_caller(gql, world, who):
    await catalogue(world)
    token = world.tokens[who]
    mine, _ = await ours(gql, S1_PRODUCTS, {"first": 100}, token)
    base, db = await theirs(b.products, {"first": 100}, token)
    assert_same_json(mine, base)
    assert db.auth == (2 if who == "other_owner" else 1)  # the token, and an owner's UMKM
    names = {e["node"]["name"] for e in mine["data"]["products"]["edges"]}
    assert ("Produk pending" in names) is (who in ("other_owner", "admin"))


async def test_one_order_equals_the_baseline_and_costs_the_same_statements_for_5_and_50_items(gql, world):
    products = [world.product] + [
        await world.product_for(world.umkm, f"Batik motif {i}", price=100_000 + i) for i in range(49)
    ]
    needed_by = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    counts = {}
    for n in (5, 50):
        placed = await gql.ok(
            PLACE,
            {
                "input": {
                    "items": [
                        {"productId": gid("Product", p.id), "quantity": 1 + i % 3} for i, p in enumerate(products[:n])
                    ],
                    "neededBy": needed_by,
                    "deliveryAddress": "Jl. Jimerto 25-27",
                }
            },
            world.tokens["buyer"],
        )
        assert placed["placeOrder"]["errors"] == []
        variables = {"id": placed["placeOrder"]["orders"][0]["id"]}
        for who in ("buyer", "admin"):
            mine, counts[(n, who)] = await ours(gql, S2_ORDER, variables, world.tokens[who])
            base, db = await theirs(b.order, variables, world.tokens[who])
            assert_same_json(mine, base)
            assert db.n - db.auth == 1
        assert len(mine["data"]["order"]["items"]) == n
    assert max(counts.values()) <= 2, counts  # the order with its UMKM and OPD; the items with products and UMKM
    assert len(set(counts.values())) == 1, counts
    # a caller who may not see the order gets null from both
    other = await gql.ok(S2_ORDER, variables, world.tokens["other_owner"])
    base, _ = await theirs(b.order, variables, world.tokens["other_owner"])
    assert other == base["data"] == {"order": None}
