"""Each input that once reached the database unbounded and came back as a masked INTERNAL_SERVER_ERROR, sent again:
now a BAD_USER_INPUT (or a payload error) that names the field, on both engines."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from tortoise.exceptions import IntegrityError

from models.accounts import User
from models.registry import Umkm
from resolvers import registry as registry_rules
from tests.conftest import error_codes, gid
from tests.test_orders import PLACE, basket
from tests.test_validation import REGISTER, sign_up


def cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def refused(body: dict, code: str = "BAD_USER_INPUT") -> str:
    """The one error's message, after checking it is the caller's error and not a masked crash."""
    codes = error_codes(body)
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    assert codes and set(codes) <= {code, "GRAPHQL_VALIDATION_FAILED"}, body
    return body["errors"][0]["message"]


LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token errors { field code } } }"


async def test_a_login_email_longer_than_any_address_is_a_wrong_login(gql):
    body = await gql(LOGIN, {"e": "a" * 300 + "@contoh.id", "p": "rahasia-123"})
    assert body["data"]["login"]["errors"] == [{"field": "email", "code": "INVALID_CREDENTIALS"}]
    body = await gql(LOGIN, {"e": "a@contoh.id", "p": "x" * 5_000})
    assert body["data"]["login"]["errors"] == [{"field": "email", "code": "INVALID_CREDENTIALS"}]


@pytest.mark.parametrize("pk", [0, -1, 2**31, 2**63, 2**70])
async def test_an_id_outside_the_id_range_names_nothing(gql, world, pk):
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Umkm", pk)}, world.tokens["admin"])
    assert body["data"] == {"node": None} and "errors" not in body, body
    assert body["extensions"]["sqlStatements"] == 0  # decided before the database
    body = await gql("query($id: ID!) { order(id: $id) { id } }", {"id": gid("Order", pk)}, world.tokens["admin"])
    assert "INTERNAL_SERVER_ERROR" not in error_codes(body), body
    q = "query($c: ID!) { underSoldUmkm(categoryId: $c) { totalCount } }"
    assert (
        refused(await gql(q, {"c": gid("Category", pk)}, world.tokens["buyer"])) == "This is not the ID of a Category."
    )


@pytest.mark.parametrize(
    "doc",
    [
        'query { orders(filter: {createdTo: "9999-12-31"}) { totalCount } }',
        'query($c: ID!) { equityReport(categoryId: $c, periodFrom: "2026-01-01", periodTo: "9999-12-31") { gini } }',
        'query($c: ID!) { umkmSalesRanking(categoryId: $c, periodFrom: "0001-01-01", periodTo: "2026-01-01") { totalCount } }',
        'query($c: ID!) { underSoldUmkm(categoryId: $c, asOf: "3000-01-01") { totalCount } }',
    ],
)
async def test_dates_far_outside_2000_to_2100_are_refused(gql, world, doc):
    variables = {"c": gid("Category", world.batik.id)} if "$c" in doc else {}
    message = refused(await gql(doc, variables, world.tokens["admin"]))
    assert "2000-01-01" in message and "2100-12-31" in message


async def test_a_month_outside_2000_to_2100_is_refused(gql, world):
    body = await gql('query { omzetCompliance(period: "0000-01") { onTime } }', None, world.tokens["analyst"])
    assert "2000-01" in refused(body)


async def test_a_search_longer_than_a_search_is_refused(gql, world):
    q = "query($s: String!) { products(filter: {search: $s}) { totalCount } umkms(filter: {search: $s}) { totalCount } }"
    assert "200 characters" in refused(await gql(q, {"s": "kue " * 1_250}))
    assert "20,000 characters" in refused(await gql(q, {"s": "kue " * 12_500}))  # 50,000: the ceiling for any text


@pytest.mark.parametrize("values", [[2**70, 1], [-5, 1], ["x", 1], [1, 2, 3]])
async def test_forged_cursors_are_refused(gql, world, values):
    after = cursor(values)
    if values[0] != -5:  # a negative price is a fine place to start a price-ordered page
        q = "query($a: String!) { products(first: 2, after: $a, orderBy: PRICE_ASC) { totalCount } }"
        assert "cursor" in refused(await gql(q, {"a": after}))
    q = "query($c: ID!, $a: String!) { underSoldUmkm(categoryId: $c, after: $a) { totalCount } }"
    body = await gql(q, {"c": gid("Category", world.batik.id), "a": after}, world.tokens["buyer"])
    assert "cursor" in refused(body)


async def test_a_negative_sales_ranking_cursor_gives_no_negative_rank(gql, world):
    q = """query($c: ID!, $a: String!) { umkmSalesRanking(categoryId: $c, periodFrom: "2026-01-01",
           periodTo: "2026-12-31", after: $a) { edges { rank } } }"""
    body = await gql(q, {"c": gid("Category", world.batik.id), "a": cursor([-5])}, world.tokens["analyst"])
    assert "cursor" in refused(body)


@pytest.mark.parametrize("where", ["variables", "literal"])
async def test_a_nul_character_is_refused_before_the_database(gql, world, where):
    before = await Umkm.all().count()
    values = sign_up(world, name="Kue\x00Barokah")
    if where == "variables":
        body = await gql(REGISTER, {"i": values})
        assert "variables.i.name" in refused(body)
    else:
        q = 'query { products(filter: {search: "kue\\u0000"}) { totalCount } }'
        assert "NUL" in refused(await gql(q))
    assert await Umkm.all().count() == before


async def test_concurrent_sign_ups_with_one_nib_or_one_email_get_their_payload_errors(gql_from, world):
    async def attempt(i: int, same: str) -> dict:
        over = {"nib": f"81200012345{i:02d}", "email": "sama@contoh.id"} if same == "email" else {}
        if same == "nib":
            over = {"nib": "8120001234567", "email": f"orang{i}@contoh.id"}
        # each from its own address: sign-ups per address are limited (tests/test_throttle.py)
        return await gql_from(f"10.1.{len(same)}.{i}")(REGISTER, {"i": sign_up(world, **over)})

    for same, code in (("nib", "DUPLICATE_NIB"), ("email", "DUPLICATE_EMAIL")):
        bodies = await asyncio.gather(*(attempt(i, same) for i in range(10)))
        assert all("errors" not in b for b in bodies), bodies
        payloads = [b["data"]["registerUmkm"] for b in bodies]
        won = [p for p in payloads if p["umkm"] is not None]
        lost = [p for p in payloads if p["umkm"] is None]
        assert len(won) == 1, payloads
        assert {e["code"] for p in lost for e in p["errors"]} == {code}, payloads
    assert await User.filter(email="sama@contoh.id").count() == 1


async def test_messages_are_plain_words_and_the_path_is_in_field(gql, world):
    body = await gql(PLACE, basket((world.product, 0, None)), world.tokens["buyer"])
    (err,) = body["data"]["placeOrder"]["errors"]
    assert err["field"] == "items.0.quantity" and err["code"] == "TOO_SMALL"
    assert err["message"] == "Quantity (line 1) must be at least 1."
    q = "mutation($i: UpdateProductInput!) { updateProduct(input: $i) { errors { field code message } } }"
    body = await gql(q, {"i": {"id": gid("Umkm", world.umkm.id), "price": 1}}, world.tokens["owner"])
    (err,) = body["data"]["updateProduct"]["errors"]
    assert err["field"] == "id" and err["message"] == "ID: this is not the ID of a Product."


async def test_other_unique_key_races_are_payload_errors_not_crashes(gql, world):
    """Ten admins creating the same category, ten OPDs with one code: one is created, the others are told why
    (DUPLICATE_SLUG / DUPLICATE_CODE, or CONFLICT when the unique index caught the race), never a masked error."""
    admin = world.tokens["admin"]
    cat = "mutation($i: CreateCategoryInput!) { createCategory(input: $i) { category { id } errors { code } } }"
    opd = "mutation($i: CreateOpdInput!) { createOpd(input: $i) { opd { id } errors { code } } }"
    kec = gid("Kecamatan", world.kecamatan.id)
    for doc, variables, field, codes in (
        (cat, {"i": {"name": "Sepatu Sekolah"}}, "createCategory", {"DUPLICATE_SLUG", "CONFLICT"}),
        (
            opd,
            {"i": {"code": "DISKOMINFO", "name": "Diskominfo", "kind": "DINAS", "kecamatanId": kec}},
            "createOpd",
            {"DUPLICATE_CODE", "CONFLICT"},
        ),
    ):
        bodies = await asyncio.gather(*(gql(doc, variables, admin) for _ in range(10)))
        assert all("errors" not in b for b in bodies), bodies
        payloads = [b["data"][field] for b in bodies]
        made = [p for p in payloads if not p["errors"]]
        assert len(made) == 1, payloads
        assert {e["code"] for p in payloads for e in p["errors"]} <= codes, payloads


async def test_a_unique_key_race_the_rule_did_not_foresee_is_a_conflict_payload(gql, world, monkeypatch):
    """The last line: any IntegrityError out of a mutation's rule (the transaction rolled back) is CONFLICT, not a
    masked INTERNAL_SERVER_ERROR."""

    async def raced(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(registry_rules, "create_category", raced)
    q = "mutation($i: CreateCategoryInput!) { createCategory(input: $i) { category { id } errors { field code } } }"
    body = await gql(q, {"i": {"name": "Tas"}}, world.tokens["admin"])
    assert body["data"]["createCategory"] == {"category": None, "errors": [{"field": None, "code": "CONFLICT"}]}
