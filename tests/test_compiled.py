"""Compiled reads (schema/compiled.py) answer exactly as the general executor: differential tests.

Every document is sent twice, to the suite's app (compiled reads on) and to a second app over the same database with
`compiled_reads=False`, by the same caller; the answers must have the same HTTP status and the same JSON, compared
in key order (errors, their order and paths included; `extensions` too: cost and statement count). Documents: the
benchmark's, the ones of the tests and docs that read `products`, hand-written edge cases (aliases, `__typename`,
every plain field, cursors and orders, refused arguments, personal fields, `totalCount`, fragments), and documents
generated from the schema (hypothesis-graphql, as tests/test_fuzz.py). Callers: anonymous, a partner key and every
role. The share of requests a plan answered is counted and must not be zero.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import itertools
import json
import os
import pathlib
import re

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from app import create_app
from bench.harness.scenarios import S1_PRODUCTS, S2_ORDER
from models.catalog import PRODUCT_LISTING, Product
from models.orders import ITEM_READ, ORDER_READ, Order, OrderItem
from models.query import PreparedRows
from models.registry import Category, UmkmServedKecamatan
from schema import compiled, schema
from tests.conftest import gid
from tests.test_fuzz import SCALARS

CALLERS = ("anonymous", "partner", "admin", "analyst", "buyer", "treasurer", "employee", "owner", "other_owner")
EXAMPLES = int(os.environ.get("PASAR_FUZZ_EXAMPLES") or 30)

EVERY_PLAIN_FIELD = """
query Every($first: Int, $after: String, $order: ProductOrder!) {
  products(first: $first, after: $after, orderBy: $order) {
    __typename
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
    edges {
      cursor
      node {
        __typename id name description unit price imageUrls options madeToOrder stock monthlyCapacity
        leadTimeDays minOrderQuantity active createdAt
        umkm { __typename id name nib description address servesCityWide scale scaleSource status verifiedAt createdAt
               kecamatan { id code name } }
        category { id name slug description }
      }
    }
  }
}
"""

DOCUMENTS = [
    # the benchmark's S1
    (S1_PRODUCTS, {"first": 2}),
    (S1_PRODUCTS, {"first": 50}),
    (S1_PRODUCTS, {}),
    # every plain field, each order, with and without a cursor (the cursor is filled in by the test)
    (EVERY_PLAIN_FIELD, {"first": 2, "order": "NEWEST"}),
    (EVERY_PLAIN_FIELD, {"first": 2, "order": "PRICE_ASC"}),
    (EVERY_PLAIN_FIELD, {"first": 1, "order": "PRICE_DESC"}),
    # aliases, two root fields, literals
    (
        "{ a: products(first: 1) { edges { node { id n: name } } } b: products(first: 3, orderBy: PRICE_ASC) "
        "{ pageInfo { endCursor } edges { cursor } } }",
        None,
    ),
    ("{ products { edges { node { name price } } } }", None),
    # refused per request: the general executor answers (first out of range, a forged cursor, bad variables)
    (S1_PRODUCTS, {"first": 0}),
    (S1_PRODUCTS, {"first": 101}),
    ("query($a: String) { products(first: 2, after: $a) { edges { cursor } } }", {"a": "bm90IGEgY3Vyc29y"}),
    ("query($a: String) { products(first: 2, after: $a) { edges { cursor } } }", {"a": "W1s1XV0="}),
    ("query($a: String) { products(first: 2, after: $a) { totalCount } }", {"a": "WzEsMiwzXQ=="}),  # [1,2,3]
    (S1_PRODUCTS, {"first": "many"}),
    # not compiled: personal fields, fragments, directives, another root field
    ("{ products(first: 3) { edges { node { umkm { name phone bankAccount ownerName } } } } }", None),
    ("{ products(first: 3) { totalCount edges { node { id } } } }", None),
    ("{ products(first: 1) { n: totalCount edges { node { id } } m: totalCount } }", None),
    ("{ products(first: 3) { edges { node { ...P } } } } fragment P on Product { id name }", None),
    ("query($x: Boolean!) { products(first: 3) { edges { node { id name @include(if: $x) } } } }", {"x": False}),
    ("{ products(first: 2) { edges { node { id } } } kecamatans { name } }", None),
    ("{ products(first: 2) { edges { node { umkm { kelurahan { name } } category { parent { name } } } } } }", None),
    # a validation error and a parse error
    ("{ products(first: 2) { edges { node { nope } } } }", None),
    ("{ products(first: 2) { edges { node { id } } }", None),
]


ORDER_DOCUMENTS = [
    # the benchmark's S2 (the id is filled in by the test)
    (S2_ORDER, None),
    (
        "query($id: ID!) { order(id: $id) { __typename id number kind status total neededBy deliveryAddress note source "
        "sourceRank createdAt acceptedAt shippedAt deliveredAt receivedBy paidAt closedReason daysToPay "
        "umkm { id name status } opd { id code name kind address active } } }",
        None,
    ),
    (
        "query($id: ID!) { o: order(id: $id) { number items { name option unit unitPrice quantity subtotal "
        "product { id name price active umkm { name } } } } }",
        None,
    ),
    ("query($id: ID!) { o: order(id: $id) { number items { name } } again: order(id: $id) { id } }", None),
    # not compiled, or answered by the general executor: an item's product's category (not joined), events,
    # payment, rating, a personal field of the seller, an ID of another type, an unknown order
    ("query($id: ID!) { order(id: $id) { items { product { category { name } } } } }", None),
    ("query($id: ID!) { order(id: $id) { events { toStatus } payment { amount } rating { score } } }", None),
    ("query($id: ID!) { order(id: $id) { umkm { phone } } }", None),
    ("query($id: ID!) { order(id: $id) { umkm { kecamatan { name } } } }", None),
    ('{ order(id: "UHJvZHVjdDox") { id } }', None),
    ('{ order(id: "T3JkZXI6OTk5OTk5") { id } }', None),
    ('{ order(id: "T3JkZXI6MA") { id } }', None),
]


def ordered(text: str) -> object:
    """JSON with its objects as lists of pairs: equal only with the same keys in the same order."""
    return json.loads(text, object_pairs_hook=list)


@pytest.fixture
async def general(settings):
    app = create_app(dataclasses.replace(settings, compiled_reads=False), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.fixture
async def more_products(world):
    """A few more products, some with equal prices (ties broken by id), so that pages and cursors matter."""
    for n, price in enumerate((90_000, 90_000, 125_000, 60_000, 300_000)):
        await world.product_for(world.umkm if n % 2 else world.other_umkm, f"Produk {n}", price, category=world.snack)
    return world


async def both(http, general, query: str, variables: dict | None, token: str | None) -> tuple:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables or {}}
    a = await http.post("/graphql", json=body, headers=headers)
    b = await general.post("/graphql", json=body, headers=headers)
    return a, b


def _headers(r: httpx.Response, but_length: bool = False) -> list[tuple[str, str]]:
    left_out = ("x-request-id", "content-length") if but_length else ("x-request-id",)
    return sorted((k, v) for k, v in r.headers.multi_items() if k not in left_out)


SQL_LIST = b',"sql":['  # `extensions.sql`, the last key of the answer (count_sql)


def _rows_chosen(statement: str) -> str:
    """What decides the rows a statement reads: its text from WHERE (or ORDER BY) on. A page written straight from
    the records (`compiled._direct_connection`) selects only the columns it writes, so its column and join lists
    may be shorter than the general path's (and without a join, its columns are not qualified by the table)."""
    at = min((i for i in (statement.find(" WHERE "), statement.find(" ORDER BY ")) if i >= 0), default=0)
    return re.sub(r'"[a-z]+(?:_[a-z]+)*"\.', "", statement[at:])  # without joins, columns are named bare


# An order with its items in one statement (`models.query.RowWithLines`): both statements the general path runs,
# whole, as subqueries of one.
JOINED = re.compile(
    r'SELECT .*? FROM \((SELECT .*)\) "h" LEFT OUTER JOIN \((SELECT .*)\) "l" ON 1=1 ORDER BY "l"\."id"'
)
COUNT = re.compile(rb'"sqlStatements":(\d+)$')


def _statements(sql: list[str]) -> list[list[str]]:
    """The statements, a joined one as the two it is made of (its lines' parameters numbered on from the head's), or
    as its head alone: where the head finds no row (an order the caller may not see), the general path reads no
    items."""
    choices = []
    for statement in sql:
        joined = JOINED.fullmatch(statement)
        choices.append([list(joined.groups()), [joined.group(1)]] if joined else [[statement]])
    return [
        [re.sub(r"\$\d+", "$", _rows_chosen(s)) for part in parts for s in part]
        for parts in itertools.product(*choices)
    ]


def same_body(a: bytes, b: bytes) -> bool:
    """The same bytes, but for the column lists of the statements in `extensions.sql`: up to that list byte for
    byte (data, errors, cost), then the same statements with the same WHERE .. LIMIT, where an order read with its
    items in one statement (`JOINED`) counts as the two statements it joins."""
    if a == b:
        return True
    head_a, sep_a, tail_a = a.partition(SQL_LIST)
    head_b, sep_b, tail_b = b.partition(SQL_LIST)
    if not (sep_a and sep_b) or COUNT.sub(b"", head_a) != COUNT.sub(b"", head_b):
        return False
    raw_a, raw_b = json.loads(b"[" + tail_a[:-2]), json.loads(b"[" + tail_b[:-2])
    for head, raw in ((head_a, raw_a), (head_b, raw_b)):
        counted = COUNT.search(head)
        if counted is None or int(counted.group(1)) != len(raw):
            return False
    return tail_a[-2:] == tail_b[-2:] == b"}}" and any(x in _statements(raw_b) for x in _statements(raw_a))


def assert_same(a: httpx.Response, b: httpx.Response, what: object) -> None:
    """The same status, the same headers (but the request id), the same bytes: the same JSON in the same key order,
    errors and `extensions` included (`same_body`: the statements' column lists may be shorter)."""
    assert a.status_code == b.status_code, (what, a.text, b.text)
    assert same_body(a.content, b.content), (what, a.text, b.text)
    length = a.content != b.content  # shorter column lists: another content-length
    assert _headers(a, length) == _headers(b, length), (what, _headers(a), _headers(b))


def _token(world, caller: str) -> str | None:
    return None if caller == "anonymous" else world.tokens[caller]


async def test_compiled_answers_equal_the_general_executor_for_every_caller(http, general, more_products):
    world = more_products
    before = compiled.plans.compiled
    sent = 0
    for caller in CALLERS:
        for query, variables in DOCUMENTS:
            a, b = await both(http, general, query, variables, _token(world, caller))
            assert_same(a, b, (caller, query, variables))
            sent += 1
            if query == EVERY_PLAIN_FIELD and a.status_code == 200:
                end = a.json()["data"]["products"]["pageInfo"]["endCursor"]
                if end:  # the next page, after the cursor the compiled answer gave
                    was = compiled.plans.compiled
                    a, b = await both(http, general, query, {**variables, "after": end}, _token(world, caller))
                    assert_same(a, b, (caller, query, "next page"))
                    sent += 1
                    assert compiled.plans.compiled == was + 1, (caller, variables)  # a page after a cursor too
    share = (compiled.plans.compiled - before) / sent
    print(f"products: {compiled.plans.compiled - before} of {sent} requests answered by a plan ({share:.0%})")
    assert share > 0.3, share  # the compiled documents are most of the list, for every kind but owners


FILTERED = """
query Filtered($f: ProductFilter, $first: Int, $after: String, $order: ProductOrder!) {
  products(filter: $f, first: $first, after: $after, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name price stock madeToOrder umkm { name kecamatan { name } } category { slug } } }
  }
}
"""


def _filters(world, child) -> list[dict | None]:
    """Every filter of `products` alone and in combinations, and filters the general path refuses."""
    k1, k2 = gid("Kecamatan", world.kecamatan.id), gid("Kecamatan", world.kecamatan2.id)
    return [
        None,
        {},
        {"search": "batik"},
        {"search": "  BATIK   tulis "},
        {"search": "50%_x"},  # LIKE's own characters, escaped as the general path escapes them
        {"search": "a b c d e f g h i j"},  # more than eight words: the first eight
        {"categoryId": gid("Category", world.batik.id)},  # with a child category
        {"categoryId": gid("Category", world.snack.id)},
        {"categoryId": gid("Category", child.id), "search": "selendang"},
        {"categoryId": gid("Category", 999_999)},  # unknown: nothing
        {"umkmId": gid("Umkm", world.umkm.id)},
        {"umkmId": gid("Umkm", world.suspended_umkm.id)},
        {"kecamatanId": k1},
        {"kecamatanId": k2},
        {"servesKecamatanId": k2},
        {"servesKecamatanId": k1, "kecamatanId": k2},
        {"minPrice": 90_000},
        {"maxPrice": 125_000},
        {"minPrice": 90_000, "maxPrice": 200_000, "inStock": True},
        {"inStock": False},
        {"inStock": True, "search": "produk", "categoryId": gid("Category", world.snack.id), "minPrice": 1},
        # refused by the general path: answered by it
        {"umkmId": gid("Product", world.product.id)},
        {"categoryId": "not an id"},
        {"search": "x" * 1000},
        {"minPrice": -5},
    ]


async def test_filtered_products_answer_the_same_compiled_for_every_caller(http, general, more_products):
    """`products(filter:)` with every filter, alone and together, each order, and the page after the first, as
    every caller; most are answered by a plan (owners and refused filters by the general executor)."""
    world = more_products
    child = await Category.create(name="Selendang", slug="selendang", parent=world.batik)
    await world.product_for(world.other_umkm, "Selendang sutra", 110_000, category=child)
    await world.product_for(world.umkm, "Pesanan 50%_x", 90_000, category=world.snack, stock=0, made_to_order=True)
    await world.product_for(world.other_umkm, "Habis", 80_000, stock=0)
    await UmkmServedKecamatan.create(umkm=world.other_umkm, kecamatan=world.kecamatan2)
    before, sent = compiled.plans.compiled, 0
    for caller in CALLERS:
        for n, f in enumerate(_filters(world, child)):
            order = ("NEWEST", "PRICE_ASC", "PRICE_DESC")[n % 3]
            variables = {"f": f, "first": 2, "order": order}
            a, b = await both(http, general, FILTERED, variables, _token(world, caller))
            assert_same(a, b, (caller, f, order))
            sent += 1
            end = a.json().get("data") and a.json()["data"]["products"]["pageInfo"]["endCursor"]
            if end:
                a, b = await both(http, general, FILTERED, {**variables, "after": end}, _token(world, caller))
                assert_same(a, b, (caller, f, order, "next page"))
                sent += 1
    literal = (
        '{ products(first: 5, orderBy: PRICE_ASC, filter: { search: "batik", minPrice: 100000, inStock: true }) '
        "{ edges { node { name price } } } }"
    )
    for caller in CALLERS:
        a, b = await both(http, general, literal, None, _token(world, caller))
        assert_same(a, b, (caller, literal))
        sent += 1
    share = (compiled.plans.compiled - before) / sent
    print(f"products(filter:): {compiled.plans.compiled - before} of {sent} requests answered by a plan ({share:.0%})")
    assert share > 0.6, share  # all but owners' and the refused filters
    shapes = [
        statement
        for plan in compiled.plans._plans.values()
        if isinstance(plan, compiled.Plan)
        for root in plan.roots
        if isinstance(root, compiled.ProductsField)
        for statement in root.statements.values()
    ]
    assert len(shapes) > 20 and compiled.NOT_PREPARED not in shapes  # every filter's statement was prepared


def _listings(world, order_id: str) -> list[tuple[str, dict | None]]:
    """The other hot lists, answered by their own resolvers inside a plan: `umkms`, `orders`, `omzetReports`,
    `underSoldUmkm`'s page and `opds`, with their filters, pages after a cursor and refused arguments."""
    k1, umkm = gid("Kecamatan", world.kecamatan.id), gid("Umkm", world.umkm.id)
    umkms = (
        "query($f: UmkmFilter, $first: Int, $after: String) { umkms(filter: $f, first: $first, after: $after) { "
        "totalCount pageInfo { hasNextPage endCursor } edges { cursor node { __typename id name nib description "
        "address servesCityWide scale scaleSource status verifiedAt createdAt } } } }"
    )
    orders = (
        "query($f: OrderFilter, $first: Int, $after: String) { orders(filter: $f, first: $first, after: $after) { "
        "totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id number kind status "
        "total neededBy createdAt umkm { id name } opd { code name } } } } }"
    )
    reports = (
        "query($f: OmzetReportFilter, $first: Int) { omzetReports(filter: $f, first: $first) { totalCount "
        "edges { node { id period platformAmount otherOnlineAmount offlineAmount totalAmount workers note late "
        "revisionCount firstSubmittedAt updatedAt } } pageInfo { hasNextPage } } }"
    )
    under_sold = (
        "query($c: ID!, $first: Int, $after: String) { underSoldUmkm(categoryId: $c, first: $first, after: $after) "
        "{ totalCount eligibleCount medianPrice policyVersion pageInfo { hasNextPage endCursor } edges { cursor rank "
        "reasons recommended umkm { id name } cheapestEligibleProduct { id name price } score { deficit targetShare "
        "receivedShare received activeFraction need omzetUsed omzetSource bucket rotationKey policyVersion } } } }"
    )
    return [
        (umkms, {"first": 2}),
        (umkms, {"f": {"search": "batik"}, "first": 1}),
        (umkms, {"f": {"kecamatanId": k1, "status": "VERIFIED"}}),
        (umkms, {"f": {"status": "SUSPENDED"}}),
        (umkms, {"f": {"categoryId": gid("Category", world.batik.id)}}),
        (umkms, {"first": 500}),  # refused
        (orders, {"first": 2}),
        (orders, {"f": {"umkmId": umkm, "status": "SUBMITTED"}}),
        (orders, {"f": {"createdFrom": "2020-01-01", "kind": "OPD"}}),
        (orders, {"f": {"opdId": umkm}}),  # an ID of another type: refused
        (reports, None),
        (reports, {"f": {"umkmId": umkm, "periodFrom": "2020-01"}, "first": 3}),
        (reports, {"f": {"periodFrom": "not a month"}}),  # refused
        (under_sold, {"c": gid("Category", world.batik.id), "first": 2}),
        (under_sold, {"c": gid("Category", world.snack.id)}),
        (under_sold, {"c": gid("Umkm", 1)}),  # refused
        ("{ opds { totalCount edges { node { id code name kind address active } } } }", None),
        ("{ opds(first: 1) { pageInfo { endCursor } edges { cursor node { code } } } }", None),
        # not compiled: a nested field with a resolver
        ("{ opds { edges { node { kecamatan { name } } } } }", None),
    ]


async def test_other_lists_answer_the_same_compiled_for_every_caller(http, general, gql, more_products):
    world = more_products
    order_id = await _place(gql, world, world.product)
    for category in (world.batik, world.snack):  # today's lists built once, before the comparison
        await general.post(
            "/graphql",
            json={
                "query": "query($c: ID!) { underSoldUmkm(categoryId: $c) { totalCount } }",
                "variables": {"c": gid("Category", category.id)},
            },
            headers={"authorization": f"Bearer {world.tokens['admin']}"},
        )
    before, sent = compiled.plans.compiled, 0
    for caller in CALLERS:
        for query, variables in _listings(world, order_id):
            a, b = await both(http, general, query, variables, _token(world, caller))
            assert_same(a, b, (caller, query, variables))
            sent += 1
            body = a.json()
            page = next(iter((body.get("data") or {}).values()), None)
            end = (page or {}).get("pageInfo", {}).get("endCursor")
            if end and "$after" in query:
                a, b = await both(http, general, query, {**(variables or {}), "after": end}, _token(world, caller))
                assert_same(a, b, (caller, query, "next page"))
                sent += 1
    share = (compiled.plans.compiled - before) / sent
    print(f"other lists: {compiled.plans.compiled - before} of {sent} requests answered by a plan ({share:.0%})")
    assert share > 0.5, share


UNDER_SOLD_ROWS = (
    "query($c: ID!, $o: ID, $q: Int, $first: Int, $after: String) { underSoldUmkm(categoryId: $c, opdId: $o, "
    "quantity: $q, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor rank "
    "reasons defaultChoice umkm { __typename id name nib servesCityWide verifiedAt createdAt } "
    "cheapestEligibleProduct { id name price stock madeToOrder createdAt } } } }"
)


async def test_the_lists_rows_are_written_from_records_and_answer_the_same(http, general, more_products, monkeypatch):
    """`underSoldUmkm` whose rows' UMKM and products have a direct form (`compiled.UnderSoldField`): read by their
    own statements, written straight from the records; the same answer, statements and cost as the general path's
    for every caller, with the buyer's filters, a quantity and the next page; a selection without a direct form is
    answered by the field's resolver; a deliberate difference in the written rows is caught."""
    world = more_products
    await world.product_for(world.umkm, "Batik tulis", 180_000)
    c, opd = gid("Category", world.batik.id), gid("Opd", world.opd.id)
    variants = [{"c": c, "first": 1}, {"c": c, "o": opd, "q": 2}, {"c": gid("Category", world.snack.id)}, {"c": c}]
    for variables in variants[1:3]:  # today's lists built once, before the comparison
        await both(http, general, UNDER_SOLD_ROWS, variables, _token(world, "admin"))
    before, sent = compiled.plans.compiled, 0
    compiled._list_statements.clear()
    for caller in CALLERS:
        for variables in variants:
            a, b = await both(http, general, UNDER_SOLD_ROWS, variables, _token(world, caller))
            assert_same(a, b, (caller, variables))
            sent += 1
            end = ((a.json().get("data") or {}).get("underSoldUmkm") or {}).get("pageInfo", {}).get("endCursor")
            if end and variables.get("first") == 1:
                a, b = await both(http, general, UNDER_SOLD_ROWS, {**variables, "after": end}, _token(world, caller))
                assert_same(a, b, (caller, "next page"))
                sent += 1
    assert compiled.plans.compiled - before >= sent - 2 * len(variants)  # all but the anonymous (refused)
    root = compiled.plans.get(SCHEMA, graphql.parse(UNDER_SOLD_ROWS), None).roots[0]
    assert isinstance(root, compiled.UnderSoldField) and root.rows["umkm"] and root.rows["cheapestEligibleProduct"]
    assert {table for table, _columns, _length in compiled._list_statements} == {"Umkm", "Product"}
    assert len(compiled._list_statements) <= compiled.MAX_LIST_STATEMENTS
    # the UMKM's kecamatan has no direct form: the resolver's objects write the rows
    doc = "query($c: ID!) { underSoldUmkm(categoryId: $c) { edges { umkm { kecamatan { name } } } } }"
    a, b = await both(http, general, doc, {"c": c}, _token(world, "admin"))
    assert_same(a, b, "kecamatan")
    plan = compiled.plans.get(SCHEMA, graphql.parse(doc), None)
    assert type(plan.roots[0]) is compiled.ResolverField
    # a writer that writes another name is told apart, on the general path's answer and on the fast path's
    monkeypatch.setitem(compiled.DIRECT_FIELDS["Umkm"], "name", ("col", "address"))
    compiled.plans.clear()
    for _ in range(2):
        a, b = await both(http, general, UNDER_SOLD_ROWS, {"c": c}, _token(world, "admin"))
        with pytest.raises(AssertionError):
            assert_same(a, b, "another column")


async def _place(gql, world, *products) -> str:
    doc = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orders { id } errors { code message } } }"
    needed = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    items = [{"productId": gid("Product", p.id), "quantity": 2} for p in products]
    data = await gql.ok(
        doc, {"input": {"items": items, "neededBy": needed, "deliveryAddress": "Jl. Jimerto 25"}}, world.tokens["buyer"]
    )
    assert not data["placeOrder"]["errors"], data
    return data["placeOrder"]["orders"][0]["id"]


async def test_an_order_answers_the_same_compiled_for_every_caller(http, general, gql, more_products):
    """`order(id)` of an OPD order with two lines, as every caller: buyer and treasurer of its OPD, an employee and
    the analyst, admins, owners of its seller and of another, anonymous and a partner key (null for those)."""
    world = more_products
    second = await world.product_for(world.umkm, "Selendang batik", 95_000)
    order_id = await _place(gql, world, world.product, second)
    before, sent = compiled.plans.compiled, 0
    for caller in CALLERS:
        for query, _ in ORDER_DOCUMENTS:
            a, b = await both(http, general, query, {"id": order_id}, _token(world, caller))
            assert_same(a, b, (caller, query))
            sent += 1
    share = (compiled.plans.compiled - before) / sent
    print(f"order(id): {compiled.plans.compiled - before} of {sent} requests answered by a plan ({share:.0%})")
    assert share > 0.2, share


TABLE_DOCUMENTS = [
    "{ kecamatans { __typename id code name } }",
    "{ categories { id name slug description } }",
    "{ k: kecamatans { name } categories { slug } products(first: 2) { edges { node { name } } } }",
    "{ kecamatans { name kelurahans { name } } }",  # batch-loaded by their resolvers inside the plan
    "{ categories { name parent { name } children { name } } }",
]


async def test_reference_tables_answer_the_same_compiled_for_every_caller(http, general, more_products):
    world = more_products
    before, sent = compiled.plans.compiled, 0
    for caller in CALLERS:
        for query in TABLE_DOCUMENTS:
            a, b = await both(http, general, query, None, _token(world, caller))
            assert_same(a, b, (caller, query))
            sent += 1
    print(f"tables: {compiled.plans.compiled - before} of {sent} requests answered by a plan")
    assert compiled.plans.compiled - before >= 2 * len(CALLERS)


async def test_owners_see_their_own_rows_compiled(http, general, gql, more_products):
    """An owner also sees his own inactive products and his UMKM's orders: a plan of its own per number of UMKM
    owned, his UMKM's IDs bound per request (the other owner, with three UMKM, gets neither)."""
    world = more_products
    await world.product_for(world.umkm, "Arsip", 10_000, active=False)
    order_id = await _place(gql, world, world.product)
    before = compiled.plans.compiled
    for caller, sees in (("owner", True), ("other_owner", False), ("buyer", False), ("owner", True)):
        a, b = await both(http, general, S1_PRODUCTS, {"first": 50}, world.tokens[caller])
        assert_same(a, b, caller)
        assert ("Arsip" in a.text) is sees, caller
        a, b = await both(
            http, general, "query($id: ID!) { order(id: $id) { number } }", {"id": order_id}, world.tokens[caller]
        )
        assert_same(a, b, caller)
        assert (a.json()["data"]["order"] is not None) is (caller in ("owner", "buyer")), caller
    assert compiled.plans.compiled == before + 8


async def test_one_document_alternating_callers_keeps_each_callers_rows(http, general, more_products):
    """The same document text from an admin (sees the suspended UMKM's product), the public and back: the plan of one
    kind of caller is never used for another."""
    world = more_products
    seen = {}
    for caller in ("admin", "anonymous", "analyst", "partner", "admin", "buyer", "anonymous", "admin"):
        a, b = await both(http, general, S1_PRODUCTS, {"first": 50}, _token(world, caller))
        assert_same(a, b, caller)
        seen[caller] = "Batik suspended" in a.text
    assert seen == {
        "admin": True,
        "analyst": True,
        "anonymous": False,
        "partner": False,
        "buyer": False,
    }


async def test_a_deliberate_difference_is_caught(http, general, more_products, monkeypatch):
    """The comparison is not blind: a compiled writer that drops the last edge is told apart."""
    original = compiled.connection_of

    def one_short(rows, *args):
        return original(rows[:-1], *args)

    monkeypatch.setattr(compiled, "connection_of", one_short)
    compiled.plans.clear()
    # `totalCount`: written through the objects (`connection_of`)
    a, b = await both(http, general, "{ products(first: 50) { totalCount edges { node { id } } } }", None, None)
    with pytest.raises(AssertionError):
        assert_same(a, b, "one short")
    # S1: written straight from the records (`_direct_connection`), whose cursors are made one off here
    monkeypatch.setattr(compiled, "encode_cursor", lambda values: "x")
    for _ in range(2):  # the general path's answer, then the fast path's
        a, b = await both(http, general, S1_PRODUCTS, {"first": 50}, None)
        with pytest.raises(AssertionError):
            assert_same(a, b, "another cursor")


async def test_compiled_reads_can_be_turned_off(general, more_products):
    before = compiled.plans.compiled
    r = await general.post("/graphql", json={"query": S1_PRODUCTS, "variables": {"first": 5}})
    assert r.status_code == 200 and len(r.json()["data"]["products"]["edges"]) == 5
    assert compiled.plans.compiled == before


FUZZ = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SCHEMA: graphql.GraphQLSchema = schema._schema


@FUZZ
@given(data=st.data())
async def test_generated_products_documents_answer_the_same_on_both_paths(http, general, world, data):
    doc = data.draw(from_schema(SCHEMA, fields=["products"], custom_scalars=SCALARS), label="document")
    caller = data.draw(st.sampled_from(CALLERS), label="caller")
    before = compiled.plans.compiled
    a, b = await both(http, general, str(doc), None, _token(world, caller))
    assert_same(a, b, (caller, str(doc)))
    FROM_SCHEMA["sent"] += 1
    FROM_SCHEMA["compiled"] += compiled.plans.compiled - before


def _selection(type_: graphql.GraphQLOutputType, depth: int) -> st.SearchStrategy[str]:
    """A selection set over the fields without arguments of `type_`, `depth` objects deep: any such field, plain,
    permission-guarded or batch-loaded, aliased at times, with `__typename` now and then."""
    named = graphql.get_named_type(type_)
    names = [*sorted(n for n, f in named.fields.items() if not f.args), "__typename"]

    def field(name: str) -> st.SearchStrategy[str]:
        if name == "__typename":
            return st.just(name)
        inner = graphql.get_named_type(named.fields[name].type)
        if graphql.is_leaf_type(inner):
            return st.sampled_from((name, f"x_{name}: {name}"))
        if depth == 0 or not isinstance(inner, graphql.GraphQLObjectType):
            return st.just("__typename")
        return _selection(inner, depth - 1).map(lambda sel: f"{name} {sel}")

    chosen = st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True)
    return chosen.flatmap(lambda ns: st.tuples(*[field(n) for n in ns])).map(
        lambda parts: "{ " + " ".join(parts) + " }"
    )


def _root(name: str) -> graphql.GraphQLOutputType:
    return SCHEMA.query_type.fields[name].type


GENERATED_DOCUMENTS = st.one_of(
    st.tuples(
        st.integers(1, 6), st.sampled_from(("NEWEST", "PRICE_ASC", "PRICE_DESC")), _selection(_root("products"), 4)
    ).map(lambda t: f"{{ products(first: {t[0]}, orderBy: {t[1]}) {t[2]} }}"),
    _selection(_root("order"), 3).map(lambda sel: f"query($id: ID!) {{ order(id: $id) {sel} }}"),
    *[
        st.tuples(st.integers(1, 4), _selection(_root(name), 3)).map(
            lambda t, name=name: f"{{ {name}(first: {t[0]}) {t[1]} }}"
        )
        for name in ("umkms", "orders", "omzetReports", "opds")
    ],
    _selection(_root("underSoldUmkm"), 3).map(
        lambda sel: f"query($c: ID!) {{ underSoldUmkm(categoryId: $c, first: 3) {sel} }}"
    ),
    _selection(_root("kecamatans"), 2).map(lambda sel: f"{{ kecamatans {sel} }}"),
    _selection(_root("categories"), 2).map(lambda sel: f"{{ categories {sel} }}"),
)


@FUZZ
@given(data=st.data())
async def test_generated_documents_over_the_compiled_types_answer_the_same(http, general, gql, world, data):
    """Selections generated from the schema's types under `products` and `order(id)` (hypothesis), for every
    caller: the same answer from both paths, compiled or fallen back."""
    doc = data.draw(GENERATED_DOCUMENTS, label="document")
    caller = data.draw(st.sampled_from(CALLERS), label="caller")
    variables = None
    if "order(id" in doc or "orders(" in doc:
        if not ORDER_IDS.get(id(world)):
            second = await world.product_for(world.umkm, "Selendang batik", 95_000)
            ORDER_IDS[id(world)] = await _place(gql, world, world.product, second)
        variables = {"id": ORDER_IDS[id(world)]} if "order(id" in doc else None
    if "underSoldUmkm" in doc:
        variables = {"c": gid("Category", world.batik.id)}
        if not ORDER_IDS.get(("list", id(world))):  # today's list built once, before the comparison
            await general.post(
                "/graphql",
                json={
                    "query": "query($c: ID!) { underSoldUmkm(categoryId: $c) { totalCount } }",
                    "variables": variables,
                },
                headers={"authorization": f"Bearer {world.tokens['admin']}"},
            )
            ORDER_IDS[("list", id(world))] = "built"
    try:
        compiled.compile_document(SCHEMA, graphql.parse(doc), None)
        GENERATED["planned"] += 1
    except compiled.NotCompiled:
        pass
    before = compiled.plans.compiled
    a, b = await both(http, general, doc, variables, _token(world, caller))
    assert_same(a, b, (caller, doc))
    GENERATED["sent"] += 1
    GENERATED["compiled"] += compiled.plans.compiled - before


ORDER_IDS: dict = {}
GENERATED = {"sent": 0, "planned": 0, "compiled": 0}  # our generator's documents: with a plan, answered by one
FROM_SCHEMA = {"sent": 0, "compiled": 0}  # hypothesis-graphql's (arguments of every kind: most are refused)


def test_zz_report_the_share_of_generated_documents_compiled():
    """At least 90% of the documents generated over the compiled types have a plan; how many requests a plan
    answered (callers the root's or a field's permission classes refuse are answered by the general executor) is
    printed with -s."""
    g, f = GENERATED, FROM_SCHEMA
    if g["sent"]:
        print(
            f"generated over the compiled types: {g['planned']} of {g['sent']} documents have a plan, "
            f"{g['compiled']} requests answered by one; hypothesis-graphql: {f['compiled']} of {f['sent']}"
        )
    if g["sent"] >= 20:
        assert g["planned"] >= 0.9 * g["sent"], g


def _documents_in_the_repository() -> list[tuple[str, str]]:
    """Every GraphQL document of the test suite (string literals that parse), the benchmark's scenarios, and the
    `graphql` blocks of README.md and docs/."""
    root = pathlib.Path(__file__).resolve().parent.parent
    found = []
    for path in [*sorted((root / "tests").glob("*.py")), root / "bench" / "harness" / "scenarios.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "{" in node.value:
                found.append((path.name, node.value))
    for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        found += [(path.name, m.group(1)) for m in re.finditer(r"```graphql\n(.*?)```", path.read_text(), re.S)]
    return found


# What the compiler leaves to the general executor whatever the types: several root fields of which one reads
# nested rows (graphql-core runs them side by side), and @include/@skip.
CONSTRUCTS = ("several root fields and a nested read", "a directive")


def test_every_query_of_the_suite_and_docs_over_compiled_roots_has_a_plan():
    """A query document of the repository whose root fields are all compiled roots has a plan, unless it uses a
    construct the compiler leaves to the general executor (`CONSTRUCTS`)."""
    checked, missing = 0, []
    for where, text in _documents_in_the_repository():
        try:
            document = graphql.parse(text)
        except graphql.GraphQLError:
            continue
        if graphql.validate(SCHEMA, document):
            continue
        for op in document.definitions:
            if not isinstance(op, graphql.OperationDefinitionNode) or op.operation != graphql.OperationType.QUERY:
                continue
            roots = [n.name.value for n in op.selection_set.selections if isinstance(n, graphql.FieldNode)]
            if not roots or any(name not in compiled.ROOTS for name in roots):
                continue
            checked += 1
            try:
                compiled.compile_document(SCHEMA, document, op.name.value if op.name else None)
            except compiled.NotCompiled as e:
                if str(e) not in CONSTRUCTS:
                    missing.append((where, str(e), text[:120]))
    print(f"documents of the repository over compiled roots: {checked}, without a plan: {len(missing)}")
    assert checked > 100 and not missing, missing


async def test_direct_fields_equal_what_from_row_makes(gql, more_products):
    """Every entry of `compiled.DIRECT_FIELDS` (how a direct writer reads a field from a statement's record) gives what
    `X.from_row` gives the Strawberry object, on every product of the test database with its UMKM, kecamatan and
    category (the relations as a products page joins them), and on an order with its UMKM and OPD and its items with
    their products and the products' UMKM (as `order(id)` reads them)."""
    world = more_products
    await world.product_for(world.umkm, "Arsip", 10_000, active=False)
    await _place(gql, world, world.product)
    reads = [
        (
            Product,
            PRODUCT_LISTING,
            compiled.Product.from_row,
            {"": "Product", "umkm": "Umkm", "umkm__kecamatan": "Kecamatan", "category": "Category"},
        ),
        (Order, ORDER_READ, compiled.Order.from_row, {"": "Order", "umkm": "Umkm", "opd": "Opd"}),
        (
            OrderItem,
            ITEM_READ,
            compiled.OrderItem.from_row,
            {"": "OrderItem", "product": "Product", "product__umkm": "Umkm"},
        ),
    ]
    checked = set()
    for model, joins, from_row, types in reads:
        statement = PreparedRows(model.all().order_by("id"), joins, {})
        rows, records = await statement.run({}), await statement.records({})
        assert len(rows) == len(records) > 0
        at = {name: i for i, name in enumerate(records[0].keys())}
        conv = statement.converters
        for row, record in zip(rows, records, strict=True):
            for path, type_name in types.items():
                obj = from_row(row)
                for part in filter(None, path.split("__")):
                    obj = getattr(obj, part if part == "product" else f"_{part}", None) or getattr(obj, part)
                prefix = f"{path}__" if path else ""
                for python_name, how in compiled.DIRECT_FIELDS[type_name].items():
                    column = prefix + ("id" if how[0] == "gid" else how[1])
                    raw = record[at[column]]
                    value = conv[column](raw) if column in conv else raw
                    assert compiled.direct_value(how, value) == getattr(obj, python_name), (type_name, python_name)
                    checked.add((type_name, python_name))
    assert checked == {(t, f) for t, fields in compiled.DIRECT_FIELDS.items() for f in fields}
