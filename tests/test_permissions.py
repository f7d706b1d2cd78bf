"""Who may do and see what, pinned through /graphql (docs/API.md, "Permissions").

Every role (plus anonymous and a partner API key) against every mutation; the personal fields of a UMKM; the status
history; who sees unverified, suspended and archived rows in lists and through `node`; users, API keys and `me`.
Conventions: anonymous on a guarded mutation → UNAUTHENTICATED; a signed-in caller of the wrong role (or a partner
key) → FORBIDDEN; both as GraphQL errors with HTTP 200 and `data: null` (payloads are non-null), writing nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from tortoise import Tortoise

from models.accounts import ApiKey
from models.base import UmkmStatus
from models.catalog import Product
from models.registry import Umkm
from tests.conftest import PASSWORD, REFERENCE_TABLES, World, error_codes, gid

ROLES = ("anonymous", "partner", "admin", "analyst", "buyer", "treasurer", "employee", "owner", "other_owner")
USERS = ROLES[2:]  # signed-in people
EVERYONE = frozenset(ROLES)
ADMIN = frozenset({"admin"})
ADMIN_OR_OWNER = frozenset({"admin", "owner"})  # "owner" owns world.umkm and world.product; other_owner does not


def token(world: World, role: str) -> str | None:
    return None if role == "anonymous" else world.tokens[role]


async def snapshot() -> dict[str, list[dict]]:
    """Every row the app may write (bookkeeping such as `last_used_at` aside): a refused call must change none."""
    out = {}
    for model in Tortoise.apps.get_models_iterable():
        table = model._meta.db_table
        if table in REFERENCE_TABLES:
            continue
        rows = await model.all().order_by("id").values()
        out[table] = [{k: v for k, v in r.items() if k != "last_used_at"} for r in rows]
    return out


# ---------------------------------------------------------------- every role × every mutation


@dataclass(frozen=True)
class Case:
    doc: str
    variables: Callable[[World], Awaitable[dict]]
    allowed: frozenset[str]
    result: str  # payload field that is set when the call goes through
    refused: dict[str, str] = field(default_factory=dict)  # role -> code, where not the usual one

    def code_for(self, role: str) -> str:
        return self.refused.get(role, "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN")


def _m(name: str, input_type: str | None, selection: str) -> str:
    if input_type is None:
        return f"mutation {{ {name} {{ {selection} errors {{ field code message }} }} }}"
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} errors {{ field code message }} }} }}"
    )


def _vars(make: Callable[[World], dict]) -> Callable[[World], Awaitable[dict]]:
    async def build(w: World) -> dict:
        return {"input": make(w)}

    return build


async def _no_vars(w: World) -> dict:
    return {}


async def _revoke_vars(w: World) -> dict:
    key = await ApiKey.get(prefix=w.partner_key[: len("pk_") + 8])  # pk_<8 hex>_<secret>
    return {"input": {"id": gid("ApiKey", key.id)}}


MUTATIONS: dict[str, Case] = {
    "login": Case(
        _m("login", "LoginInput", "token user { email }"),
        _vars(lambda w: {"email": w.users["buyer"].email, "password": PASSWORD}),
        EVERYONE,  # the bearer header plays no part: the credentials decide
        "token",
    ),
    "logout": Case(
        _m("logout", None, "ok"),
        _no_vars,
        frozenset(USERS),
        "ok",
        refused={"partner": "UNAUTHENTICATED"},  # IsUser: a partner key is not a signed-in person
    ),
    "registerUmkm": Case(
        _m("registerUmkm", "RegisterUmkmInput", "token umkm { name status }"),
        _vars(
            lambda w: {
                "name": "Sepatu Tanggulangin",
                "nib": "3578000000001",
                "ownerName": "Bu Sri",
                "phone": "081233344455",
                "address": "Jl. Kenjeran 5",
                "kelurahanId": gid("Kelurahan", w.kelurahan.id),
                "email": "sri.baru@test.id",  # used only by an anonymous sign-up
                "password": PASSWORD,
            }
        ),
        frozenset({"anonymous", "owner", "other_owner"}),
        "umkm",
    ),
    "updateUmkm": Case(
        _m("updateUmkm", "UpdateUmkmInput", "umkm { description }"),
        _vars(lambda w: {"id": gid("Umkm", w.umkm.id), "description": "Batik tulis sejak 1980"}),
        ADMIN_OR_OWNER,
        "umkm",
    ),
    "verifyUmkm": Case(
        _m("verifyUmkm", "VerifyUmkmInput", "umkm { status }"),
        _vars(lambda w: {"id": gid("Umkm", w.pending_umkm.id), "decision": "APPROVE"}),
        ADMIN,
        "umkm",
    ),
    "createOpd": Case(
        _m("createOpd", "CreateOpdInput", "opd { code }"),
        _vars(
            lambda w: {
                "code": "BAPPEDA",
                "name": "Badan Perencanaan",
                "kind": "BADAN",
                "kecamatanId": gid("Kecamatan", w.kecamatan.id),
            }
        ),
        ADMIN,
        "opd",
    ),
    "updateOpd": Case(
        _m("updateOpd", "UpdateOpdInput", "opd { name }"),
        _vars(lambda w: {"id": gid("Opd", w.opd.id), "name": "Dinas Pendidikan Kota"}),
        ADMIN,
        "opd",
    ),
    "setOpdBudget": Case(
        _m("setOpdBudget", "SetOpdBudgetInput", "budget { year amount }"),
        _vars(lambda w: {"opdId": gid("Opd", w.opd.id), "year": 2026, "amount": 5_000_000_000}),
        ADMIN,
        "budget",
    ),
    "createCategory": Case(
        _m("createCategory", "CreateCategoryInput", "category { slug }"),
        _vars(lambda w: {"name": "Sepatu"}),
        ADMIN,
        "category",
    ),
    "updateCategory": Case(
        _m("updateCategory", "UpdateCategoryInput", "category { description }"),
        _vars(lambda w: {"id": gid("Category", w.batik.id), "description": "Kain dan pakaian batik"}),
        ADMIN,
        "category",
    ),
    "createUser": Case(
        _m("createUser", "CreateUserInput", "user { email role }"),
        _vars(
            lambda w: {
                "email": "asn.baru@test.id",
                "password": PASSWORD,
                "fullName": "ASN Baru",
                "role": "EMPLOYEE",
                "opdId": gid("Opd", w.opd.id),
            }
        ),
        ADMIN,
        "user",
    ),
    "createApiKey": Case(
        _m("createApiKey", "CreateApiKeyInput", "secret apiKey { name }"),
        _vars(lambda w: {"name": "Mitra Baru"}),
        ADMIN,
        "apiKey",
    ),
    "revokeApiKey": Case(
        _m("revokeApiKey", "RevokeApiKeyInput", "apiKey { revokedAt }"),
        _revoke_vars,
        ADMIN,
        "apiKey",
    ),
    "createProduct": Case(
        _m("createProduct", "CreateProductInput", "product { name }"),
        _vars(
            lambda w: {
                "umkmId": gid("Umkm", w.umkm.id),
                "categoryId": gid("Category", w.batik.id),
                "name": "Selendang batik",
                "unit": "potong",
                "price": 250_000,
            }
        ),
        ADMIN_OR_OWNER,
        "product",
    ),
    "updateProduct": Case(
        _m("updateProduct", "UpdateProductInput", "product { price }"),
        _vars(lambda w: {"id": gid("Product", w.product.id), "price": 160_000}),
        ADMIN_OR_OWNER,
        "product",
    ),
    "archiveProduct": Case(
        _m("archiveProduct", "ArchiveProductInput", "product { active }"),
        _vars(lambda w: {"id": gid("Product", w.product.id)}),
        ADMIN_OR_OWNER,
        "product",
    ),
}


def test_the_matrix_names_real_mutations():
    """A renamed mutation breaks this; a new one (orders, omzet) should get its own row in MUTATIONS."""
    from schema import schema

    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    assert set(MUTATIONS) <= set(mutation_type.fields)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_each_role_may_run_only_the_mutations_api_md_gives_it(gql, world, mutation, role):
    case = MUTATIONS[mutation]
    variables = await case.variables(world)
    before = None if role in case.allowed else await snapshot()
    r = await gql.raw(case.doc, variables, token(world, role))
    assert r.status_code == 200, r.text
    body = r.json()
    if role in case.allowed:
        assert "errors" not in body, body
        payload = body["data"][mutation]
        assert payload["errors"] == [], payload
        assert payload[case.result], payload
    else:
        assert body["data"] is None, body
        assert error_codes(body) == [case.code_for(role)], body
        assert body["errors"][0]["path"] == [mutation]
        assert await snapshot() == before, f"refused {mutation} by {role} changed the database"


# ---------------------------------------------------------------- ownership


UPDATE_UMKM = MUTATIONS["updateUmkm"].doc
UPDATE_PRODUCT = MUTATIONS["updateProduct"].doc
ARCHIVE_PRODUCT = MUTATIONS["archiveProduct"].doc
CREATE_PRODUCT = MUTATIONS["createProduct"].doc


async def test_owner_cannot_edit_another_umkm(gql, world):
    body = await gql(
        UPDATE_UMKM,
        {"input": {"id": gid("Umkm", world.other_umkm.id), "name": "Dibajak", "bankAccount": "9999999999"}},
        world.tokens["owner"],
    )
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    row = await Umkm.get(id=world.other_umkm.id)
    assert (row.name, row.bank_account) == ("Batik Lain", "0011223344")


async def test_owner_cannot_edit_another_owners_suspended_or_pending_umkm(gql, world):
    for target in (world.suspended_umkm, world.pending_umkm):
        body = await gql(
            UPDATE_UMKM, {"input": {"id": gid("Umkm", target.id), "phone": "0800000000"}}, world.tokens["owner"]
        )
        assert error_codes(body) == ["FORBIDDEN"], body
        assert (await Umkm.get(id=target.id)).phone == "081234567890"


async def test_owner_cannot_edit_another_umkms_product(gql, world):
    body = await gql(
        UPDATE_PRODUCT,
        {"input": {"id": gid("Product", world.other_product.id), "price": 1, "name": "Murah sekali"}},
        world.tokens["owner"],
    )
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    row = await Product.get(id=world.other_product.id)
    assert (row.price, row.name) == (200_000, "Kain batik cap")
    # and the other owner still reads its product unchanged through the API
    data = await gql.ok(
        "query($id: ID!) { node(id: $id) { ... on Product { name price } } }",
        {"id": gid("Product", world.other_product.id)},
        world.tokens["other_owner"],
    )
    assert data["node"] == {"name": "Kain batik cap", "price": 200_000}


async def test_owner_cannot_archive_another_umkms_product(gql, world):
    body = await gql(ARCHIVE_PRODUCT, {"input": {"id": gid("Product", world.other_product.id)}}, world.tokens["owner"])
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    assert (await Product.get(id=world.other_product.id)).active is True


async def test_owner_cannot_list_a_product_under_another_umkm(gql, world):
    variables = await MUTATIONS["createProduct"].variables(world)
    variables["input"]["umkmId"] = gid("Umkm", world.other_umkm.id)
    body = await gql(CREATE_PRODUCT, variables, world.tokens["owner"])
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    assert not await Product.exists(name="Selendang batik")


async def test_owner_of_several_umkm_edits_each_of_them(gql, world):
    for target in (world.other_umkm, world.pending_umkm, world.suspended_umkm):
        data = await gql.ok(
            UPDATE_UMKM, {"input": {"id": gid("Umkm", target.id), "description": "baru"}}, world.tokens["other_owner"]
        )
        assert data["updateUmkm"]["errors"] == []
    assert await Umkm.filter(owner_id=world.users["other_owner"].id, description="baru").count() == 3


async def test_admin_edits_any_umkm_and_product_on_the_owners_behalf(gql, world):
    admin = world.tokens["admin"]
    data = await gql.ok(UPDATE_UMKM, {"input": {"id": gid("Umkm", world.other_umkm.id), "phone": "0311234567"}}, admin)
    assert data["updateUmkm"]["errors"] == []
    data = await gql.ok(
        UPDATE_PRODUCT, {"input": {"id": gid("Product", world.suspended_product.id), "price": 9}}, admin
    )
    assert data["updateProduct"] == {"product": {"price": 9}, "errors": []}
    assert (await Umkm.get(id=world.other_umkm.id)).phone == "0311234567"


async def test_owner_registering_another_umkm_owns_it_at_once(gql, world):
    variables = await MUTATIONS["registerUmkm"].variables(world)
    doc = _m(
        "registerUmkm", "RegisterUmkmInput", "token umkm { id status phone bankAccount statusHistory { toStatus } }"
    )
    data = await gql.ok(doc, variables, world.tokens["owner"])
    payload = data["registerUmkm"]
    assert payload["token"] is None  # an existing account needs no new token
    assert payload["umkm"]["status"] == "PENDING"
    assert payload["umkm"]["phone"] == "081233344455"
    assert payload["umkm"]["statusHistory"] == [{"toStatus": "PENDING"}]
    # the next request already treats the new UMKM as the owner's
    data = await gql.ok(
        UPDATE_UMKM, {"input": {"id": payload["umkm"]["id"], "description": "Sepatu kulit"}}, world.tokens["owner"]
    )
    assert data["updateUmkm"]["errors"] == []
    body = await gql(
        UPDATE_UMKM, {"input": {"id": payload["umkm"]["id"], "description": "x"}}, world.tokens["other_owner"]
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_anonymous_sign_up_gets_an_owner_token_that_sees_its_pending_umkm(gql, world):
    variables = await MUTATIONS["registerUmkm"].variables(world)
    payload = (await gql.ok(MUTATIONS["registerUmkm"].doc, variables))["registerUmkm"]
    new_token = payload["token"]
    assert new_token and payload["umkm"]["status"] == "PENDING"
    data = await gql.ok(
        "{ me { role umkms { name phone status } } }",
        token=new_token,
    )
    assert data["me"] == {
        "role": "UMKM_OWNER",
        "umkms": [{"name": "Sepatu Tanggulangin", "phone": "081233344455", "status": "PENDING"}],
    }
    # and a buyer does not see it yet
    data = await gql.ok('{ umkms(filter: {search: "Tanggulangin"}) { totalCount } }', token=world.tokens["buyer"])
    assert data["umkms"]["totalCount"] == 0


# ---------------------------------------------------------------- personal fields of a UMKM

PERSONAL = ("phone", "ownerName", "bankName", "bankAccount", "bankAccountName")
UMKM_PERSONAL = "query($id: ID!) { node(id: $id) { ... on Umkm { name %s } } }" % " ".join(PERSONAL)  # noqa: UP031


@pytest.mark.parametrize("role", ROLES)
async def test_umkm_phone_and_bank_data_are_for_its_owner_and_admins_only(gql, world, role):
    body = await gql(UMKM_PERSONAL, {"id": gid("Umkm", world.umkm.id)}, token(world, role))
    node = body["data"]["node"]
    assert node["name"] == "Batik Kenongo"  # the public part is always there
    if role in ("owner", "admin"):
        assert "errors" not in body, body
        assert node == {
            "name": "Batik Kenongo",
            "phone": "081234567890",
            "ownerName": "Pak Batik Kenongo",
            "bankName": "Bank Jatim",
            "bankAccount": "0011223344",
            "bankAccountName": "Pak Batik Kenongo",
        }
    else:
        assert all(node[f] is None for f in PERSONAL), node
        assert error_codes(body) == ["FORBIDDEN"] * len(PERSONAL)
        assert sorted(e["path"][-1] for e in body["errors"]) == sorted(PERSONAL)


SELLERS = (
    "{ products(first: 100) { edges { node { name umkm { name kecamatan { name } " + " ".join(PERSONAL) + " } } } } }"
)


@pytest.mark.parametrize("role", ROLES)
async def test_the_sellers_in_a_product_listing_show_personal_data_to_their_owner_and_admins_only(gql, world, role):
    """The listing reads each seller in the same statement as its products; the field permissions hold all the same."""
    body = await gql(SELLERS, token=token(world, role))
    owned = {
        "admin": {"Batik Kenongo", "Batik Lain", "Ditangguhkan"},
        "owner": {"Batik Kenongo"},
        "other_owner": {"Batik Lain", "Ditangguhkan"},
    }.get(role, set())
    sellers = [e["node"]["umkm"] for e in body["data"]["products"]["edges"]]
    assert {u["name"] for u in sellers} >= {"Batik Kenongo", "Batik Lain"}
    assert all(u["kecamatan"]["name"] == world.kecamatan.name for u in sellers)
    for u in sellers:
        if u["name"] in owned:
            assert u["phone"] == "081234567890" and u["bankAccount"] == "0011223344", u
        else:
            assert all(u[f] is None for f in PERSONAL), u
    hidden = [u for u in sellers if u["name"] not in owned]
    assert error_codes(body) == ["FORBIDDEN"] * len(PERSONAL) * len(hidden)


async def test_partner_key_cannot_read_umkm_phone_or_bank_account(gql, world):
    doc = """{
      umkms { edges { node { name phone bankAccount } } }
      products { edges { node { name umkm { name bankAccount bankAccountName } } } }
    }"""
    body = await gql(doc, token=world.tokens["partner"])
    umkms = [e["node"] for e in body["data"]["umkms"]["edges"]]
    products = [e["node"] for e in body["data"]["products"]["edges"]]
    assert {u["name"] for u in umkms} == {"Batik Kenongo", "Batik Lain"}
    assert {p["name"] for p in products} == {"Kemeja batik tulis", "Kain batik cap"}
    assert all(u["phone"] is None and u["bankAccount"] is None for u in umkms)
    assert all(p["umkm"]["bankAccount"] is None and p["umkm"]["bankAccountName"] is None for p in products)
    assert set(error_codes(body)) == {"FORBIDDEN"} and len(body["errors"]) == 2 * 2 + 2 * 2
    assert "081234567890" not in str(body) and "0011223344" not in str(body)


async def test_other_owner_cannot_read_a_competitors_bank_account(gql, world):
    body = await gql(UMKM_PERSONAL, {"id": gid("Umkm", world.umkm.id)}, world.tokens["other_owner"])
    assert body["data"]["node"]["bankAccount"] is None
    assert set(error_codes(body)) == {"FORBIDDEN"}


@pytest.mark.parametrize("role", ROLES)
async def test_status_history_is_for_the_owner_admins_and_analysts(gql, world, role):
    doc = "query($id: ID!) { node(id: $id) { ... on Umkm { name statusHistory { toStatus note } } } }"
    body = await gql(doc, {"id": gid("Umkm", world.umkm.id)}, token(world, role))
    node = body["data"]["node"]
    assert node["name"] == "Batik Kenongo"
    if role in ("owner", "admin", "analyst"):
        assert "errors" not in body, body
        assert node["statusHistory"] == [{"toStatus": "VERIFIED", "note": "test"}]
    else:
        assert node["statusHistory"] is None
        assert error_codes(body) == ["FORBIDDEN"]
        assert body["errors"][0]["path"] == ["node", "statusHistory"]


# ---------------------------------------------------------------- unverified, suspended, archived

PUBLIC_UMKM = {"Batik Kenongo", "Batik Lain"}
HIDDEN_UMKM = {"Baru Daftar", "Ditangguhkan", "Ditolak"}  # pending, suspended, rejected: all other_owner's
PUBLIC_PRODUCTS = {"Kemeja batik tulis", "Kain batik cap"}
OWNERS_ARCHIVED = {"Batik lama"}  # owner's own, archived
OTHER_OWNERS_HIDDEN = {"Batik suspended", "Batik baru"}  # of the suspended and the pending UMKM
VISIBLE_UMKM = {
    "owner": PUBLIC_UMKM,
    "other_owner": PUBLIC_UMKM | HIDDEN_UMKM,
    "analyst": PUBLIC_UMKM | HIDDEN_UMKM,
    "admin": PUBLIC_UMKM | HIDDEN_UMKM,
}
VISIBLE_PRODUCTS = {
    "owner": PUBLIC_PRODUCTS | OWNERS_ARCHIVED,
    "other_owner": PUBLIC_PRODUCTS | OTHER_OWNERS_HIDDEN,
    "analyst": PUBLIC_PRODUCTS | OWNERS_ARCHIVED | OTHER_OWNERS_HIDDEN,
    "admin": PUBLIC_PRODUCTS | OWNERS_ARCHIVED | OTHER_OWNERS_HIDDEN,
}


@pytest.fixture
async def hidden_rows(world) -> dict[str, int]:
    """Rows only some may see, besides the world's pending and suspended UMKM and the suspended product."""
    rejected = await world.umkm_for(world.users["other_owner"], "Ditolak", UmkmStatus.REJECTED)
    archived = await world.product_for(world.umkm, "Batik lama", active=False)
    pending_product = await world.product_for(world.pending_umkm, "Batik baru")
    return {
        "Baru Daftar": gid("Umkm", world.pending_umkm.id),
        "Ditangguhkan": gid("Umkm", world.suspended_umkm.id),
        "Ditolak": gid("Umkm", rejected.id),
        "Batik suspended": gid("Product", world.suspended_product.id),
        "Batik lama": gid("Product", archived.id),
        "Batik baru": gid("Product", pending_product.id),
        "Batik Kenongo": gid("Umkm", world.umkm.id),
        "Kemeja batik tulis": gid("Product", world.product.id),
    }


@pytest.mark.parametrize("role", ROLES)
async def test_lists_show_unverified_suspended_and_archived_rows_only_to_owner_analyst_admin(
    gql, world, hidden_rows, role
):
    doc = """{
      umkms(first: 50) { totalCount edges { node { name } } }
      products(first: 50) { totalCount edges { node { name } } }
      suspended: umkms(filter: {status: SUSPENDED}) { totalCount }
    }"""
    data = await gql.ok(doc, token=token(world, role))
    umkms = {e["node"]["name"] for e in data["umkms"]["edges"]}
    products = {e["node"]["name"] for e in data["products"]["edges"]}
    assert umkms == VISIBLE_UMKM.get(role, PUBLIC_UMKM)
    assert products == VISIBLE_PRODUCTS.get(role, PUBLIC_PRODUCTS)
    assert data["umkms"]["totalCount"] == len(umkms)  # counts do not leak hidden rows either
    assert data["products"]["totalCount"] == len(products)
    assert data["suspended"]["totalCount"] == (1 if "Ditangguhkan" in umkms else 0)


@pytest.mark.parametrize("role", ROLES)
async def test_node_applies_the_same_visibility_as_the_lists(gql, world, hidden_rows, role):
    fields = "\n".join(
        f'n{i}: node(id: "{id_}") {{ ... on Umkm {{ name }} ... on Product {{ name }} }}'
        for i, id_ in enumerate(hidden_rows.values())
    )
    data = await gql.ok(f"{{ {fields} }}", token=token(world, role))
    seen = {n["name"] for n in data.values() if n is not None}
    expected = (VISIBLE_UMKM.get(role, PUBLIC_UMKM) | VISIBLE_PRODUCTS.get(role, PUBLIC_PRODUCTS)) & set(hidden_rows)
    assert seen == expected


NODE_NAME = "query($id: ID!) { node(id: $id) { id ... on Product { name } ... on Umkm { name } } }"


async def test_buyer_gets_null_for_node_of_suspended_umkms_product(gql, world):
    for role in ("buyer", "treasurer", "employee", "anonymous", "partner"):
        data = await gql.ok(NODE_NAME, {"id": gid("Product", world.suspended_product.id)}, token(world, role))
        assert data["node"] is None, role


async def test_analyst_admin_and_its_owner_see_node_of_suspended_umkms_product(gql, world):
    for role in ("analyst", "admin", "other_owner"):
        data = await gql.ok(NODE_NAME, {"id": gid("Product", world.suspended_product.id)}, token(world, role))
        assert data["node"]["name"] == "Batik suspended", role


async def test_buyer_cannot_reach_a_suspended_umkm_through_filters(gql, world):
    doc = """query($u: ID!) {
      umkms(filter: {status: SUSPENDED}) { totalCount }
      products(filter: {umkmId: $u}) { totalCount }
      node(id: $u) { id }
    }"""
    data = await gql.ok(doc, {"u": gid("Umkm", world.suspended_umkm.id)}, world.tokens["buyer"])
    assert data == {"umkms": {"totalCount": 0}, "products": {"totalCount": 0}, "node": None}


async def test_suspending_a_umkm_hides_its_products_from_buyers_at_once(gql, world):
    verify = MUTATIONS["verifyUmkm"].doc
    variables = {"input": {"id": gid("Umkm", world.umkm.id), "decision": "SUSPEND", "note": "izin kedaluwarsa"}}
    assert (await gql.ok(verify, variables, world.tokens["admin"]))["verifyUmkm"]["errors"] == []
    product_id = gid("Product", world.product.id)
    assert (await gql.ok(NODE_NAME, {"id": product_id}, world.tokens["buyer"]))["node"] is None
    assert (await gql.ok(NODE_NAME, {"id": product_id}, world.tokens["owner"]))["node"]["name"] == "Kemeja batik tulis"


async def test_archived_product_disappears_for_buyers_but_not_for_its_owner(gql, world):
    product_id = gid("Product", world.product.id)
    assert (await gql.ok(ARCHIVE_PRODUCT, {"input": {"id": product_id}}, world.tokens["owner"]))["archiveProduct"][
        "errors"
    ] == []
    for role, visible in (("buyer", False), ("partner", False), ("analyst", True), ("owner", True), ("admin", True)):
        node = (await gql.ok(NODE_NAME, {"id": product_id}, token(world, role)))["node"]
        assert (node is not None) is visible, role


# ---------------------------------------------------------------- users, API keys, me


@pytest.mark.parametrize("role", ROLES)
async def test_users_and_api_keys_are_listed_for_admins_only(gql, world, role):
    for doc, field_name, count in (
        ("{ users { totalCount edges { node { email } } } }", "users", len(world.users)),
        ("{ apiKeys { totalCount edges { node { name prefix } } } }", "apiKeys", 1),
    ):
        body = await gql(doc, token=token(world, role))
        if role == "admin":
            assert "errors" not in body, body
            assert body["data"][field_name]["totalCount"] == count
        else:
            assert body["data"] is None, body
            assert error_codes(body) == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]
            assert body["errors"][0]["path"] == [field_name]


@pytest.mark.parametrize("role", ROLES)
async def test_node_of_a_user_is_for_that_user_and_admins(gql, world, role):
    doc = "query($id: ID!) { node(id: $id) { ... on User { email role } } }"
    data = await gql.ok(doc, {"id": gid("User", world.users["buyer"].id)}, token(world, role))
    if role in ("buyer", "admin"):
        assert data["node"] == {"email": world.users["buyer"].email, "role": "OPD_BUYER"}
    else:
        assert data["node"] is None


@pytest.mark.parametrize("role", USERS)
async def test_each_user_sees_their_own_user_node_and_me(gql, world, role):
    user = world.users[role]
    doc = "query($id: ID!) { node(id: $id) { ... on User { email } } me { email } }"
    data = await gql.ok(doc, {"id": gid("User", user.id)}, world.tokens[role])
    assert data == {"node": {"email": user.email}, "me": {"email": user.email}}


@pytest.mark.parametrize("role", ROLES)
async def test_node_of_an_api_key_is_for_admins_only(gql, world, role):
    key = await ApiKey.first()
    data = await gql.ok(NODE_NAME, {"id": gid("ApiKey", key.id)}, token(world, role))
    assert (data["node"] is not None) is (role == "admin")


@pytest.mark.parametrize("role", ["anonymous", "partner"])
async def test_me_is_null_without_a_signed_in_user(gql, world, role):
    assert (await gql.ok("{ me { email } }", token=token(world, role)))["me"] is None


# ---------------------------------------------------------------- partner keys and dead credentials


async def test_partner_key_reads_the_public_catalogue(gql, world):
    doc = """{
      categories { name }
      kecamatans { name }
      umkms { totalCount edges { node { name status kecamatan { name } } } }
      products { totalCount edges { node { name price umkm { name } category { name } } } }
      opds { totalCount edges { node { code name } } }
    }"""
    data = await gql.ok(doc, token=world.tokens["partner"])
    assert {c["name"] for c in data["categories"]} == {"Batik", "Konsumsi rapat"}
    assert len(data["kecamatans"]) == 31
    assert {e["node"]["status"] for e in data["umkms"]["edges"]} == {"VERIFIED"}
    assert data["umkms"]["totalCount"] == 2
    assert data["products"]["totalCount"] == 2
    assert {e["node"]["code"] for e in data["opds"]["edges"]} == {"DISPENDIK", "DINKES"}


async def test_partner_key_cannot_register_a_umkm(gql, world):
    variables = await MUTATIONS["registerUmkm"].variables(world)
    body = await gql(MUTATIONS["registerUmkm"].doc, variables, world.tokens["partner"])
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    assert not await Umkm.exists(nib="3578000000001")


async def test_revoked_partner_key_counts_as_anonymous(gql, world):
    variables = await _revoke_vars(world)
    assert (await gql.ok(MUTATIONS["revokeApiKey"].doc, variables, world.tokens["admin"]))["revokeApiKey"][
        "errors"
    ] == []
    partner = world.tokens["partner"]
    body = await gql(MUTATIONS["createCategory"].doc, {"input": {"name": "Sepatu"}}, partner)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    data = await gql.ok("{ me { email } umkms { totalCount } }", token=partner)
    assert data == {"me": None, "umkms": {"totalCount": 2}}  # still the public catalogue, as anyone


async def test_unknown_bearer_token_counts_as_anonymous(gql, world):
    for bogus in ("pst_not-a-token", "pk_deadbeef_nope", "garbage"):
        body = await gql(UPDATE_UMKM, {"input": {"id": gid("Umkm", world.umkm.id), "name": "x"}}, bogus)
        assert error_codes(body) == ["UNAUTHENTICATED"], bogus
    assert (await Umkm.get(id=world.umkm.id)).name == "Batik Kenongo"


async def test_logged_out_token_counts_as_anonymous(gql, world):
    owner = world.tokens["owner"]
    assert (await gql.ok(MUTATIONS["logout"].doc, token=owner))["logout"] == {"ok": True, "errors": []}
    body = await gql(UPDATE_UMKM, {"input": {"id": gid("Umkm", world.umkm.id), "name": "x"}}, owner)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert (await gql.ok("{ me { email } }", token=owner))["me"] is None


async def test_analyst_reads_everything_but_changes_nothing(gql, world):
    analyst = world.tokens["analyst"]
    body = await gql(UMKM_PERSONAL, {"id": gid("Umkm", world.pending_umkm.id)}, analyst)
    assert body["data"]["node"]["name"] == "Baru Daftar"  # sees the pending UMKM …
    assert set(error_codes(body)) == {"FORBIDDEN"}  # … but not its owner's phone or bank account
    for name in ("verifyUmkm", "updateUmkm", "updateProduct"):
        case = MUTATIONS[name]
        body = await gql(case.doc, await case.variables(world), analyst)
        assert error_codes(body) == ["FORBIDDEN"], name
