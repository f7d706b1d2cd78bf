"""The registry through /graphql: UMKM sign-up and verification, OPD and their pagu, categories, accounts, API keys."""

from __future__ import annotations

from models.accounts import ApiKey, User
from models.base import UmkmStatus
from models.registry import Category, Kecamatan, Kelurahan, Opd, OpdBudget, Umkm, UmkmStatusChange
from tests.conftest import PASSWORD, error_codes, gid

REGISTER = """
mutation($i: RegisterUmkmInput!) {
  registerUmkm(input: $i) {
    token
    umkm { id name nib status scaleSource kecamatan { name } }
    errors { field code message }
  }
}"""

CREATE_PRODUCT = """
mutation($i: CreateProductInput!) {
  createProduct(input: $i) { product { id name price } errors { field code message } }
}"""

VERIFY = """
mutation($i: VerifyUmkmInput!) {
  verifyUmkm(input: $i) { umkm { id status verifiedAt } errors { field code message } }
}"""

UMKM_NAMES = (
    """query($s: String) { umkms(filter: {search: $s}, first: 100) { totalCount edges { node { id name } } } }"""
)

PRODUCTS_OF = """
query($u: ID) { products(filter: {umkmId: $u}, first: 100) { totalCount edges { node { id name } } } }"""

NODE = """query($id: ID!) { node(id: $id) { id ... on Umkm { name status } ... on Product { name } } }"""

HISTORY = """
query($id: ID!) {
  node(id: $id) { ... on Umkm { status statusHistory { fromStatus toStatus note at actor } } }
}"""


def sign_up(world, **over) -> dict:
    values = {
        "name": "Sepatu Arek Suroboyo",
        "nib": "1234567890123",
        "ownerName": "Bu Sri Wahyuni",
        "phone": "0812-3456-7890",
        "address": "Jl. Kapasan 12",
        "kelurahanId": gid("Kelurahan", world.kelurahan.id),
        "email": "sri@sepatu.id",
        "password": "sepatu-kuat-1",
        "description": "Sepatu kulit buatan tangan",
    }
    values.update(over)
    return {k: v for k, v in values.items() if v is not None}


def payload_errors(payload: dict) -> set[tuple[str | None, str]]:
    return {(e["field"], e["code"]) for e in payload["errors"]}


async def visible(gql, world, token: str | None, umkm_id: str, product_id: str) -> dict[str, bool]:
    """Whether the caller finds the UMKM and its product in `umkms`, `products` and `node`."""
    umkms = await gql.ok(UMKM_NAMES, {"s": "Sepatu Arek"}, token)
    products = await gql.ok(PRODUCTS_OF, {"u": umkm_id}, token)
    umkm_node = await gql.ok(NODE, {"id": umkm_id}, token)
    product_node = await gql.ok(NODE, {"id": product_id}, token)
    return {
        "umkms": umkm_id in [e["node"]["id"] for e in umkms["umkms"]["edges"]],
        "products": product_id in [e["node"]["id"] for e in products["products"]["edges"]],
        "umkm node": umkm_node["node"] is not None,
        "product node": product_node["node"] is not None,
    }


ALL_SEEN = {"umkms": True, "products": True, "umkm node": True, "product node": True}
NONE_SEEN = {k: False for k in ALL_SEEN}


async def test_signup_approval_suspension_and_reinstatement_drive_what_buyers_see(gql, world):
    admin, buyer = world.tokens["admin"], world.tokens["buyer"]
    users_before = await User.all().count()

    reg = (await gql.ok(REGISTER, {"i": sign_up(world)}))["registerUmkm"]
    assert reg["errors"] == []
    assert reg["token"]
    umkm = reg["umkm"]
    assert umkm["status"] == "PENDING" and umkm["scaleSource"] == "DECLARED"
    assert umkm["kecamatan"]["name"] == world.kecamatan.name
    assert await User.all().count() == users_before + 1
    owner_token = reg["token"]

    me = (await gql.ok("{ me { id email role umkms { id name status } } }", token=owner_token))["me"]
    assert me["email"] == "sri@sepatu.id" and me["role"] == "UMKM_OWNER"
    assert me["umkms"] == [{"id": umkm["id"], "name": "Sepatu Arek Suroboyo", "status": "PENDING"}]

    # the token from sign-up works at once: the principal's UMKM are read per request
    created = await gql.ok(
        CREATE_PRODUCT,
        {
            "i": {
                "umkmId": umkm["id"],
                "categoryId": gid("Category", world.batik.id),
                "name": "Sepatu pantofel kulit",
                "unit": "pasang",
                "price": 350_000,
                "stock": 12,
            }
        },
        owner_token,
    )
    assert created["createProduct"]["errors"] == []
    product_id = created["createProduct"]["product"]["id"]

    assert await visible(gql, world, buyer, umkm["id"], product_id) == NONE_SEEN
    assert await visible(gql, world, None, umkm["id"], product_id) == NONE_SEEN
    assert await visible(gql, world, owner_token, umkm["id"], product_id) == ALL_SEEN

    approved = (await gql.ok(VERIFY, {"i": {"id": umkm["id"], "decision": "APPROVE", "note": "NIB cocok"}}, admin))[
        "verifyUmkm"
    ]
    assert approved["errors"] == []
    assert approved["umkm"]["status"] == "VERIFIED" and approved["umkm"]["verifiedAt"]
    assert await visible(gql, world, buyer, umkm["id"], product_id) == ALL_SEEN
    assert await visible(gql, world, None, umkm["id"], product_id) == ALL_SEEN

    suspended = (await gql.ok(VERIFY, {"i": {"id": umkm["id"], "decision": "SUSPEND", "note": "Keluhan mutu"}}, admin))[
        "verifyUmkm"
    ]
    assert suspended["errors"] == [] and suspended["umkm"]["status"] == "SUSPENDED"
    assert await visible(gql, world, buyer, umkm["id"], product_id) == NONE_SEEN
    assert await visible(gql, world, None, umkm["id"], product_id) == NONE_SEEN
    assert await visible(gql, world, owner_token, umkm["id"], product_id) == ALL_SEEN
    assert await visible(gql, world, world.tokens["analyst"], umkm["id"], product_id) == ALL_SEEN

    history = (await gql.ok(HISTORY, {"id": umkm["id"]}, admin))["node"]["statusHistory"]
    assert [(h["fromStatus"], h["toStatus"], h["note"], h["actor"]) for h in history] == [
        (None, "PENDING", "registered", me["id"]),
        ("PENDING", "VERIFIED", "NIB cocok", gid("User", world.users["admin"].id)),
        ("VERIFIED", "SUSPENDED", "Keluhan mutu", gid("User", world.users["admin"].id)),
    ]
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    assert all(h["at"].endswith("+07:00") for h in history)

    reinstated = (await gql.ok(VERIFY, {"i": {"id": umkm["id"], "decision": "REINSTATE"}}, admin))["verifyUmkm"]
    assert reinstated["errors"] == [] and reinstated["umkm"]["status"] == "VERIFIED"
    # the first verification time is kept
    assert reinstated["umkm"]["verifiedAt"] == approved["umkm"]["verifiedAt"]
    assert await visible(gql, world, buyer, umkm["id"], product_id) == ALL_SEEN
    history = (await gql.ok(HISTORY, {"id": umkm["id"]}, admin))["node"]["statusHistory"]
    assert [(h["fromStatus"], h["toStatus"]) for h in history][-1] == ("SUSPENDED", "VERIFIED")
    assert len(history) == 4


async def test_status_history_is_hidden_from_buyers(gql, world):
    body = await gql(HISTORY, {"id": gid("Umkm", world.umkm.id)}, world.tokens["buyer"])
    assert "FORBIDDEN" in error_codes(body)
    own = await gql.ok(HISTORY, {"id": gid("Umkm", world.umkm.id)}, world.tokens["owner"])
    assert own["node"]["statusHistory"][0]["toStatus"] == "VERIFIED"


async def test_signed_in_owner_registers_a_second_umkm_without_account_fields(gql, world):
    users_before = await User.all().count()
    reg = (
        await gql.ok(
            REGISTER,
            {"i": sign_up(world, name="Batik Kenongo Dua", email=None, password=None)},
            world.tokens["owner"],
        )
    )["registerUmkm"]
    assert reg["errors"] == []
    assert reg["token"] is None
    assert reg["umkm"]["status"] == "PENDING"
    assert await User.all().count() == users_before
    row = await Umkm.get(nib="1234567890123")
    assert row.owner_id == world.users["owner"].id

    me = (await gql.ok("{ me { umkms { name } } }", token=world.tokens["owner"]))["me"]
    assert sorted(u["name"] for u in me["umkms"]) == ["Batik Kenongo", "Batik Kenongo Dua"]


async def test_only_anonymous_callers_or_owners_register(gql, world):
    before = await Umkm.all().count()
    for role in ("buyer", "admin", "partner"):
        body = await gql(REGISTER, {"i": sign_up(world, email=None, password=None)}, world.tokens[role])
        assert body["data"] is None or body["data"]["registerUmkm"] is None, body
        assert error_codes(body) == ["FORBIDDEN"], (role, body)
    assert await Umkm.all().count() == before


async def test_verify_umkm_refuses_illegal_transitions_and_changes_nothing(gql, world):
    admin = world.tokens["admin"]
    history_before = await UmkmStatusChange.all().count()

    async def verify(umkm, decision, note=None):
        i = {"id": gid("Umkm", umkm.id), "decision": decision}
        if note is not None:
            i["note"] = note
        return (await gql.ok(VERIFY, {"i": i}, admin))["verifyUmkm"]

    approve_verified = await verify(world.umkm, "APPROVE", "lagi")
    assert approve_verified["umkm"] is None
    assert payload_errors(approve_verified) == {("decision", "INVALID_TRANSITION")}

    suspend_pending = await verify(world.pending_umkm, "SUSPEND", "belum apa-apa")
    assert payload_errors(suspend_pending) == {("decision", "INVALID_TRANSITION")}

    reinstate_verified = await verify(world.umkm, "REINSTATE")
    assert payload_errors(reinstate_verified) == {("decision", "INVALID_TRANSITION")}

    approve_suspended = await verify(world.suspended_umkm, "APPROVE", "x")
    assert payload_errors(approve_suspended) == {("decision", "INVALID_TRANSITION")}

    for note in (None, "", "   "):
        reject_silently = await verify(world.pending_umkm, "REJECT", note)
        assert payload_errors(reject_silently) == {("note", "REQUIRED")}
        assert reject_silently["umkm"] is None

    suspend_silently = await verify(world.umkm, "SUSPEND")
    assert payload_errors(suspend_silently) == {("note", "REQUIRED")}

    assert (await Umkm.get(id=world.umkm.id)).status is UmkmStatus.VERIFIED
    assert (await Umkm.get(id=world.pending_umkm.id)).status is UmkmStatus.PENDING
    assert (await Umkm.get(id=world.suspended_umkm.id)).status is UmkmStatus.SUSPENDED
    assert await UmkmStatusChange.all().count() == history_before

    # a legal rejection then works, with its note
    rejected = await verify(world.pending_umkm, "REJECT", "NIB tidak ditemukan di OSS")
    assert rejected["errors"] == [] and rejected["umkm"]["status"] == "REJECTED"
    assert rejected["umkm"]["verifiedAt"] is None


async def test_only_admins_verify(gql, world):
    i = {"id": gid("Umkm", world.pending_umkm.id), "decision": "APPROVE"}
    assert error_codes(await gql(VERIFY, {"i": i}, world.tokens["analyst"])) == ["FORBIDDEN"]
    assert error_codes(await gql(VERIFY, {"i": i}, world.tokens["other_owner"])) == ["FORBIDDEN"]
    assert error_codes(await gql(VERIFY, {"i": i})) == ["UNAUTHENTICATED"]
    assert (await Umkm.get(id=world.pending_umkm.id)).status is UmkmStatus.PENDING


# ---------------------------------------------------------------- OPD and pagu

CREATE_OPD = """
mutation($i: CreateOpdInput!) {
  createOpd(input: $i) { opd { id code name kind address active kecamatan { name } } errors { field code } }
}"""
UPDATE_OPD = """
mutation($i: UpdateOpdInput!) {
  updateOpd(input: $i) { opd { id code name kind address active kecamatan { name } } errors { field code } }
}"""
SET_BUDGET = """
mutation($i: SetOpdBudgetInput!) {
  setOpdBudget(input: $i) { opd { code } budget { year amount } errors { field code message } }
}"""
OPD_BUDGETS = "{ opds(first: 100) { edges { node { code budgets { year amount } } } } }"


async def budgets_of(gql, token, code: str) -> list[dict]:
    data = await gql.ok(OPD_BUDGETS, token=token)
    return next(e["node"]["budgets"] for e in data["opds"]["edges"] if e["node"]["code"] == code)


async def test_admin_creates_and_updates_an_opd(gql, world):
    admin = world.tokens["admin"]
    made = (
        await gql.ok(
            CREATE_OPD,
            {
                "i": {
                    "code": "BAPPEDALITBANG",
                    "name": "Badan Perencanaan",
                    "kind": "BADAN",
                    "kecamatanId": gid("Kecamatan", world.kecamatan.id),
                    "address": "Jl. Pacar 8",
                }
            },
            admin,
        )
    )["createOpd"]
    assert made["errors"] == []
    opd = made["opd"]
    assert (opd["code"], opd["kind"], opd["active"], opd["kecamatan"]["name"]) == (
        "BAPPEDALITBANG",
        "BADAN",
        True,
        world.kecamatan.name,
    )

    changed = (
        await gql.ok(
            UPDATE_OPD,
            {
                "i": {
                    "id": opd["id"],
                    "name": "Bappedalitbang Kota Surabaya",
                    "kecamatanId": gid("Kecamatan", world.kecamatan2.id),
                    "active": False,
                }
            },
            admin,
        )
    )["updateOpd"]
    assert changed["errors"] == []
    assert changed["opd"]["name"] == "Bappedalitbang Kota Surabaya"
    assert changed["opd"]["kecamatan"]["name"] == world.kecamatan2.name
    assert changed["opd"]["active"] is False
    assert changed["opd"]["address"] == "Jl. Pacar 8" and changed["opd"]["kind"] == "BADAN"

    before = await Opd.all().count()
    dup = (
        await gql.ok(
            CREATE_OPD,
            {
                "i": {
                    "code": "DISPENDIK",
                    "name": "Lagi",
                    "kind": "DINAS",
                    "kecamatanId": gid("Kecamatan", world.kecamatan.id),
                }
            },
            admin,
        )
    )["createOpd"]
    assert payload_errors(dup) == {("code", "DUPLICATE_CODE")}
    assert await Opd.all().count() == before

    assert error_codes(await gql(UPDATE_OPD, {"i": {"id": opd["id"], "name": "x"}}, world.tokens["buyer"])) == [
        "FORBIDDEN"
    ]


async def test_a_pagu_above_32_bit_int_round_trips_exactly(gql, world):
    admin = world.tokens["admin"]
    opd_id = gid("Opd", world.opd.id)
    three_billion = 3_000_000_000
    assert three_billion > 2**31 - 1

    result = (await gql.ok(SET_BUDGET, {"i": {"opdId": opd_id, "year": 2025, "amount": three_billion}}, admin))[
        "setOpdBudget"
    ]
    assert result["errors"] == []
    assert result["budget"] == {"year": 2025, "amount": three_billion}
    assert result["opd"]["code"] == "DISPENDIK"

    budgets = await budgets_of(gql, admin, "DISPENDIK")
    assert budgets == [{"year": 2025, "amount": 3_000_000_000}]
    assert isinstance(budgets[0]["amount"], int)
    assert (await OpdBudget.get(opd_id=world.opd.id, year=2025)).amount == 3_000_000_000

    # setting it again replaces the year's pagu; another year is added, newest first
    await gql.ok(SET_BUDGET, {"i": {"opdId": opd_id, "year": 2025, "amount": 3_250_000_001}}, admin)
    await gql.ok(SET_BUDGET, {"i": {"opdId": opd_id, "year": 2026, "amount": 123_456_789_012_345}}, admin)
    assert await budgets_of(gql, world.tokens["buyer"], "DISPENDIK") == [
        {"year": 2026, "amount": 123_456_789_012_345},
        {"year": 2025, "amount": 3_250_000_001},
    ]
    assert await OpdBudget.filter(opd_id=world.opd.id).count() == 2


async def test_a_rupiah_that_is_not_an_integer_is_a_graphql_error_and_nothing_is_stored(gql, world):
    admin = world.tokens["admin"]
    opd_id = gid("Opd", world.opd.id)
    for amount in (3_000_000_000.5, 3.0, "3000000000", True):
        body = await gql(SET_BUDGET, {"i": {"opdId": opd_id, "year": 2025, "amount": amount}}, admin)
        assert body.get("data") is None, (amount, body)
        codes = error_codes(body)
        assert codes and "INTERNAL_SERVER_ERROR" not in codes, (amount, body)
        assert "Rupiah" in body["errors"][0]["message"]
    # the same mistakes written into the document itself
    for literal in ("3000000000.5", '"3000000000"'):
        doc = (
            f'mutation {{ setOpdBudget(input: {{opdId: "{opd_id}", year: 2025, amount: {literal}}}) '
            "{ errors { code } } }"
        )
        body = await gql(doc, token=admin)
        codes = error_codes(body)
        assert codes and "INTERNAL_SERVER_ERROR" not in codes, (literal, body)
        assert body.get("data") is None
    assert await OpdBudget.all().count() == 0


async def test_budget_rules_name_the_field(gql, world):
    admin = world.tokens["admin"]
    opd_id = gid("Opd", world.opd.id)
    negative = (await gql.ok(SET_BUDGET, {"i": {"opdId": opd_id, "year": 2025, "amount": -1}}, admin))["setOpdBudget"]
    assert payload_errors(negative) == {("amount", "NEGATIVE")}
    bad_year = (await gql.ok(SET_BUDGET, {"i": {"opdId": opd_id, "year": 1999, "amount": 1}}, admin))["setOpdBudget"]
    assert {e[0] for e in payload_errors(bad_year)} == {"year"}
    no_opd = (await gql.ok(SET_BUDGET, {"i": {"opdId": gid("Opd", 999_999), "year": 2025, "amount": 1}}, admin))[
        "setOpdBudget"
    ]
    assert payload_errors(no_opd) == {("opdId", "NOT_FOUND")}
    assert await OpdBudget.all().count() == 0


# ---------------------------------------------------------------- categories

CREATE_CATEGORY = """
mutation($i: CreateCategoryInput!) {
  createCategory(input: $i) { category { id name slug parent { name } } errors { field code } }
}"""
UPDATE_CATEGORY = """
mutation($i: UpdateCategoryInput!) {
  updateCategory(input: $i) { category { id name parent { name } } errors { field code } }
}"""
CATEGORIES = "{ categories { name slug parent { name } children { name } } }"


async def test_category_tree_refuses_cycles_and_duplicate_slugs(gql, world):
    admin = world.tokens["admin"]

    async def create(**i):
        return (await gql.ok(CREATE_CATEGORY, {"i": i}, admin))["createCategory"]

    async def update(**i):
        return (await gql.ok(UPDATE_CATEGORY, {"i": i}, admin))["updateCategory"]

    fashion = await create(name="Fashion & Busana")
    assert fashion["errors"] == [] and fashion["category"]["slug"] == "fashion-busana"
    tulis = await create(name="Batik Tulis", parentId=gid("Category", world.batik.id))
    assert tulis["errors"] == [] and tulis["category"]["parent"] == {"name": "Batik"}
    halus = await create(name="Tulis Halus", parentId=tulis["category"]["id"], slug="tulis-halus")
    assert halus["errors"] == []

    moved = await update(id=gid("Category", world.batik.id), parentId=fashion["category"]["id"])
    assert moved["errors"] == [] and moved["category"]["parent"] == {"name": "Fashion & Busana"}

    tree = {c["name"]: c for c in (await gql.ok(CATEGORIES))["categories"]}
    assert tree["Batik Tulis"]["parent"] == {"name": "Batik"}
    assert tree["Batik"]["children"] == [{"name": "Batik Tulis"}]
    assert tree["Fashion & Busana"]["children"] == [{"name": "Batik"}]
    assert tree["Tulis Halus"]["parent"] == {"name": "Batik Tulis"}
    assert tree["Fashion & Busana"]["parent"] is None

    # under its own grandchild, its child, or itself: a cycle
    for new_parent in (halus["category"]["id"], tulis["category"]["id"], gid("Category", world.batik.id)):
        cycle = await update(id=gid("Category", world.batik.id), parentId=new_parent)
        assert payload_errors(cycle) == {("parentId", "CYCLE")}
        assert cycle["category"] is None
    assert (await Category.get(id=world.batik.id)).parent_id == (await Category.get(slug="fashion-busana")).id

    before = await Category.all().count()
    dup_from_name = await create(name="batik")
    assert payload_errors(dup_from_name) == {("slug", "DUPLICATE_SLUG")}
    dup_explicit = await create(name="Kain Tulis", slug="Tulis Halus!")
    assert payload_errors(dup_explicit) == {("slug", "DUPLICATE_SLUG")}
    assert await Category.all().count() == before

    top = await update(id=gid("Category", world.batik.id), clearParent=True)
    assert top["errors"] == [] and top["category"]["parent"] is None


# ---------------------------------------------------------------- updateUmkm

UPDATE_UMKM = """
mutation($i: UpdateUmkmInput!) {
  updateUmkm(input: $i) {
    umkm { id kelurahan { name } kecamatan { id name } servedKecamatans { id name } }
    errors { field code }
  }
}"""


async def test_owner_moves_the_umkm_and_its_kecamatan_follows(gql, world):
    owner = world.tokens["owner"]
    kecs = await Kecamatan.all().order_by("code").limit(5)
    k = [gid("Kecamatan", x.id) for x in kecs]
    umkm_id = gid("Umkm", world.umkm.id)

    first = (await gql.ok(UPDATE_UMKM, {"i": {"id": umkm_id, "servedKecamatanIds": [k[2], k[3]]}}, owner))["updateUmkm"]
    assert first["errors"] == []
    assert [x["id"] for x in first["umkm"]["servedKecamatans"]] == [k[2], k[3]]

    kel2 = await Kelurahan.filter(kecamatan_id=kecs[1].id).order_by("code").first()
    moved = (
        await gql.ok(
            UPDATE_UMKM,
            {"i": {"id": umkm_id, "kelurahanId": gid("Kelurahan", kel2.id), "servedKecamatanIds": [k[4], k[1]]}},
            owner,
        )
    )["updateUmkm"]
    assert moved["errors"] == []
    assert moved["umkm"]["kelurahan"]["name"] == kel2.name
    assert moved["umkm"]["kecamatan"] == {"id": k[1], "name": kecs[1].name}
    # the list is replaced, and the own kecamatan is never listed as "other"
    assert [x["id"] for x in moved["umkm"]["servedKecamatans"]] == [k[4]]
    row = await Umkm.get(id=world.umkm.id)
    assert (row.kelurahan_id, row.kecamatan_id) == (kel2.id, kecs[1].id)

    # the buyers' kecamatan filter follows the move
    data = await gql.ok(
        "query($k: ID) { umkms(filter: {kecamatanId: $k}) { edges { node { name } } } }",
        {"k": k[1]},
        world.tokens["buyer"],
    )
    assert "Batik Kenongo" in [e["node"]["name"] for e in data["umkms"]["edges"]]

    cleared = (await gql.ok(UPDATE_UMKM, {"i": {"id": umkm_id, "servedKecamatanIds": []}}, owner))["updateUmkm"]
    assert cleared["umkm"]["servedKecamatans"] == []


async def test_update_umkm_refuses_other_owners_and_a_new_nib(gql, world):
    umkm_id = gid("Umkm", world.umkm.id)
    body = await gql(UPDATE_UMKM, {"i": {"id": umkm_id, "address": "Jl. Lain"}}, world.tokens["other_owner"])
    assert error_codes(body) == ["FORBIDDEN"]
    nib = (await gql.ok(UPDATE_UMKM, {"i": {"id": umkm_id, "nib": "9999999999999"}}, world.tokens["owner"]))[
        "updateUmkm"
    ]
    assert payload_errors(nib) == {("nib", "IMMUTABLE")}
    row = await Umkm.get(id=world.umkm.id)
    assert row.address == world.umkm.address and row.nib == world.umkm.nib


# ---------------------------------------------------------------- login, logout

LOGIN = """
mutation($i: LoginInput!) { login(input: $i) { token user { email role } errors { field code } } }"""


async def test_login_gives_a_token_for_me_and_logout_revokes_it(gql, world):
    email = world.users["buyer"].email
    ok = (await gql.ok(LOGIN, {"i": {"email": email, "password": PASSWORD}}))["login"]
    assert ok["errors"] == [] and ok["user"] == {"email": email, "role": "OPD_BUYER"}
    token = ok["token"]
    assert (await gql.ok("{ me { email } }", token=token))["me"] == {"email": email}

    # the email is matched without regard to case
    upper = (await gql.ok(LOGIN, {"i": {"email": email.upper(), "password": PASSWORD}}))["login"]
    assert upper["errors"] == [] and upper["token"]

    for creds in ({"email": email, "password": "salah-total"}, {"email": "nobody@test.id", "password": PASSWORD}):
        bad = (await gql.ok(LOGIN, {"i": creds}))["login"]
        assert bad["token"] is None and bad["user"] is None
        assert [e["code"] for e in bad["errors"]] == ["INVALID_CREDENTIALS"]

    out = await gql.ok("mutation { logout { ok errors { code } } }", token=token)
    assert out["logout"] == {"ok": True, "errors": []}
    ended = await gql("{ me { email } }", token=token)  # a signed-out token: told so (tests/test_sign_in.py)
    assert ended["data"]["me"] is None and ended["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # the other session is untouched
    assert (await gql.ok("{ me { email } }", token=upper["token"]))["me"] == {"email": email}
    # logging out without a token is refused
    assert error_codes(await gql("mutation { logout { ok } }")) == ["UNAUTHENTICATED"]


# ---------------------------------------------------------------- API keys

CREATE_KEY = """
mutation($i: CreateApiKeyInput!) {
  createApiKey(input: $i) { secret apiKey { id name prefix lastFour scopes revokedAt } errors { field code } }
}"""
REVOKE_KEY = """
mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { id revokedAt } errors { field code } } }"""


async def test_api_key_is_shown_once_authenticates_and_stops_when_revoked(gql, world):
    admin = world.tokens["admin"]
    made = (await gql.ok(CREATE_KEY, {"i": {"name": "Portal Data Jatim"}}, admin))["createApiKey"]
    assert made["errors"] == []
    secret, key = made["secret"], made["apiKey"]
    assert secret.startswith(key["prefix"]) and key["lastFour"] == secret[-4:]
    assert key["revokedAt"] is None
    assert sorted(key["scopes"]) == ["catalog:read", "procurement:read"]
    stored = await ApiKey.get(prefix=key["prefix"])
    assert secret not in (stored.key_hash, stored.prefix)

    # the secret is never readable again
    listed = (await gql.ok("{ apiKeys { edges { node { id lastFour } } } }", token=admin))["apiKeys"]
    assert {"id": key["id"], "lastFour": secret[-4:]} in [e["node"] for e in listed["edges"]]

    products = await gql.ok("{ products { edges { node { name } } } }", token=secret)
    assert "Kemeja batik tulis" in [e["node"]["name"] for e in products["products"]["edges"]]
    # authenticated, yet not a person and not an admin
    assert error_codes(await gql("{ users { totalCount } }", token=secret)) == ["FORBIDDEN"]
    assert (await gql.ok("{ me { id } }", token=secret))["me"] is None

    revoked = (await gql.ok(REVOKE_KEY, {"i": {"id": key["id"]}}, admin))["revokeApiKey"]
    assert revoked["errors"] == [] and revoked["apiKey"]["revokedAt"]

    assert error_codes(await gql("{ users { totalCount } }", token=secret)) == ["UNAUTHENTICATED"]
    # the public catalogue still answers, as to anybody
    assert (await gql.ok("{ products { totalCount } }", token=secret))["products"]["totalCount"] >= 1

    listed = (await gql.ok("{ apiKeys { edges { node { id lastFour revokedAt } } } }", token=admin))["apiKeys"]
    mine = next(e["node"] for e in listed["edges"] if e["node"]["id"] == key["id"])
    assert mine["revokedAt"] and mine["lastFour"] == secret[-4:]

    again = (await gql.ok(REVOKE_KEY, {"i": {"id": key["id"]}}, admin))["revokeApiKey"]
    assert payload_errors(again) == {("id", "ALREADY_REVOKED")}

    before = await ApiKey.all().count()
    bad = (await gql.ok(CREATE_KEY, {"i": {"name": " ", "scopes": ["orders:write"]}}, admin))["createApiKey"]
    assert payload_errors(bad) == {("name", "REQUIRED"), ("scopes", "UNKNOWN_SCOPE")}
    assert bad["secret"] is None
    assert await ApiKey.all().count() == before
    assert error_codes(await gql(CREATE_KEY, {"i": {"name": "x"}}, world.tokens["analyst"])) == ["FORBIDDEN"]
