"""Bad input gets payload errors naming the field, and a failed mutation writes nothing."""

from __future__ import annotations

import base64
import json

import pytest

from models.accounts import Token, User
from models.catalog import Product
from models.registry import Umkm, UmkmServedKecamatan, UmkmStatusChange
from tests.conftest import error_codes, gid

REGISTER = """
mutation($i: RegisterUmkmInput!) {
  registerUmkm(input: $i) { token umkm { id } errors { field code message } }
}"""

CREATE_PRODUCT = """
mutation($i: CreateProductInput!) {
  createProduct(input: $i) { product { id } errors { field code message } }
}"""

CREATE_USER = """
mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } errors { field code message } } }"""


def sign_up(world, **over) -> dict:
    values = {
        "name": "Tas Anyaman Bu Rini",
        "nib": "8120001234567",
        "ownerName": "Rini Lestari",
        "phone": "081298765432",
        "address": "Jl. Dukuh Kupang 3",
        "kelurahanId": gid("Kelurahan", world.kelurahan.id),
        "email": "rini@tas.id",
        "password": "anyaman-123",
    }
    values.update(over)
    return {k: v for k, v in values.items() if v is not None}


def fields_codes(payload: dict) -> set[tuple[str | None, str]]:
    return {(e["field"], e["code"]) for e in payload["errors"]}


async def row_counts() -> dict[str, int]:
    return {
        "users": await User.all().count(),
        "tokens": await Token.all().count(),
        "umkm": await Umkm.all().count(),
        "history": await UmkmStatusChange.all().count(),
        "served": await UmkmServedKecamatan.all().count(),
        "products": await Product.all().count(),
    }


async def register(gql, values: dict, token: str | None = None) -> dict:
    payload = (await gql.ok(REGISTER, {"i": values}, token))["registerUmkm"]
    assert payload["umkm"] is None and payload["token"] is None, payload
    assert payload["errors"], payload
    assert all(e["message"] for e in payload["errors"])
    return payload


# ---------------------------------------------------------------- registerUmkm


@pytest.mark.parametrize(
    "nib",
    [
        "812000123456",
        "81200012345678",
        "812000123456A",
        "abcdefghijklm",
        "8120 0012 345",
        "",
        "８１２０００１２３４５６７",
    ],
    ids=["12-digits", "14-digits", "trailing-letter", "letters", "spaces", "empty", "fullwidth-digits"],
)
async def test_register_refuses_a_nib_that_is_not_13_digits(gql, world, nib):
    before = await row_counts()
    payload = await register(gql, sign_up(world, nib=nib, servedKecamatanIds=[gid("Kecamatan", world.kecamatan2.id)]))
    assert fields_codes(payload) == {("nib", "INVALID_NIB")}
    assert await row_counts() == before


async def test_register_refuses_a_nib_already_registered_and_creates_no_account(gql, world):
    before = await row_counts()
    payload = await register(gql, sign_up(world, nib=world.umkm.nib))
    assert fields_codes(payload) == {("nib", "DUPLICATE_NIB")}
    assert await row_counts() == before
    assert not await User.exists(email="rini@tas.id")
    # the same for an owner adding a second UMKM
    payload = await register(
        gql, sign_up(world, nib=world.other_umkm.nib, email=None, password=None), world.tokens["owner"]
    )
    assert fields_codes(payload) == {("nib", "DUPLICATE_NIB")}
    assert await row_counts() == before


async def test_register_refuses_an_email_already_in_use(gql, world):
    before = await row_counts()
    payload = await register(gql, sign_up(world, email=world.users["buyer"].email.upper()))
    assert fields_codes(payload) == {("email", "DUPLICATE_EMAIL")}
    assert await row_counts() == before


@pytest.mark.parametrize(
    "kelurahan",
    [
        lambda w: gid("Kelurahan", 999_999),
        lambda w: "bukan-id-sama-sekali",
        lambda w: "",
        lambda w: gid("Kecamatan", w.kecamatan.id),
        lambda w: base64.urlsafe_b64encode(b"Kelurahan:abc").decode(),
    ],
    ids=["unknown-kelurahan", "garbage", "empty", "a-kecamatan-id", "non-numeric"],
)
async def test_register_refuses_an_unknown_kelurahan(gql, world, kelurahan):
    before = await row_counts()
    payload = await register(gql, sign_up(world, kelurahanId=kelurahan(world)))
    assert {f for f, _ in fields_codes(payload)} == {"kelurahanId"}, payload
    assert await row_counts() == before


async def test_register_refuses_an_unknown_served_kecamatan(gql, world):
    before = await row_counts()
    payload = await register(gql, sign_up(world, servedKecamatanIds=[gid("Kecamatan", 999_999)]))
    assert fields_codes(payload) == {("servedKecamatanIds", "UNKNOWN_KECAMATAN")}
    assert await row_counts() == before


@pytest.mark.parametrize("name", ["", "   ", "\t\n"], ids=["empty", "spaces", "whitespace"])
async def test_register_requires_a_name(gql, world, name):
    before = await row_counts()
    payload = await register(gql, sign_up(world, name=name))
    assert fields_codes(payload) == {("name", "REQUIRED")}
    assert await row_counts() == before


async def test_register_names_every_wrong_field_at_once(gql, world):
    before = await row_counts()
    payload = await register(
        gql,
        sign_up(world, name=" ", nib="12345", phone="telepon", address="", email="bukan-email", password="pendek"),
    )
    assert fields_codes(payload) == {
        ("name", "REQUIRED"),
        ("nib", "INVALID_NIB"),
        ("phone", "INVALID_PHONE"),
        ("address", "REQUIRED"),
        ("email", "INVALID_EMAIL"),
        ("password", "PASSWORD_TOO_SHORT"),
    }
    assert await row_counts() == before


async def test_anonymous_register_needs_account_fields(gql, world):
    before = await row_counts()
    payload = await register(gql, sign_up(world, email=None, password=None))
    assert {f for f, _ in fields_codes(payload)} == {"email", "password"}
    assert await row_counts() == before


async def test_register_refuses_a_besar_business(gql, world):
    before = await row_counts()
    payload = await register(gql, sign_up(world, scale="BESAR"))
    assert fields_codes(payload) == {("scale", "NOT_UMKM")}
    assert await row_counts() == before


@pytest.mark.parametrize(
    ("field", "longest"),
    [("bankName", 100), ("bankAccount", 50), ("bankAccountName", 200), ("name", 200), ("address", 300)],
)
async def test_register_refuses_text_longer_than_its_column(gql, world, field, longest):
    # PostgreSQL enforces varchar widths (SQLite does not): the rule must catch it first, on both engines
    before = await row_counts()
    payload = await register(gql, sign_up(world, **{field: "7" * (longest + 1)}))
    assert fields_codes(payload) == {(field, "TOO_LONG")}
    assert await row_counts() == before
    ok = (await gql.ok(REGISTER, {"i": sign_up(world, **{field: "7" * longest})}))["registerUmkm"]
    assert ok["errors"] == []


async def test_a_valid_sign_up_after_the_failures_succeeds(gql, world):
    await register(gql, sign_up(world, nib="123"))
    payload = (await gql.ok(REGISTER, {"i": sign_up(world)}))["registerUmkm"]
    assert payload["errors"] == [] and payload["token"]
    assert await User.filter(email="rini@tas.id").count() == 1


# ---------------------------------------------------------------- createProduct


def product(world, **over) -> dict:
    values = {
        "umkmId": gid("Umkm", world.umkm.id),
        "categoryId": gid("Category", world.batik.id),
        "name": "Kemeja batik cap",
        "unit": "potong",
        "price": 185_000,
        "stock": 10,
    }
    values.update(over)
    return {k: v for k, v in values.items() if v is not None}


async def create_product(gql, world, values: dict) -> dict:
    payload = (await gql.ok(CREATE_PRODUCT, {"i": values}, world.tokens["owner"]))["createProduct"]
    assert payload["product"] is None, payload
    return payload


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"price": -1}, {("price", "NEGATIVE")}),
        ({"price": -185_000}, {("price", "NEGATIVE")}),
        ({"name": ""}, {("name", "REQUIRED")}),
        ({"name": "   "}, {("name", "REQUIRED")}),
        ({"unit": ""}, {("unit", "REQUIRED")}),
        ({"madeToOrder": True, "stock": None}, {("monthlyCapacity", "REQUIRED")}),
        ({"imageUrls": ["ftp://x/y.jpg"]}, {("imageUrls", "INVALID_URL")}),
        ({"options": ["M", "M"]}, {("options", "DUPLICATE_OPTION")}),
        ({"leadTimeDays": -1}, {("leadTimeDays", "TOO_SMALL")}),
        ({"categoryId": gid("Category", 999_999)}, {("categoryId", "NOT_FOUND")}),
        ({"categoryId": "zzz"}, {("categoryId", "INVALID_ID")}),
    ],
    ids=[
        "price-minus-1",
        "price-negative",
        "empty-name",
        "blank-name",
        "empty-unit",
        "made-to-order-without-capacity",
        "image-url",
        "duplicate-option",
        "lead-time",
        "unknown-category",
        "garbage-category",
    ],
)
async def test_create_product_names_the_wrong_field_and_writes_nothing(gql, world, over, expected):
    before = await row_counts()
    payload = await create_product(gql, world, product(world, **over))
    assert fields_codes(payload) == expected
    assert await row_counts() == before


async def test_a_price_of_zero_is_refused(gql, world):
    before = await row_counts()
    payload = await create_product(gql, world, product(world, price=0))
    assert [e["field"] for e in payload["errors"]] == ["price"]
    assert await row_counts() == before


async def test_quantities_below_one_are_refused_together(gql, world):
    before = await row_counts()
    payload = await create_product(
        gql, world, product(world, minOrderQuantity=0, stock=-1, monthlyCapacity=0, madeToOrder=True)
    )
    assert {f for f, _ in fields_codes(payload)} == {"minOrderQuantity", "stock", "monthlyCapacity"}
    assert await row_counts() == before


async def test_a_float_price_is_a_graphql_error_not_a_server_error(gql, world):
    before = await row_counts()
    body = await gql(CREATE_PRODUCT, {"i": product(world, price=185_000.5)}, world.tokens["owner"])
    codes = error_codes(body)
    assert codes and "INTERNAL_SERVER_ERROR" not in codes
    assert await row_counts() == before


async def test_an_owner_cannot_list_for_another_umkm(gql, world):
    before = await row_counts()
    body = await gql(
        CREATE_PRODUCT, {"i": product(world, umkmId=gid("Umkm", world.other_umkm.id))}, world.tokens["owner"]
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await row_counts() == before


async def test_a_valid_product_is_written(gql, world):
    before = await Product.all().count()
    payload = (await gql.ok(CREATE_PRODUCT, {"i": product(world, price=1)}, world.tokens["owner"]))["createProduct"]
    assert payload["errors"] == [] and payload["product"]["id"]
    assert await Product.all().count() == before + 1


# ---------------------------------------------------------------- paging arguments


@pytest.mark.parametrize(
    "query",
    [
        "{ products(first: 500) { totalCount } }",
        "{ products(first: 101) { totalCount } }",
        "{ umkms(first: 0) { totalCount } }",
        "{ umkms(first: -5) { totalCount } }",
        "{ opds(first: 1000) { totalCount } }",
    ],
)
async def test_first_outside_1_to_100_is_bad_user_input(gql, world, query):
    body = await gql(query)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert "first" in body["errors"][0]["message"]
    assert body["data"] is None


async def test_admin_lists_also_check_first(gql, world):
    body = await gql("{ users(first: 500) { totalCount } }", token=world.tokens["admin"])
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "first" in body["errors"][0]["message"]


def forged(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "!!!",
        forged({"not": "a list"}),
        forged(["only one"]),
        forged([1, 2]),
        forged([None, None]),
        forged(["Batik", "7"]),
        forged([{"dt": "not a date"}, 1]),
        forged([True, 1]),
    ],
    ids=["garbage", "not-base64", "object", "short", "wrong-types", "nulls", "string-id", "bad-date", "bool"],
)
@pytest.mark.parametrize("field", ["umkms", "products", "opds"])
async def test_a_cursor_not_from_the_list_is_bad_user_input(gql, world, after, field):
    body = await gql(f"query($a: String) {{ {field}(after: $a) {{ totalCount }} }}", {"a": after})
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert "after" in body["errors"][0]["message"]


async def test_a_real_cursor_continues_the_list(gql, world):
    for i in range(3):
        await world.product_for(world.umkm, f"Produk {i}")
    q = """query($a: String) {
      products(first: 2, after: $a) { edges { node { name } } pageInfo { endCursor hasNextPage } }
    }"""
    seen, after = [], None
    while True:
        page = (await gql.ok(q, {"a": after}))["products"]
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(["Kemeja batik tulis", "Kain batik cap", "Produk 0", "Produk 1", "Produk 2"])


# ---------------------------------------------------------------- createUser


def new_user(world, **over) -> dict:
    values = {
        "email": "staf.baru@surabaya.go.id",
        "password": "panjang-sekali",
        "fullName": "Staf Baru",
        "role": "OPD_BUYER",
        "opdId": gid("Opd", world.opd.id),
    }
    values.update(over)
    return {k: v for k, v in values.items() if v is not None}


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"opdId": None}, {("opdId", "REQUIRED")}),
        ({"role": "EMPLOYEE", "opdId": None}, {("opdId", "REQUIRED")}),
        ({"role": "OPD_TREASURER", "opdId": None}, {("opdId", "REQUIRED")}),
        ({"role": "ANALYST"}, {("opdId", "NOT_ALLOWED")}),
        ({"opdId": gid("Opd", 999_999)}, {("opdId", "NOT_FOUND")}),
        ({"opdId": "bukan"}, {("opdId", "INVALID_ID")}),
        ({"password": "pendek"}, {("password", "PASSWORD_TOO_SHORT")}),
        ({"password": ""}, {("password", "PASSWORD_TOO_SHORT")}),
        ({"email": "tanpa-at"}, {("email", "INVALID_EMAIL")}),
        ({"fullName": "  "}, {("fullName", "REQUIRED")}),
    ],
    ids=[
        "buyer-without-opd",
        "employee-without-opd",
        "treasurer-without-opd",
        "analyst-with-opd",
        "unknown-opd",
        "garbage-opd",
        "short-password",
        "empty-password",
        "email",
        "blank-name",
    ],
)
async def test_create_user_names_the_wrong_field_and_writes_nothing(gql, world, over, expected):
    before = await User.all().count()
    payload = (await gql.ok(CREATE_USER, {"i": new_user(world, **over)}, world.tokens["admin"]))["createUser"]
    assert payload["user"] is None
    assert fields_codes(payload) == expected
    assert await User.all().count() == before


async def test_create_user_refuses_a_duplicate_email(gql, world):
    before = await User.all().count()
    for email in (world.users["treasurer"].email, world.users["treasurer"].email.upper()):
        payload = (await gql.ok(CREATE_USER, {"i": new_user(world, email=email)}, world.tokens["admin"]))["createUser"]
        assert fields_codes(payload) == {("email", "DUPLICATE_EMAIL")}
    assert await User.all().count() == before

    payload = (await gql.ok(CREATE_USER, {"i": new_user(world)}, world.tokens["admin"]))["createUser"]
    assert payload["errors"] == [] and payload["user"]["id"]
    assert await User.all().count() == before + 1


# ---------------------------------------------------------------- text that would not fit its column


async def test_admin_text_longer_than_its_column_is_a_payload_error(gql, world):
    from models.registry import Category, Opd

    admin = world.tokens["admin"]
    categories, opds = await Category.all().count(), await Opd.all().count()
    cat = await gql.ok(
        "mutation($i: CreateCategoryInput!) { createCategory(input: $i) { category { id } errors { field code } } }",
        {"i": {"name": "Kerajinan", "slug": "k" * 101}},
        admin,
    )
    assert fields_codes(cat["createCategory"]) == {("slug", "TOO_LONG")}
    long_name = await gql.ok(
        "mutation($i: CreateCategoryInput!) { createCategory(input: $i) { category { id } errors { field code } } }",
        {"i": {"name": "n" * 101}},
        admin,
    )
    assert ("name", "TOO_LONG") in fields_codes(long_name["createCategory"])  # the slug made from it, too
    opd_input = {
        "code": "DISKOMINFO",
        "name": "Dinas Komunikasi dan Informatika",
        "kind": "DINAS",
        "kecamatanId": gid("Kecamatan", world.kecamatan.id),
        "address": "a" * 301,
    }
    opd = await gql.ok(
        "mutation($i: CreateOpdInput!) { createOpd(input: $i) { opd { id } errors { field code } } }",
        {"i": opd_input},
        admin,
    )
    assert fields_codes(opd["createOpd"]) == {("address", "TOO_LONG")}
    opd_input["code"] = "C" * 33
    opd = await gql.ok(
        "mutation($i: CreateOpdInput!) { createOpd(input: $i) { opd { id } errors { field code } } }",
        {"i": {**opd_input, "address": "Jl. Jimerto 25"}},
        admin,
    )
    assert fields_codes(opd["createOpd"]) == {("code", "TOO_LONG")}
    assert (await Category.all().count(), await Opd.all().count()) == (categories, opds)
