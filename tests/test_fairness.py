"""The under-sold ranking (docs/FAIRNESS.md): order, rotation, amortisation, need, eligibility, explanation."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest

from models.base import Scale, UmkmStatus
from models.catalog import Product
from models.fairness import FairnessDaySecret
from models.omzet import OmzetReport
from models.registry import Kelurahan, Opd, Umkm, UmkmServedKecamatan
from resolvers import fairness_policy, fairness_stats
from resolvers.fairness_policy import POLICY, active_fraction, need
from resolvers.invalidation import invalidate
from resolvers.omzet import shift
from tests.conftest import error_codes, gid

JAKARTA = ZoneInfo("Asia/Jakarta")
AS_OF = dt.date(2026, 6, 15)
GOLDEN_SECRET = "00" * 32
AS_OF_DT = dt.datetime(2026, 6, 15, 12, tzinfo=JAKARTA)

RANKING = """
query($c: ID!, $o: ID, $q: Int, $d: Date, $first: Int, $after: String) {
  underSoldUmkm(categoryId: $c, opdId: $o, quantity: $q, asOf: $d, first: $first, after: $after) {
    totalCount eligibleCount medianPrice policyVersion
    edges { cursor rank reasons umkm { name } cheapestEligibleProduct { name price }
            score { deficit targetShare receivedShare received activeFraction need omzetUsed omzetSource bucket
                    rotationKey policyVersion } }
    pageInfo { hasNextPage endCursor }
  }
}"""


class City:
    """Six batik UMKM verified long ago, each with one in-band product; helpers to add sales and reports."""

    def __init__(self, world):
        self.w = world
        self.umkms: dict[str, Umkm] = {}
        self.products: dict[str, Product] = {}

    async def add(
        self, name: str, *, verified_days: int = 400, price: int = 150_000, kelurahan=None, **product
    ) -> Umkm:
        u = await self.w.umkm_for(self.w.users["other_owner"], name, kelurahan=kelurahan)
        at = AS_OF_DT - dt.timedelta(days=verified_days)
        await Umkm.filter(id=u.id).update(verified_at=at, created_at=at)
        self.umkms[name] = u
        self.products[name] = await self.w.product_for(u, f"Batik {name}", price=price, **product)
        return u

    async def sale(self, name: str, amount: int, days_ago: float) -> None:
        await fairness_stats.record_sale(
            self.umkms[name].id, {self.w.batik.id: amount}, AS_OF_DT - dt.timedelta(days=days_ago)
        )

    async def report(self, name: str, total: int, months: int = 3) -> None:
        for k in range(1, months + 1):
            await OmzetReport.create(
                umkm_id=self.umkms[name].id,
                period=shift("2026-06", -k),
                first_submitted_at=AS_OF_DT,
                late=False,
                platform_amount=0,
                other_online_amount=0,
                offline_amount=total,
                total_amount=total,
                updated_at=AS_OF_DT,
            )


@pytest.fixture(autouse=True)
def today_is_as_of(clock):
    """The server's today is AS_OF: the list of the day every test asks for is today's (stored) list."""
    clock.at(AS_OF_DT)
    return clock


async def token_at(world, name: str, when: dt.datetime) -> str:
    """A fresh token for the world's user `name`, issued at `when` (the server's clock moved far ahead)."""
    from types import SimpleNamespace

    from resolvers import accounts

    ctx = SimpleNamespace(settings=world.settings, clock=SimpleNamespace(now=lambda: when))
    return await accounts.issue_token(ctx, world.users[name])


@pytest.fixture
async def city(world):
    # the world's own batik sellers were verified "now", after AS_OF: take them out of this category's market
    await Product.filter(umkm_id__in=[world.umkm.id, world.other_umkm.id]).update(active=False)
    c = City(world)
    for name in ("Arjuna", "Bima", "Citra", "Dewi", "Eka", "Fajar"):
        await c.add(name)
    return c


async def ranking(gql, world, token="analyst", **v) -> dict:
    """The list as an analyst reads it: every score component (a buyer's view is in tests/test_privacy.py)."""
    variables = {"c": gid("Category", world.batik.id), "d": AS_OF.isoformat(), "first": 100}
    variables.update(v)
    return (await gql.ok(RANKING, variables, world.tokens[token]))["underSoldUmkm"]


def names(r: dict) -> list[str]:
    return [e["umkm"]["name"] for e in r["edges"]]


def row(r: dict, name: str) -> dict:
    return next(e for e in r["edges"] if e["umkm"]["name"] == name)


async def test_never_sold_umkm_rank_above_those_that_sold_with_reasons(gql, world, city):
    await city.sale("Arjuna", 10_000_000, 10)
    await city.sale("Bima", 1_000_000, 10)  # below the average of 11/6 million: below its fair share
    r = await ranking(gql, world)
    assert r["eligibleCount"] == 6 and r["totalCount"] == 6
    order = names(r)
    assert set(order[:4]) == {"Citra", "Dewi", "Eka", "Fajar"}
    assert order[4:] == ["Bima", "Arjuna"]
    top = row(r, "Citra")
    assert "NEVER_SOLD" in top["reasons"] and "PRICE_IN_BAND" in top["reasons"] and "NO_OMZET_REPORT" in top["reasons"]
    assert top["score"]["receivedShare"] == 0 and top["score"]["deficit"] == pytest.approx(1.0)
    assert top["score"]["policyVersion"] == POLICY.version == r["policyVersion"]
    assert top["cheapestEligibleProduct"] == {"name": "Batik Citra", "price": 150_000}
    # the shares: Σ received shares = |E| (they are relative to the average), target shares average 1
    shares = [e["score"]["receivedShare"] for e in r["edges"]]
    assert sum(shares) == pytest.approx(6.0)
    assert sum(e["score"]["targetShare"] for e in r["edges"]) == pytest.approx(6.0)
    assert "BELOW_FAIR_SHARE" in row(r, "Bima")["reasons"]
    assert "AT_OR_ABOVE_FAIR_SHARE" in row(r, "Arjuna")["reasons"]


async def test_the_same_data_and_date_give_the_same_list_and_cursors_page_it(gql, world, city):
    await city.sale("Arjuna", 1_000_000, 30)
    a = await ranking(gql, world)
    b = await ranking(gql, world)
    assert a == b
    first = await ranking(gql, world, first=4)
    rest = await ranking(gql, world, first=4, after=first["pageInfo"]["endCursor"])
    assert names(first) + names(rest) == names(a) and not rest["pageInfo"]["hasNextPage"]
    assert [e["rank"] for e in first["edges"] + rest["edges"]] == list(range(1, 7))


async def test_the_golden_list_is_identical_on_every_engine(gql, world, city):
    """Fixed data and date: this exact list (names, buckets, rotation keys) on SQLite and on PostgreSQL."""
    await city.sale("Arjuna", 9_000_000, 20)
    await city.sale("Bima", 1_500_000, 200)
    await city.sale("Citra", 700_000, 400)
    await city.report("Dewi", 2_000_000)
    await city.report("Eka", 90_000_000)
    sold_days_ago = {"Arjuna": 20, "Bima": 200, "Citra": 400}
    await FairnessDaySecret.create(day=AS_OF, secret=GOLDEN_SECRET)  # the day's key, fixed for the golden list
    r = await ranking(gql, world)
    got = [(e["umkm"]["name"], e["score"]["bucket"], round(e["score"]["deficit"], 6)) for e in r["edges"]]
    assert got == [
        ("Dewi", 5, 1.328187),
        ("Fajar", 3, 0.93223),
        ("Eka", 3, 0.942894),
        ("Citra", 3, 0.83415),
        ("Bima", 1, 0.478236),
        ("Arjuna", -19, -4.515697),
    ]
    ids = {n: u.id for n, u in city.umkms.items()}
    assert [g[0] for g in got][:1] == ["Dewi"]  # the neediest never-seller leads
    assert got == sorted(
        got,
        # inside a bucket the least recently awarded first (never, then the oldest sale), then the keyed order
        key=lambda g: (
            -g[1],
            -sold_days_ago.get(g[0], 10_000),
            fairness_policy.rotation_key(GOLDEN_SECRET, world.batik.id, ids[g[0]]),
        ),
    )
    # and the figures themselves are the policy's formulas
    a = active_fraction(400)
    dewi = row(r, "Dewi")["score"]
    assert dewi["activeFraction"] == pytest.approx(a) and dewi["need"] == pytest.approx(need(2_000_000))
    assert dewi["omzetUsed"] == 2_000_000 and dewi["omzetSource"] == "REPORTED"


async def test_rotation_reorders_only_within_buckets_across_days(gql, world, city, clock):
    await city.sale("Arjuna", 5_000_000, 5)
    await city.sale("Bima", 5_000_000, 5)
    top = ("Citra", "Dewi", "Eka", "Fajar")
    # the days' secrets fixed beforehand (random ones gave one seller the top every day about once in 4,096 runs);
    # the list then follows them: each day's top bucket in that day's keyed order
    keyed = []
    for k in range(7):
        secret = hashlib.sha256(f"rotation day {k}".encode()).hexdigest()
        await FairnessDaySecret.create(day=AS_OF + dt.timedelta(days=k), secret=secret)
        keys = {n: fairness_policy.rotation_key(secret, world.batik.id, city.umkms[n].id) for n in top}
        keyed.append(sorted(top, key=lambda n, keys=keys: (keys[n], city.umkms[n].id)))
    assert len({o[0] for o in keyed}) > 1  # these secrets put different sellers first
    orders, buckets = [], []
    for k in range(7):
        clock.at(AS_OF_DT + dt.timedelta(days=k))  # each day's list, read on that day
        r = await ranking(gql, world, d=(AS_OF + dt.timedelta(days=k)).isoformat())
        orders.append(names(r))
        buckets.append({e["umkm"]["name"]: e["score"]["bucket"] for e in r["edges"]})
    for order, b, expected in zip(orders, buckets, keyed, strict=True):
        assert [b[n] for n in order] == sorted((b[n] for n in order), reverse=True)
        assert order[:4] == expected  # the top bucket keeps its members, in the day's keyed order
    assert len({o[0] for o in orders}) > 1  # …so they take turns at the top


async def test_a_sale_drops_a_umkm_out_of_the_top_bucket_and_decay_brings_it_back(gql, world, city, clock):
    before = await ranking(gql, world)
    top_bucket = row(before, "Citra")["score"]["bucket"]
    await city.sale("Citra", 3_000_000, 1)
    after = await ranking(gql, world)
    assert row(after, "Citra")["score"]["bucket"] < top_bucket
    assert names(after)[-1] == "Citra"
    # others sell later, the Citra sale decays: two years on it is back among the top
    later = AS_OF + dt.timedelta(days=730)
    await city.sale("Dewi", 3_000_000, -700)  # 700 days after AS_OF
    clock.at(AS_OF_DT + dt.timedelta(days=730))  # read two years on, on that day (the first token has expired)
    world.tokens["analyst"] = await token_at(world, "analyst", AS_OF_DT + dt.timedelta(days=730))
    far = await ranking(gql, world, d=later.isoformat())
    assert row(far, "Citra")["score"]["bucket"] > row(far, "Dewi")["score"]["bucket"]
    assert row(far, "Citra")["score"]["received"] < 3_000_000 * 2 ** (-700 / 180) * 1.01


async def test_need_orders_low_reporters_first_and_no_report_gets_no_bonus(gql, world, city):
    await city.report("Arjuna", 1_500_000)  # very low omzet: need near 1
    await city.report("Bima", 30_000_000)  # middling
    await city.report("Citra", 500_000_000)  # high: need 0
    # Dewi, Eka, Fajar never report
    r = await ranking(gql, world)
    n = {e["umkm"]["name"]: e["score"]["need"] for e in r["edges"]}
    assert n["Arjuna"] > n["Bima"] > n["Citra"] == 0
    assert n["Dewi"] == n["Eka"] == n["Fajar"] == 0
    d = {e["umkm"]["name"]: e["score"]["deficit"] for e in r["edges"]}
    assert d["Arjuna"] > d["Bima"] > d["Citra"]
    assert d["Dewi"] == pytest.approx(d["Citra"])  # not reporting never helps
    assert names(r)[0] == "Arjuna"
    assert "LOW_REPORTED_OMZET" in row(r, "Arjuna")["reasons"]


async def test_a_newcomer_ranks_below_long_time_zero_sellers(gql, world, city):
    await city.add("Gita", verified_days=2)
    r = await ranking(gql, world)
    assert names(r)[-1] == "Gita"
    g = row(r, "Gita")
    assert "NEWCOMER" in g["reasons"] and g["score"]["activeFraction"] < 0.1
    assert all(row(r, x)["score"]["deficit"] > g["score"]["deficit"] for x in ("Arjuna", "Fajar"))


async def test_fair_share_does_not_depend_on_the_opd_asking(gql, world, city):
    await city.sale("Arjuna", 4_000_000, 15)
    kel2 = await Kelurahan.filter(kecamatan_id=world.kecamatan2.id).first()
    await city.add("Hadi", kelurahan=kel2)  # serves only the second kecamatan
    near = await ranking(gql, world, o=gid("Opd", world.opd.id))
    far = await ranking(gql, world, o=gid("Opd", world.opd2.id))
    assert "Hadi" not in names(near) and names(far) == ["Hadi"]
    common = set(names(near)) & set(names(far)) | {"Hadi"}
    for name in common & set(names(near)) & set(names(far)):
        assert row(near, name)["score"] == row(far, name)["score"]
    everyone = await ranking(gql, world)
    assert row(everyone, "Hadi")["score"] == row(far, "Hadi")["score"]
    assert "SERVES_OPD_KECAMATAN" in row(far, "Hadi")["reasons"]


CHECK = """query($u: ID!, $c: ID!, $o: ID, $q: Int, $d: Date) {
  fairnessCheck(umkmId: $u, categoryId: $c, opdId: $o, quantity: $q, asOf: $d) { eligible rank reasons excludedBecause }
}"""


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("pending", "NOT_VERIFIED"),
        ("suspended", "SUSPENDED"),
        ("besar", "SCALE_BESAR"),
        ("no_stock", "NO_STOCK"),
        ("price_out_of_band", "PRICE_OUT_OF_BAND"),
        ("kecamatan_not_served", "KECAMATAN_NOT_SERVED"),
        ("capacity_short", "CAPACITY_SHORT"),
        ("no_product", "NO_PRODUCT_IN_CATEGORY"),
    ],
)
async def test_each_eligibility_filter_removes_a_umkm_with_its_reason(gql, world, city, case, reason):
    u = city.umkms["Fajar"]
    variables = {"u": gid("Umkm", u.id), "c": gid("Category", world.batik.id), "d": AS_OF.isoformat()}
    before = (await gql.ok(CHECK, variables, world.tokens["analyst"]))["fairnessCheck"]
    assert before["eligible"] and before["rank"] >= 1
    if case == "pending":
        await Umkm.filter(id=u.id).update(status=UmkmStatus.PENDING)
    elif case == "suspended":
        await Umkm.filter(id=u.id).update(status=UmkmStatus.SUSPENDED)
    elif case == "besar":
        await Umkm.filter(id=u.id).update(scale=Scale.BESAR)
    elif case == "no_stock":
        await Product.filter(umkm_id=u.id).update(stock=0)
    elif case == "price_out_of_band":
        await Product.filter(umkm_id=u.id).update(price=400_000)  # median stays 150,000: band 90,000–195,000
    elif case == "kecamatan_not_served":
        kel2 = await Kelurahan.filter(kecamatan_id=world.kecamatan2.id).first()
        await Umkm.filter(id=u.id).update(kelurahan_id=kel2.id, kecamatan_id=world.kecamatan2.id)
        variables["o"] = gid("Opd", world.opd.id)
    elif case == "capacity_short":
        variables["q"] = 51  # stock is 50
    elif case == "no_product":
        await Product.filter(umkm_id=u.id).update(category_id=world.snack.id)
    await invalidate()  # written behind the API's back: say so, as `pasar fairness rebuild` does
    after = (await gql.ok(CHECK, variables, world.tokens["analyst"]))["fairnessCheck"]
    assert after["eligible"] is False and after["rank"] is None
    assert reason in after["excludedBecause"], after
    listed = await ranking(gql, world, o=variables.get("o"), q=variables.get("q"))
    assert "Fajar" not in names(listed)


async def test_declared_and_city_wide_service_count_as_serving(gql, world, city):
    kel2 = await Kelurahan.filter(kecamatan_id=world.kecamatan2.id).first()
    far = await city.add("Jauh", kelurahan=kel2)
    wide = await city.add("Keliling", kelurahan=kel2)
    await Umkm.filter(id=wide.id).update(serves_city_wide=True)
    r = await ranking(gql, world, o=gid("Opd", world.opd.id))
    assert "Keliling" in names(r) and "Jauh" not in names(r)
    await UmkmServedKecamatan.create(umkm_id=far.id, kecamatan_id=world.kecamatan.id)
    assert "Jauh" in names(await ranking(gql, world, o=gid("Opd", world.opd.id)))


async def test_made_to_order_capacity_counts_for_quantity(gql, world, city):
    await Product.filter(id=city.products["Eka"].id).update(made_to_order=True, monthly_capacity=200, stock=0)
    r = await ranking(gql, world, q=120)
    assert names(r) == ["Eka"] and "CAPACITY_OK" in r["edges"][0]["reasons"]


async def test_the_ranking_never_reads_the_order_tables(gql, world, city):
    await city.sale("Arjuna", 1_000_000, 3)
    variables = {"c": gid("Category", world.batik.id), "o": gid("Opd", world.opd.id), "q": 5, "d": AS_OF.isoformat()}
    body = (await gql.raw(RANKING, variables, token=world.tokens["buyer"])).json()
    assert "errors" not in body, body
    statements = body["extensions"]["sql"]
    assert statements
    assert not [s for s in statements if '"order"' in s.lower() or "order_item" in s.lower()], statements


async def test_anonymous_callers_may_not_see_the_list_but_partners_may(gql, world, city):
    body = await gql(RANKING, {"c": gid("Category", world.batik.id)})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert len((await ranking(gql, world, token="partner"))["edges"]) == 6


async def test_an_unknown_category_is_a_clear_error(gql, world):
    body = await gql(RANKING, {"c": gid("Category", 999_999)}, world.tokens["buyer"])
    assert error_codes(body) == ["NOT_FOUND"]


__all__ = ["Opd"]
