"""Nothing leaks (docs/PRIVACY.md), through the endpoint, for every role: individual omzet and what follows from it on
every path to the ranking's score; aggregates of omzet against the subtraction attack; personal orders; UMKM that are
not VERIFIED in public rankings and checks."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from models.base import Role, Scale, UmkmStatus
from models.omzet import OmzetReport
from models.orders import Order
from models.registry import Kecamatan, Kelurahan, Umkm
from resolvers.invalidation import invalidate
from resolvers.omzet import shift
from resolvers.privacy import OMZET_REASONS
from schema.relay import from_global_id
from tests import test_subscriptions as subs
from tests.conftest import error_codes, gid
from tests.test_analytics import buy

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = dt.datetime.now(JAKARTA)
THIS_MONTH = f"{NOW.year:04d}-{NOW.month:02d}"
TODAY = NOW.date()
ROLES = ("anonymous", "partner", "admin", "analyst", "buyer", "treasurer", "employee", "owner", "other_owner")
SEES_ALL = {"admin", "analyst"}
WITHHELD = ("deficit", "targetShare", "need", "omzetUsed", "omzetSource", "bucket")

SCORE = "deficit targetShare receivedShare received activeFraction need omzetUsed omzetSource bucket rotationKey policyVersion"
RANKING = """query($c: ID!) { underSoldUmkm(categoryId: $c, first: 50) {
  totalCount eligibleCount medianPrice policyVersion
  edges { cursor rank reasons umkm { name } cheapestEligibleProduct { name price } score { SCORE } } } }"""
CHECK = """query($u: ID!, $c: ID!) { fairnessCheck(umkmId: $u, categoryId: $c) {
  eligible rank reasons excludedBecause score { SCORE } } }"""
PURCHASES = """query($id: ID!) { node(id: $id) { ... on Opd { purchaseCategories {
  underSoldUmkm(first: 10) { edges { umkm { name } reasons score { SCORE } } } } } } }"""
RANKING, CHECK, PURCHASES = (q.replace("SCORE }", SCORE + " }") for q in (RANKING, CHECK, PURCHASES))


def token(world, role: str) -> str | None:
    return world.tokens.get(role)


async def report(umkm: Umkm, total: int, months: int = 3) -> None:
    """Reports for the last `months` complete months, written as the API would have (the list is rebuilt)."""
    now = dt.datetime.now(dt.UTC)
    for k in range(1, months + 1):
        await OmzetReport.update_or_create(
            umkm_id=umkm.id,
            period=shift(THIS_MONTH, -k),
            defaults={
                "first_submitted_at": now,
                "late": False,
                "platform_amount": 0,
                "other_online_amount": 0,
                "offline_amount": total,
                "total_amount": total,
                "updated_at": now,
            },
        )
    await invalidate()


@pytest.fixture
async def listed(world):
    """The world's two batik sellers, verified long ago, on the list: Batik Kenongo (owner) reports Rp8,315,000 a
    month, Batik Lain (other owner) Rp50,000,000."""
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    await Umkm.filter(id__in=[world.umkm.id, world.other_umkm.id]).update(verified_at=long_ago, created_at=long_ago)
    await report(world.umkm, 8_315_000)
    await report(world.other_umkm, 50_000_000)
    return world


def own_names(role: str) -> set[str]:
    return {"owner": {"Batik Kenongo"}, "other_owner": {"Batik Lain"}}.get(role, set())


def assert_score(role: str, name: str, score: dict, reasons: list[str]) -> None:
    omzet = {"Batik Kenongo": 8_315_000, "Batik Lain": 50_000_000}[name]
    if role in SEES_ALL or name in own_names(role):
        assert score["omzetUsed"] == omzet and score["omzetSource"] == "REPORTED", (role, name, score)
        assert all(score[f] is not None for f in WITHHELD), (role, name, score)
        assert "OMZET_REPORTED" in reasons or "LOW_REPORTED_OMZET" in reasons
    else:
        assert all(score[f] is None for f in WITHHELD), (role, name, score)
        assert not OMZET_REASONS & set(reasons), (role, name, reasons)
    assert score["receivedShare"] is not None and score["activeFraction"] > 0
    assert score["rotationKey"] is None  # today's keyed order is published tomorrow, to nobody today


# ---------------------------------------------------------------- individual omzet on every path to the score


@pytest.mark.parametrize("role", ROLES)
async def test_the_score_shows_omzet_and_what_follows_from_it_to_the_owner_admins_and_analysts_only(gql, listed, role):
    world = listed
    await buy(gql, world, world.product, 1)  # the OPD buys batik: its purchase categories carry the list
    v = {"c": gid("Category", world.batik.id)}
    body = await gql(RANKING, v, token(world, role))
    if role == "anonymous":
        assert error_codes(body) == ["UNAUTHENTICATED"]
        return
    assert "errors" not in body, body
    edges = body["data"]["underSoldUmkm"]["edges"]
    assert sorted(e["umkm"]["name"] for e in edges) == ["Batik Kenongo", "Batik Lain"]
    for e in edges:
        assert_score(role, e["umkm"]["name"], e["score"], e["reasons"])
    for umkm, name in ((world.umkm, "Batik Kenongo"), (world.other_umkm, "Batik Lain")):
        check = await gql.ok(CHECK, {**v, "u": gid("Umkm", umkm.id)}, token(world, role))
        assert check["fairnessCheck"]["eligible"] is True
        assert_score(role, name, check["fairnessCheck"]["score"], check["fairnessCheck"]["reasons"])
    data = await gql.ok(PURCHASES, {"id": gid("Opd", world.opd.id)}, token(world, role))
    (pc,) = data["node"]["purchaseCategories"]
    assert len(pc["underSoldUmkm"]["edges"]) == 2
    for e in pc["underSoldUmkm"]["edges"]:
        assert_score(role, e["umkm"]["name"], e["score"], e["reasons"])


PUBLIC_ROLES = ("partner", "buyer", "treasurer", "employee", "other_owner")


async def test_inverting_the_public_fields_recovers_no_omzet_only_the_order_remains(gql, listed):
    """Batik Kenongo reports Rp1,000,000 a month, then Rp100,000,000 (the bounds of the need): every field a public
    caller reads about each UMKM is the same in both worlds. What remains is the order (the rank), at the grain of a
    bucket: here the two sellers swap places, which is what the list is for (PRIVACY.md)."""
    world = listed
    v = {"c": gid("Category", world.batik.id)}

    async def views() -> dict[str, dict]:
        out = {}
        for role in (*PUBLIC_ROLES, "analyst"):
            page = (await gql.ok(RANKING, v, token(world, role)))["underSoldUmkm"]
            rows = {
                e["umkm"]["name"]: {k: x for k, x in e.items() if k not in ("rank", "cursor")} for e in page["edges"]
            }
            out[role] = {
                "page": {k: x for k, x in page.items() if k != "edges"},
                "rows": rows,
                "order": [e["umkm"]["name"] for e in page["edges"]],
            }
        return out

    await report(world.umkm, 1_000_000)
    low = await views()
    await report(world.umkm, 100_000_000)
    high = await views()
    for role in PUBLIC_ROLES:
        assert low[role]["page"] == high[role]["page"], role
        if role == "other_owner":  # sees Batik Lain's own score, whose target share depends on the mean need
            low[role]["rows"].pop("Batik Lain"), high[role]["rows"].pop("Batik Lain")
        assert low[role]["rows"] == high[role]["rows"], role
    # the analyst's view shows the change is real: need 1 against need 0, and the order swaps
    assert low["analyst"]["rows"]["Batik Kenongo"]["score"]["need"] == 1.0
    assert high["analyst"]["rows"]["Batik Kenongo"]["score"]["need"] == 0.0
    assert low["partner"]["order"] == ["Batik Kenongo", "Batik Lain"] == high["partner"]["order"][::-1]


# ---------------------------------------------------------------- UMKM that are not VERIFIED


@pytest.mark.parametrize("role", ROLES)
async def test_fairness_check_tells_a_umkm_status_only_to_those_who_may_see_the_umkm(gql, world, role):
    sees = role in SEES_ALL or role == "other_owner"  # the pending and suspended UMKM are the other owner's
    unknown = await gql(CHECK, {"u": gid("Umkm", 999_999), "c": gid("Category", world.batik.id)}, token(world, role))
    for umkm, reason in ((world.pending_umkm, "NOT_VERIFIED"), (world.suspended_umkm, "SUSPENDED")):
        body = await gql(CHECK, {"u": gid("Umkm", umkm.id), "c": gid("Category", world.batik.id)}, token(world, role))
        node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Umkm", umkm.id)}, token(world, role))
        if role == "anonymous":
            assert error_codes(body) == ["UNAUTHENTICATED"]
        elif sees:
            assert "errors" not in body, body
            assert reason in body["data"]["fairnessCheck"]["excludedBecause"]
            assert node["data"]["node"] is not None
        else:  # as node() answers: no such UMKM, word for word as for an id that never existed
            assert node["data"]["node"] is None
            assert error_codes(body) == ["NOT_FOUND"] == error_codes(unknown)
            assert body["errors"][0]["message"] == unknown["errors"][0]["message"]
            assert body["data"] is None or body["data"].get("fairnessCheck") is None


SALES = """query($c: ID!, $f: Date!, $t: Date!, $o: SalesOrder) {
  umkmSalesRanking(categoryId: $c, periodFrom: $f, periodTo: $t, order: $o, first: 50) {
    totalCount edges { amount orders opds umkm { name status } } } }"""


@pytest.mark.parametrize("role", ROLES)
async def test_the_sales_ranking_lists_a_suspended_umkm_only_to_admins_and_analysts(gql, world, role):
    await buy(gql, world, world.other_product, 1)  # Batik Lain sells 200,000, then is suspended
    await buy(gql, world, world.product, 2)  # Batik Kenongo sells 300,000 and stays verified
    await Umkm.filter(id=world.other_umkm.id).update(status=UmkmStatus.SUSPENDED)
    v = {"c": gid("Category", world.batik.id), "f": TODAY.isoformat(), "t": TODAY.isoformat()}
    for order in ("MOST", "LEAST"):
        body = await gql(SALES, {**v, "o": order}, token(world, role))
        if role == "anonymous":
            assert error_codes(body) == ["UNAUTHENTICATED"]
            continue
        assert "errors" not in body, body
        names = [e["umkm"]["name"] for e in body["data"]["umkmSalesRanking"]["edges"]]
        if order == "MOST" and role in SEES_ALL:
            assert names == ["Batik Kenongo", "Batik Lain"]
        else:
            assert "Batik Lain" not in names and "Ditangguhkan" not in names and "Baru Daftar" not in names
            assert names == ["Batik Kenongo"], (role, order, names)


# ---------------------------------------------------------------- personal orders


SPENDING = "query($y: Int!) { opdSpending(year: $y) { opd { code } spend staffPurchases staffSpend } }"
EQUITY = """query($c: ID!, $f: Date!, $t: Date!) { equityReport(categoryId: $c, periodFrom: $f, periodTo: $t) {
  sellers purchases total } }"""


async def staff(gql, world, role: str) -> tuple:
    body = await gql(SPENDING, {"y": TODAY.year}, token(world, role))
    if "errors" in body:
        return tuple(error_codes(body))
    (row,) = [r for r in body["data"]["opdSpending"] if r["opd"]["code"] == "DISPENDIK"]
    return row["staffPurchases"], row["staffSpend"]


@pytest.mark.parametrize("role", ROLES)
async def test_staff_purchases_are_shown_for_five_employees_or_more(gql, world, role):
    await buy(gql, world, world.product, 1, token="employee")
    if role == "anonymous":
        assert await staff(gql, world, role) == ("UNAUTHENTICATED",)
        return
    assert await staff(gql, world, role) == ((1, 150_000) if role == "admin" else (None, None))
    for i in range(2, 5):  # four employees, one of them twice: still one short
        await world.user(f"employee{i}", Role.EMPLOYEE, world.opd)
        await buy(gql, world, world.product, 1, token=f"employee{i}")
    await buy(gql, world, world.product, 1, token="employee2")
    assert await staff(gql, world, role) == ((5, 750_000) if role == "admin" else (None, None))
    await world.user("employee5", Role.EMPLOYEE, world.opd)
    await buy(gql, world, world.product, 1, token="employee5")
    assert await staff(gql, world, role) == (6, 900_000)


@pytest.mark.parametrize("role", ROLES)
async def test_one_employees_purchase_is_not_in_figures_over_a_chosen_period_except_for_admins(gql, world, role):
    await buy(gql, world, world.product, 2)  # the OPD: 300,000
    await buy(gql, world, world.product, 1, token="employee")  # one employee: 150,000
    v = {"c": gid("Category", world.batik.id), "f": TODAY.isoformat(), "t": TODAY.isoformat()}
    sales = await gql(SALES, {**v, "o": "MOST"}, token(world, role))
    equity = await gql(EQUITY, v, token(world, role))
    if role == "anonymous":
        assert error_codes(sales) == error_codes(equity) == ["UNAUTHENTICATED"]
        return
    (row,) = sales["data"]["umkmSalesRanking"]["edges"]
    report = equity["data"]["equityReport"]
    if role == "admin":
        assert (row["amount"], row["orders"], report["total"], report["purchases"]) == (450_000, 2, 450_000, 2)
    else:
        assert (row["amount"], row["orders"], report["total"], report["purchases"]) == (300_000, 1, 300_000, 1)


@pytest.mark.parametrize("role", ROLES)
async def test_a_personal_order_is_seen_by_its_employee_its_seller_and_admins_only(gql, world, role):
    oid = await buy(gql, world, world.product, 1, token="employee")
    assert (await Order.get(id=from_global_id(oid)[1])).kind.value == "PERSONAL"
    node = await gql("query($id: ID!) { node(id: $id) { ... on Order { total } } }", {"id": oid}, token(world, role))
    listing = await gql("{ orders(first: 10) { totalCount } }", token=token(world, role))
    sees = role in ("employee", "owner", "admin")
    assert (node["data"]["node"] is not None) is sees, (role, node)
    if "errors" not in listing:
        assert (listing["data"]["orders"]["totalCount"] == 1) is sees, (role, listing)
    else:
        assert role in ("anonymous", "partner")


async def test_a_personal_orders_events_reach_its_employee_its_seller_and_admins_only(app, gql, world):
    hear = ("employee", "owner", "admin")
    quiet = ("analyst", "buyer", "treasurer", "other_owner")
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(subs.ws_client(app))
        sockets = {r: await stack.enter_async_context(subs.order_events(client, world.tokens[r])) for r in hear + quiet}
        v = {"p": gid("Product", world.product.id), "neededBy": subs.needed_by()}
        (order,) = (await gql.ok(subs.PLACE, v, world.tokens["employee"]))["placeOrder"]["orders"]
        for role in hear:
            assert (await subs.next_event(sockets[role]))["orderId"] == order["id"], role
        for role in quiet:
            await subs.assert_silent(sockets[role], 0.5)


# ---------------------------------------------------------------- aggregates of omzet: the subtraction attack

BASE = 2**52  # every report is BASE + 2^i with its own i: a sum tells exactly which reports it holds
SUMMARY = """query($f: String!, $t: String!, $g: OmzetGroupBy!) { omzetSummary(periodFrom: $f, periodTo: $t,
  groupBy: $g) { key reporters reports total median withheld withheldCells withheldReports } }"""


async def grid(world) -> tuple[list[str], dict[int, tuple], dict[str, set[int]]]:
    """Three months, three kecamatans, two scales, two categories. Returns the months, each report's bit (its i) with
    (month, kecamatan, scale, category), and the sets of bits of the cells withheld by construction:
    - K3: three reporters every month (under five);
    - K2's one KECIL reporter (a scale cell of one), every month;
    - K1 in the second month: one report dominates (its two largest exceed 85% of the cell).
    In the first month every scale cell but KECIL and every category cell is large: without the rule, MONTH or SCALE
    minus KECAMATAN would give K3's cell."""
    months = [shift(THIS_MONTH, -k) for k in (3, 2, 1)]
    kecs = list(await Kecamatan.all().order_by("code").limit(3))
    snack = world.snack
    layout = [("K1", kecs[0], Scale.MIKRO, world.batik)] * 8
    layout += [("K2", kecs[1], Scale.MIKRO, snack)] * 5 + [("K2", kecs[1], Scale.KECIL, snack)]
    layout += [("K3", kecs[2], Scale.MIKRO, world.batik)] * 3
    bits: dict[int, tuple] = {}
    withheld: dict[str, set[int]] = {"K3": set(), "KECIL": set(), "K1-dominated": set()}
    i = 0
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    for n, (name, kec, scale, category) in enumerate(layout):
        kel = await Kelurahan.filter(kecamatan_id=kec.id).first()
        u = await world.umkm_for(world.users["other_owner"], f"Grid {name} {n}", kelurahan=kel)
        await Umkm.filter(id=u.id).update(scale=scale, created_at=old)
        await world.product_for(u, f"Produk {n}", category=category)
        for m, month in enumerate(months):
            value = BASE + 2**i
            if name == "K1" and m == 1 and n == 0:
                value += 60 * BASE
            await OmzetReport.create(
                umkm_id=u.id,
                period=month,
                first_submitted_at=old,
                late=False,
                platform_amount=0,
                other_online_amount=0,
                offline_amount=value,
                total_amount=value,
                updated_at=old,
            )
            bits[i] = (month, name, scale.value, category.id)
            if name == "K3":
                withheld["K3"].add(i)
            if scale is Scale.KECIL:
                withheld["KECIL"].add(i)
            if name == "K1" and m == 1:
                withheld["K1-dominated"].add(i)
            i += 1
    # the world's own UMKM report nothing: only the grid is in the figures
    return months, bits, withheld


def decode(total: int, count: int) -> set[int]:
    rest = total - count * BASE
    rest %= BASE  # the dominating report carries a multiple of BASE on top
    return {i for i in range(rest.bit_length()) if rest >> i & 1}


async def test_no_two_answers_of_the_omzet_summary_recover_a_withheld_cell(gql, world):
    months, bits, withheld = await grid(world)
    hidden = set().union(*withheld.values())
    answers: list[tuple[str, set[int]]] = []
    ranges = [(a, b) for a, b in itertools.combinations_with_replacement(months, 2)]
    for group_by in ("KECAMATAN", "CATEGORY", "SCALE", "MONTH"):
        for a, b in ranges:
            rows = (await gql.ok(SUMMARY, {"f": a, "t": b, "g": group_by}, world.tokens["partner"]))["omzetSummary"]
            for r in rows:
                if r["total"] is None:
                    assert r["withheld"] and r["median"] is None
                    continue
                shown = decode(r["total"], r["reports"] - r["withheldReports"])
                assert len(shown) == r["reports"] - r["withheldReports"], r
                assert not shown & hidden, (group_by, a, b, r, shown & hidden)
                answers.append((f"{group_by} {r['key']} {a}..{b}", shown))
    assert len(answers) > 20
    # every bit that is not withheld by construction is published somewhere (the rule withholds no more than it must
    # here), and the withheld cells are counted as such
    assert set().union(*(s for _, s in answers)) == set(bits) - hidden
    # no difference of two answers is a withheld cell, or any group under five reports
    cells = [s for s in withheld.values()] + [
        {i for i in withheld[k] if bits[i][0] == m} for k in withheld for m in months
    ]
    for (na, sa), (nb, sb) in itertools.permutations(answers, 2):
        if sb < sa:
            rest = sa - sb
            assert rest not in cells and len(rest) >= 5, (na, nb, rest)
    # the direct questions show the withheld cells as withheld
    first = months[0]
    kec = await gql.ok(SUMMARY, {"f": first, "t": months[-1], "g": "KECAMATAN"}, world.tokens["buyer"])
    k3 = [r for r in kec["omzetSummary"] if r["reporters"] == 3]
    assert len(k3) == 1 and k3[0]["withheld"] and k3[0]["withheldCells"] == 3 and k3[0]["withheldReports"] == 9
    k1 = next(r for r in kec["omzetSummary"] if r["reporters"] == 8)
    assert k1["withheldCells"] == 1 and k1["withheldReports"] == 8 and k1["median"] is None  # 8 reporters < 10
    scales = await gql.ok(SUMMARY, {"f": first, "t": months[-1], "g": "SCALE"}, world.tokens["buyer"])
    mikro = next(r for r in scales["omzetSummary"] if r["key"] == "MIKRO")
    assert mikro["median"] is not None and mikro["median"] % 100_000 == 0  # 13 reporters, rounded


@pytest.mark.parametrize("role", ROLES)
async def test_every_role_reads_the_same_omzet_summary_and_anonymous_none(gql, world, role):
    months, _bits, _withheld = await grid(world)
    v = {"f": months[0], "t": months[-1], "g": "SCALE"}
    body = await gql(SUMMARY, v, token(world, role))
    if role == "anonymous":
        assert error_codes(body) == ["UNAUTHENTICATED"]
        return
    assert body["data"] == await gql.ok(SUMMARY, v, world.tokens["partner"])
    kecil = next(r for r in body["data"]["omzetSummary"] if r["key"] == "KECIL")
    assert kecil["withheld"] and kecil["total"] is None and kecil["withheldCells"] == 3
