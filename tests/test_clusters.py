# ruff: noqa: F811  (the `city` fixture is imported from tests/test_fairness.py)
"""One fair share per business actor (docs/FAIRNESS.md): the audit's split owner and the newcomer who copies an
earlier UMKM's identifiers, replayed through the API on both engines; the admins' clusters, decisions and history;
the equity figures over business actors."""

from __future__ import annotations

import datetime as dt

import pytest

from models.registry import Umkm
from resolvers import fairness_stats
from schema.relay import from_global_id
from tests.conftest import gid
from tests.test_fairness import AS_OF_DT, city, names, ranking, row, today_is_as_of  # noqa: F401

REGISTER = """mutation($input: RegisterUmkmInput!) {
  registerUmkm(input: $input) { token umkm { id } errors { field code message } } }"""
VERIFY = """mutation($id: ID!) { verifyUmkm(input: {id: $id, decision: APPROVE}) { errors { code } } }"""
CREATE = """mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } errors { code } } }"""
CLUSTERS = """query($h: Boolean, $first: Int, $after: String) {
  umkmClusters(heldOnly: $h, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { size held members { held links umkm { name ownerNikLast4 } } } } } }"""
DECIDE = """mutation($input: UmkmClusterInput!) {
  %s(input: $input) { umkm { name } errors { field code message } } }"""
HISTORY = """query($u: ID) { umkmClusterDecisions(umkmId: $u) {
  totalCount edges { node { decision reason actor at umkm { name } clusterBefore } } } }"""

BANK = "1234-5678-90"
PHONE = "0812 3334 4455"
NIK = "3578012345678901"
_nib = iter(range(3578100000000, 3578199999999))


class Owners:
    """Sign-ups through `registerUmkm`, verified by the admin, each with one in-band batik product."""

    def __init__(self, gql, world):
        self.gql, self.w = gql, world
        self.ids: dict[str, int] = {}
        self.products: dict[str, int] = {}
        self.tokens: dict[str, str] = {}

    async def register(self, name: str, *, token: str | None = None, email: str | None = None, **extra) -> dict:
        data = {
            "name": name,
            "nib": str(next(_nib)),
            "ownerName": "Bu Sri",
            "phone": extra.pop("phone", f"0813{next(_nib) % 10**8:08d}"),
            "address": "Jl. Kenjeran 5",
            "kelurahanId": gid("Kelurahan", self.w.kelurahan.id),
            **extra,
        }
        if token is None:
            data.update(email=email or f"{name.lower().replace(' ', '.')}@test.id", password="rahasia-sekali-123")
        return (await self.gql.ok(REGISTER, {"input": data}, token))["registerUmkm"]

    async def seller(self, name: str, *, owner: str | None = None, **extra) -> int:
        """A verified seller (verified long ago, as the city's, so its active fraction is full) with a product."""
        got = await self.register(name, token=self.tokens.get(owner) if owner else None, **extra)
        assert got["errors"] == [], got
        if got["token"]:
            self.tokens[name] = got["token"]
        token = got["token"] or self.tokens[owner]
        uid = got["umkm"]["id"]
        assert (await self.gql.ok(VERIFY, {"id": uid}, self.w.tokens["admin"]))["verifyUmkm"]["errors"] == []
        pk = from_global_id(uid)[1]
        await Umkm.filter(id=pk).update(verified_at=AS_OF_DT - dt.timedelta(days=400))
        product = {
            "umkmId": uid,
            "categoryId": gid("Category", self.w.batik.id),
            "name": f"Batik {name}",
            "unit": "potong",
            "price": 150_000,
            "stock": 100,
        }
        body = (await self.gql.ok(CREATE, {"input": product}, token))["createProduct"]
        assert body["errors"] == [], body
        self.ids[name] = pk
        self.products[name] = from_global_id(body["product"]["id"])[1]
        return pk


@pytest.fixture
def owners(gql, world):
    return Owners(gql, world)


async def buy_from_the_top(gql, world, city, owners, purchases: int) -> dict[str, int]:
    """Each purchase goes to rank 1 of the day's list (Rp1 juta each, a day apart), counted by the function every
    delivery calls; returns the rupiah each UMKM received."""
    got: dict[str, int] = {}
    ids = {**{n: u.id for n, u in city.umkms.items()}, **owners.ids}
    for i in range(purchases):
        top = names(await ranking(gql, world))[0]
        await fairness_stats.record_sale(ids[top], {world.batik.id: 1_000_000}, AS_OF_DT - dt.timedelta(days=60 - i))
        got[top] = got.get(top, 0) + 1_000_000
    return got


async def test_a_split_owner_gets_one_share_not_three(gql, world, city, owners):
    """The audit: a signed-in owner registered 3 UMKM (3 NIBs, one bank account) and got three fair shares. Now the
    three are one business actor: one target share between them, the received share summed over them."""
    await owners.seller("Sri Satu", bankAccount=BANK)
    await owners.seller("Sri Dua", owner="Sri Satu", bankAccount=BANK)
    await owners.seller("Sri Tiga", owner="Sri Satu", bankAccount="9988776655")  # the owner account links it too
    r = await ranking(gql, world)
    assert r["eligibleCount"] == 9
    single = row(r, "Arjuna")["score"]
    for name in ("Sri Satu", "Sri Dua", "Sri Tiga"):
        e = row(r, name)
        assert "SHARED_SHARE" in e["reasons"]
        # each row carries the actor's figures: one share, as much as one NIB's
        assert e["score"]["targetShare"] == pytest.approx(single["targetShare"]) == pytest.approx(1.0)
    # the list follows the buyers: 21 purchases from its top, 7 business actors
    got = await buy_from_the_top(gql, world, city, owners, 21)
    split = sum(got.get(n, 0) for n in ("Sri Satu", "Sri Dua", "Sri Tiga"))
    singles = [got.get(n, 0) for n in ("Arjuna", "Bima", "Citra", "Dewi", "Eka", "Fajar")]
    assert split <= 1.1 * min(singles) and split == 3_000_000, got  # without clusters: 9 of the 21
    r = await ranking(gql, world)
    shared = {row(r, n)["score"]["received"] for n in ("Sri Satu", "Sri Dua", "Sri Tiga")}
    assert len(shared) == 1  # one received figure for the actor, summed over its members


async def test_an_order_to_one_member_moves_its_business_actors_rows_in_place(gql, world, city, owners):
    """An open order counts at ordering and moves its seller's row without a rebuild; a cluster's rows share one
    received figure, so they move together, to the end of the list."""
    from models.fairness import RankingSnapshot
    from tests.test_fairness_attacks import RANKING_DOC, place

    await owners.seller("Sri Satu", bankAccount=BANK)
    await owners.seller("Sri Dua", owner="Sri Satu", bankAccount=BANK)
    before = await ranking(gql, world, token="buyer", d=None)
    built = (await RankingSnapshot.get(category_id=world.batik.id)).built_at
    await place(gql, world, owners.products["Sri Dua"], 5, source="SEARCH")
    v = {"c": gid("Category", world.batik.id), "first": 100}
    body = (await gql.raw(RANKING_DOC, v, token=world.tokens["analyst"])).json()
    after = body["data"]["underSoldUmkm"]
    assert not [q for q in body["extensions"]["sql"] if "umkm_category_sales" in q], "no rebuild for an order"
    assert (await RankingSnapshot.get(category_id=world.batik.id)).built_at == built
    assert set(names(after)[-2:]) == {"Sri Satu", "Sri Dua"}, (names(before), names(after))
    moved = [row(after, n) for n in ("Sri Satu", "Sri Dua")]
    assert moved[0]["score"] == moved[1]["score"] and moved[0]["score"]["receivedShare"] > 0
    assert all("NEVER_SOLD" not in m["reasons"] for m in moved)


async def test_a_newcomer_with_an_earlier_umkms_identifier_is_held_until_an_admin_decides(gql, world, city, owners):
    """Another owner account registering with an earlier UMKM's bank account, phone or NIK does not reduce that
    UMKM's share: the newcomer is held at share 0 until an admin joins it (one share between them) or splits it
    (its own share), and every decision is kept."""
    await owners.seller("Korban", bankAccount=BANK, phone=PHONE, ownerNik=NIK)
    before = row(await ranking(gql, world), "Korban")["score"]["targetShare"]
    await owners.seller("Salin Rekening", bankAccount="12345678 90")  # the same account, written differently
    await owners.seller("Salin Telepon", phone="+62 812-3334-4455")
    await owners.seller("Salin NIK", ownerNik=NIK)
    r = await ranking(gql, world)
    korban = row(r, "Korban")
    assert korban["score"]["targetShare"] == pytest.approx(before) and "SHARED_SHARE" not in korban["reasons"]
    for name in ("Salin Rekening", "Salin Telepon", "Salin NIK"):
        e = row(r, name)
        assert e["score"]["targetShare"] == 0 and "SHARE_ON_HOLD" in e["reasons"], e
        assert names(r).index(name) > names(r).index("Fajar")  # below every seller with a share
    # the admin sees the cluster, who waits on it and by which identifier (kinds only), the NIK's last four
    held = (await gql.ok(CLUSTERS, {"h": True}, world.tokens["admin"]))["umkmClusters"]
    assert held["totalCount"] == 1
    node = held["edges"][0]["node"]
    assert (node["size"], node["held"]) == (1, 3)
    by = {m["umkm"]["name"]: m for m in node["members"]}
    assert by["Korban"]["held"] is False and by["Korban"]["umkm"]["ownerNikLast4"] == NIK[-4:]
    assert [by[n]["links"] for n in ("Salin Rekening", "Salin Telepon", "Salin NIK")] == [["BANK"], ["PHONE"], ["NIK"]]
    # JOIN: one share between the two; SPLIT: its own share
    join = DECIDE % "joinUmkmCluster"
    v = {"input": {"umkmId": gid("Umkm", owners.ids["Salin Rekening"]), "reason": "Rekening yang sama: satu usaha"}}
    assert (await gql.ok(join, v, world.tokens["admin"]))["joinUmkmCluster"]["errors"] == []
    split = DECIDE % "splitUmkmCluster"
    v = {"input": {"umkmId": gid("Umkm", owners.ids["Salin Telepon"]), "reason": "Nomor telepon keluarga"}}
    assert (await gql.ok(split, v, world.tokens["admin"]))["splitUmkmCluster"]["errors"] == []
    r = await ranking(gql, world)
    assert "SHARED_SHARE" in row(r, "Korban")["reasons"] and "SHARED_SHARE" in row(r, "Salin Rekening")["reasons"]
    assert row(r, "Korban")["score"]["targetShare"] == row(r, "Salin Rekening")["score"]["targetShare"]
    assert row(r, "Salin Telepon")["score"]["targetShare"] == pytest.approx(1.0)
    assert "SHARE_ON_HOLD" in row(r, "Salin NIK")["reasons"]  # still waiting
    # a reason is required; the history is kept, newest first, with who and why
    v = {"input": {"umkmId": gid("Umkm", owners.ids["Salin NIK"]), "reason": " "}}
    assert (await gql.ok(join, v, world.tokens["admin"]))["joinUmkmCluster"]["errors"][0]["field"] == "reason"
    history = (await gql.ok(HISTORY, {}, world.tokens["admin"]))["umkmClusterDecisions"]
    assert [e["node"]["decision"] for e in history["edges"]] == ["SPLIT", "JOIN"]
    first = history["edges"][1]["node"]
    assert first["reason"] == "Rekening yang sama: satu usaha" and first["actor"] == gid(
        "User", world.users["admin"].id
    )
    assert first["clusterBefore"] == gid("Umkm", owners.ids["Korban"])
    one = {"u": gid("Umkm", owners.ids["Salin Telepon"])}
    assert (await gql.ok(HISTORY, one, world.tokens["admin"]))["umkmClusterDecisions"]["totalCount"] == 1


async def test_an_established_seller_copying_a_newer_ones_bank_account_is_the_newcomer(gql, world, city, owners, clock):
    """Who is held is who took the identifier later, not who registered later: an old seller that types a newer
    seller's bank account into `updateUmkm` is held itself; the newer seller keeps its share."""
    await owners.seller("Lama", bankAccount="5550001111")
    await owners.seller("Baru", bankAccount=BANK)
    clock.at(AS_OF_DT + dt.timedelta(minutes=5))
    update = """mutation($input: UpdateUmkmInput!) { updateUmkm(input: $input) { errors { code } } }"""
    v = {"input": {"id": gid("Umkm", owners.ids["Lama"]), "bankAccount": BANK}}
    assert (await gql.ok(update, v, owners.tokens["Lama"]))["updateUmkm"]["errors"] == []
    r = await ranking(gql, world)
    assert "SHARE_ON_HOLD" in row(r, "Lama")["reasons"] and row(r, "Lama")["score"]["targetShare"] == 0
    baru = row(r, "Baru")
    assert baru["score"]["targetShare"] == pytest.approx(1.0) and "SHARE_ON_HOLD" not in baru["reasons"]
    # giving the own account back ends the link: no longer held
    v["input"]["bankAccount"] = "5550001111"
    assert (await gql.ok(update, v, owners.tokens["Lama"]))["updateUmkm"]["errors"] == []
    assert row(await ranking(gql, world), "Lama")["score"]["targetShare"] == pytest.approx(1.0)


async def test_the_nik_is_validated_kept_only_as_a_keyed_hash_and_shown_only_to_admins(gql, world, owners):
    bad = await owners.register("Salah", ownerNik="12345")
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("ownerNik", "INVALID_NIK")]
    await owners.seller("Benar", ownerNik=NIK)
    u = await Umkm.get(id=owners.ids["Benar"])
    assert u.owner_nik_last4 == "8901" and len(u.owner_nik_hash) == 64 and NIK not in u.owner_nik_hash
    assert NIK not in repr(await Umkm.filter(id=u.id).values())  # nowhere in the row
    q = "query($id: ID!) { node(id: $id) { ... on Umkm { ownerNikLast4 } } }"
    v = {"id": gid("Umkm", u.id)}
    assert (await gql.ok(q, v, world.tokens["admin"]))["node"]["ownerNikLast4"] == "8901"
    body = await gql(q, v, owners.tokens["Benar"])  # not even its owner: the admins' tool against split owners
    assert body["data"]["node"]["ownerNikLast4"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_clusters_list_pages_by_cluster(gql, world, owners):
    for i in range(3):
        await owners.seller(f"Induk {i}")
        await owners.seller(f"Cabang {i}", owner=f"Induk {i}")
    first = (await gql.ok(CLUSTERS, {"first": 2}, world.tokens["admin"]))["umkmClusters"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    rest = await gql.ok(CLUSTERS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, world.tokens["admin"])
    pages = first["edges"] + rest["umkmClusters"]["edges"]
    got = [sorted(m["umkm"]["name"] for m in e["node"]["members"]) for e in pages]
    assert got == [[f"Cabang {i}", f"Induk {i}"] for i in range(3)]
    assert all(m["links"] == ["OWNER"] for e in pages for m in e["node"]["members"])


EQUITY = """query($c: ID!, $f: Date!, $t: Date!) { equityReport(categoryId: $c, periodFrom: $f, periodTo: $t) {
  members sellers purchases total gini zeroSalesShare unmetFairShare } }"""
BY_CATEGORY = """query($f: Date!, $t: Date!) { equityByCategory(periodFrom: $f, periodTo: $t) {
  category { slug } report { members sellers purchases total gini zeroSalesShare unmetFairShare } } }"""


async def test_equity_figures_count_business_actors_not_umkm_rows(gql, world, clock):
    """The world's second owner has three UMKM (one verified, one pending, one suspended today); when it registers
    one more through the API the four are one business actor, and the equity figures count it once."""
    from tests.test_analytics import buy

    clock.at(dt.datetime.now(dt.UTC))
    today = clock.now().date().isoformat()
    v = {"c": gid("Category", world.batik.id), "f": today, "t": today}
    await buy(gql, world, world.product, 4)  # 600,000 to the first owner
    await buy(gql, world, world.other_product, 1)  # 200,000 to the second
    before = (await gql.ok(EQUITY, v, world.tokens["analyst"]))["equityReport"]
    assert (before["members"], before["sellers"]) == (3, 2)  # the two verified sellers and the suspended one
    got = await Owners(gql, world).register("Cabang Lain", token=world.tokens["other_owner"])
    assert got["errors"] == [], got
    after = (await gql.ok(EQUITY, v, world.tokens["analyst"]))["equityReport"]
    assert (after["members"], after["sellers"], after["purchases"], after["total"]) == (2, 2, 2, 800_000)
    assert after["zeroSalesShare"] == 0 and after["gini"] == pytest.approx(0.25)  # [200k, 600k]
    rows = (await gql.ok(BY_CATEGORY, {"f": today, "t": today}, world.tokens["analyst"]))["equityByCategory"]
    batik = next(r["report"] for r in rows if r["category"]["slug"] == world.batik.slug)
    assert batik == after


async def test_statement_counts_do_not_grow_with_clusters_or_page_size(gql, world, city, owners):
    """The list read from its snapshot costs what it cost before clusters; the clusters' page costs the same for 1
    or 3 clusters (the keys, then every member of the page in one statement)."""
    from tests.test_fairness import RANKING

    for i in range(3):
        await owners.seller(f"Induk {i}")
        await owners.seller(f"Cabang {i}", owner=f"Induk {i}")
    variables = {"c": gid("Category", world.batik.id), "d": AS_OF_DT.date().isoformat()}
    first = (await gql.raw(RANKING, variables, token=world.tokens["buyer"])).json()["extensions"]["sql"]
    assert sum('"cluster_id" IN' in q for q in first) == 1, first  # the build: one statement for the members
    second = (await gql.raw(RANKING, variables, token=world.tokens["buyer"])).json()["extensions"]["sql"]
    assert len(second) <= 5, second  # as without clusters (tests/test_fairness_snapshot.py)
    counts = []
    for n in (1, 3):
        body = (await gql.raw(CLUSTERS, {"first": n}, token=world.tokens["admin"])).json()
        assert len(body["data"]["umkmClusters"]["edges"]) == n
        counts.append(len([q for q in body["extensions"]["sql"] if "COUNT(DISTINCT" not in q]))
    assert counts[0] == counts[1], counts
