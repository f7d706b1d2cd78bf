"""Finding products: search, filters, ordering, paging, and the SQL it costs."""

from __future__ import annotations

import pytest

from models.catalog import Product
from models.registry import Kelurahan, UmkmServedKecamatan
from tests.conftest import error_codes, gid

PRODUCTS = """
query($first: Int, $after: String, $filter: ProductFilter, $order: ProductOrder) {
  products(first: $first, after: $after, filter: $filter, orderBy: $order) {
    edges { cursor node { id name price umkm { name kecamatan { name } } category { name } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def names(data: dict) -> list[str]:
    return [e["node"]["name"] for e in data["products"]["edges"]]


async def test_search_finds_batik_in_names_and_descriptions(gql, world):
    await world.product_for(world.umkm, "Kemeja lengan panjang", description="Motif batik Suroboyo, kain katun")
    await world.product_for(world.umkm, "Snack box isi 5", price=20_000, category=world.snack, description="kue basah")
    data = await gql.ok(PRODUCTS, {"filter": {"search": "BATIK"}, "order": "PRICE_ASC"})
    assert set(names(data)) == {"Kemeja batik tulis", "Kain batik cap", "Kemeja lengan panjang"}


async def test_search_needs_every_word(gql, world):
    data = await gql.ok(PRODUCTS, {"filter": {"search": "batik tulis"}})
    assert names(data) == ["Kemeja batik tulis"]


async def test_filters_combine(gql, world):
    kel2 = await Kelurahan.filter(kecamatan_id=world.kecamatan2.id).first()
    far = await world.umkm_for(world.users["other_owner"], "Batik Jauh", kelurahan=kel2)
    await world.product_for(far, "Batik mahal", price=390_000)
    await world.product_for(far, "Batik murah", price=120_000, stock=0)
    await world.product_for(far, "Snack jauh", price=15_000, category=world.snack)

    async def q(f):
        return sorted(names(await gql.ok(PRODUCTS, {"filter": f})))

    k2 = gid("Kecamatan", world.kecamatan2.id)
    assert await q({"kecamatanId": k2}) == ["Batik mahal", "Batik murah", "Snack jauh"]
    assert await q({"kecamatanId": k2, "categoryId": gid("Category", world.batik.id)}) == ["Batik mahal", "Batik murah"]
    assert await q({"kecamatanId": k2, "minPrice": 100_000, "maxPrice": 200_000}) == ["Batik murah"]
    assert await q({"kecamatanId": k2, "inStock": True}) == ["Batik mahal", "Snack jauh"]
    assert await q({"umkmId": gid("Umkm", far.id), "search": "batik", "inStock": False}) == ["Batik murah"]


async def test_category_filter_includes_descendants(gql, world):
    from models.registry import Category

    tulis = await Category.create(name="Batik tulis", slug="batik-tulis", parent=world.batik)
    await world.product_for(world.umkm, "Kain tulis halus", category=tulis)
    data = await gql.ok(PRODUCTS, {"filter": {"categoryId": gid("Category", world.batik.id)}, "first": 50})
    assert "Kain tulis halus" in names(data)
    data = await gql.ok(PRODUCTS, {"filter": {"categoryId": gid("Category", tulis.id)}})
    assert names(data) == ["Kain tulis halus"]


async def test_serves_kecamatan_filter_counts_own_declared_and_city_wide(gql, world):
    kel2 = await Kelurahan.filter(kecamatan_id=world.kecamatan2.id).first()
    # world.umkm and world.other_umkm sit in kecamatan 1 and serve only it
    city = await world.umkm_for(world.users["other_owner"], "Keliling Kota", kelurahan=kel2)
    city.serves_city_wide = True
    await city.save()
    declared = await world.umkm_for(world.users["other_owner"], "Antar Tetangga")
    await UmkmServedKecamatan.create(umkm=declared, kecamatan=world.kecamatan2)
    await world.product_for(city, "Batik kota")
    await world.product_for(declared, "Batik tetangga")
    k2 = gid("Kecamatan", world.kecamatan2.id)
    data = await gql.ok(PRODUCTS, {"filter": {"servesKecamatanId": k2}})
    assert sorted(names(data)) == ["Batik kota", "Batik tetangga"]


@pytest.mark.parametrize("order", ["PRICE_ASC", "PRICE_DESC", "NEWEST"])
async def test_cursors_page_through_all_results_exactly_once(gql, world, order):
    # many equal prices, so the id tie-breaker matters
    for i in range(23):
        await world.product_for(world.umkm, f"Batik nomor {i:02d}", price=100_000 + (i % 4) * 10_000)
    expected = {p.name for p in await Product.filter(umkm__status="VERIFIED", active=True)}
    seen: list[str] = []
    prices: list[int] = []
    after = None
    for _ in range(20):
        data = await gql.ok(PRODUCTS, {"first": 4, "after": after, "order": order})
        seen += names(data)
        prices += [e["node"]["price"] for e in data["products"]["edges"]]
        if not data["products"]["pageInfo"]["hasNextPage"]:
            break
        after = data["products"]["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    if order == "PRICE_ASC":
        assert prices == sorted(prices)
    if order == "PRICE_DESC":
        assert prices == sorted(prices, reverse=True)


async def test_total_count_counts_every_page(gql, world):
    data = await gql.ok("{ products(first: 1) { totalCount edges { node { name } } } }")
    assert data["products"]["totalCount"] == 2
    assert len(data["products"]["edges"]) == 1


async def test_first_above_100_is_a_bad_user_input_error(gql, world):
    body = await gql("{ products(first: 500) { edges { node { id } } } }")
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "first" in body["errors"][0]["message"]


@pytest.mark.parametrize("n", [10, 50, 100])
async def test_products_page_with_umkm_kecamatan_and_category_costs_one_statement(gql, world, n):
    """One statement for any page size: the UMKM, its kecamatan and the category are joined into the page's query
    (the token lookup is not counted)."""
    batch = [
        Product(
            umkm_id=(world.umkm.id if i % 2 else world.other_umkm.id),
            category_id=world.batik.id,
            name=f"Batik {i}",
            unit="potong",
            price=100_000 + i,
            stock=5,
        )
        for i in range(n)
    ]
    await Product.bulk_create(batch)
    r = await gql.raw(PRODUCTS, {"first": n}, token=world.tokens["buyer"])
    body = r.json()
    assert "errors" not in body, body
    assert len(body["data"]["products"]["edges"]) == n
    assert body["extensions"]["sqlStatements"] == 1, body["extensions"]["sql"]
    # and exactly the same as for a page of 1
    one = (await gql.raw(PRODUCTS, {"first": 1}, token=world.tokens["buyer"])).json()
    assert one["extensions"]["sqlStatements"] == body["extensions"]["sqlStatements"]


NODE_WITH_RELATIONS = """
query($id: ID!, $umkm: ID!) {
  node(id: $id) { ... on Product { name umkm { name kecamatan { name } } category { name } } }
  seller: node(id: $umkm) { ... on Umkm { name kecamatan { name } } }
}"""


async def test_a_product_node_reads_its_relations_in_its_own_statement_and_a_umkm_node_loads_its_kecamatan(gql, world):
    """`node` of a product joins its UMKM, kecamatan and category; a UMKM read alone batch-loads its kecamatan."""
    r = await gql.raw(
        NODE_WITH_RELATIONS,
        {"id": gid("Product", world.product.id), "umkm": gid("Umkm", world.other_umkm.id)},
        token=world.tokens["buyer"],
    )
    body = r.json()
    assert "errors" not in body, body
    kecamatan = {"name": world.kecamatan.name}
    assert body["data"] == {
        "node": {
            "name": "Kemeja batik tulis",
            "umkm": {"name": "Batik Kenongo", "kecamatan": kecamatan},
            "category": {"name": "Batik"},
        },
        "seller": {"name": "Batik Lain", "kecamatan": kecamatan},
    }
    sql = body["extensions"]["sql"]
    assert len(sql) == 3, sql  # the product with its relations, the UMKM, the UMKM's kecamatan
    assert all(t in sql[0] for t in ('"umkm"', '"kecamatan"', '"category"')), sql[0]


async def test_the_newest_first_page_reads_an_index_instead_of_sorting_every_product(gql, world):
    """Migration 0007 indexes product (created_at, id); the default NEWEST page reads it backwards. SQLite's plan is
    checked; PostgreSQL plans tiny test tables with a sort, so there only the index itself is checked."""
    from tortoise import connections

    from tests.conftest import dialect

    db = connections.get("default")
    if dialect() == "postgres":
        rows = await db.execute_query_dict("SELECT indexdef FROM pg_indexes WHERE tablename = 'product'")
        assert any(r["indexdef"].endswith("(created_at, id)") for r in rows), rows
        return
    body = (await gql.raw(PRODUCTS, {"first": 50})).json()
    [page] = body["extensions"]["sql"]
    plan = " / ".join(
        r["detail"] for r in await db.execute_query_dict("EXPLAIN QUERY PLAN " + page, [1, "VERIFIED", 51])
    )
    assert "SCAN product USING INDEX" in plan and "ORDER BY" not in plan, plan
