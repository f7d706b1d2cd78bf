"""Monthly omzet: reports, revisions, reconciliation with platform sales, scale, compliance, privacy."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from models.base import Role, UmkmStatus
from models.omzet import OmzetReport, OmzetRevision, UmkmMonthlySales
from models.registry import Umkm
from resolvers.omzet import shift
from resolvers.sales import rebuild_monthly_sales
from tests.conftest import error_codes, gid

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = dt.datetime.now(JAKARTA)
THIS_MONTH = f"{NOW.year:04d}-{NOW.month:02d}"
LAST_MONTH = shift(THIS_MONTH, -1)

SUBMIT = """
mutation($input: SubmitOmzetReportInput!) {
  submitOmzetReport(input: $input) {
    report { id period platformAmount otherOnlineAmount offlineAmount totalAmount workers late revisionCount }
    errors { field code message }
  }
}"""


def wib(period: str, day: int, hour: int, minute: int = 0) -> dt.datetime:
    y, m = (int(x) for x in period.split("-"))
    return dt.datetime(y, m, day, hour, minute, tzinfo=JAKARTA).astimezone(dt.UTC)


def last_day(period: str) -> int:
    y, m = (int(x) for x in shift(period, 1).split("-"))
    return (dt.date(y, m, 1) - dt.timedelta(days=1)).day


async def make_old(*umkms: Umkm, months: int = 24) -> None:
    """Registered long ago, so past months can be reported."""
    for u in umkms:
        await Umkm.filter(id=u.id).update(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31 * months))


async def submit(gql, token, umkm, period, **amounts) -> dict:
    body = await gql(SUBMIT, {"input": {"umkmId": gid("Umkm", umkm.id), "period": period, **amounts}}, token)
    assert "errors" not in body, body
    return body["data"]["submitOmzetReport"]


async def test_submit_and_correct_twice_keeps_three_revisions_with_authors(gql, world):
    await make_old(world.umkm)
    t = world.tokens
    first = await submit(gql, t["owner"], world.umkm, LAST_MONTH, offlineAmount=5_000_000, workers=2)
    assert first["errors"] == [] and first["report"]["revisionCount"] == 1
    await submit(gql, t["owner"], world.umkm, LAST_MONTH, offlineAmount=6_000_000, otherOnlineAmount=500_000)
    third = await submit(gql, t["admin"], world.umkm, LAST_MONTH, offlineAmount=6_100_000, note="koreksi dinas")
    assert third["report"]["revisionCount"] == 3
    data = await gql.ok(
        """query($u: ID!) { omzetReports(filter: {umkmId: $u}) { edges { node {
             period totalAmount offlineAmount note
             revisions { number offlineAmount otherOnlineAmount totalAmount submittedBy onBehalf at } } } } }""",
        {"u": gid("Umkm", world.umkm.id)},
        t["owner"],
    )
    report = data["omzetReports"]["edges"][0]["node"]
    revs = report["revisions"]
    assert [r["number"] for r in revs] == [1, 2, 3]
    assert [r["offlineAmount"] for r in revs] == [5_000_000, 6_000_000, 6_100_000]
    assert [r["submittedBy"] for r in revs] == [gid("User", world.users[n].id) for n in ("owner", "owner", "admin")]
    assert [r["onBehalf"] for r in revs] == [False, False, True]
    # the third correction sent only the offline amount: the other online 500,000 of the second stays
    assert [r["otherOnlineAmount"] for r in revs] == [0, 500_000, 500_000]
    assert report["totalAmount"] == revs[-1]["totalAmount"] == 6_600_000
    assert report["offlineAmount"] == revs[-1]["offlineAmount"] and report["note"] == "koreksi dinas"
    assert await OmzetRevision.all().count() == 3 and await OmzetReport.all().count() == 1


async def test_a_correction_keeps_the_amounts_it_does_not_send(gql, world):
    await make_old(world.umkm)
    t = world.tokens["owner"]
    await submit(gql, t, world.umkm, LAST_MONTH, offlineAmount=2_000_000, otherOnlineAmount=500_000, workers=3)
    only_offline = (await submit(gql, t, world.umkm, LAST_MONTH, offlineAmount=2_500_000))["report"]
    assert only_offline["otherOnlineAmount"] == 500_000 and only_offline["workers"] == 3
    assert only_offline["totalAmount"] == 3_000_000
    only_other = (await submit(gql, t, world.umkm, LAST_MONTH, otherOnlineAmount=0))["report"]
    assert (only_other["offlineAmount"], only_other["otherOnlineAmount"], only_other["totalAmount"]) == (
        2_500_000,
        0,
        2_500_000,
    )
    assert only_other["revisionCount"] == 3
    # a first report still needs an amount
    payload = await submit(gql, t, world.umkm, shift(LAST_MONTH, -1), otherOnlineAmount=100_000)
    assert payload["report"] is None and [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("offlineAmount", "REQUIRED")
    ]


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("current_month", "period", "PERIOD_NOT_FINISHED"),
        ("future_month", "period", "PERIOD_NOT_FINISHED"),
        ("bad_period", "period", "INVALID_PERIOD"),
        ("before_umkm_existed", "period", "BEFORE_UMKM_EXISTED"),
        ("negative_offline", "offlineAmount", "NEGATIVE"),
        ("absurd_offline", "offlineAmount", "TOO_LARGE"),
        ("negative_other_online", "otherOnlineAmount", "NEGATIVE"),
        ("total_below_platform", "totalAmount", "TOTAL_BELOW_PLATFORM"),
        ("negative_workers", "workers", "TOO_SMALL"),
    ],
)
async def test_bad_reports_are_payload_errors_and_store_nothing(gql, world, case, field, code):
    await make_old(world.umkm)
    await UmkmMonthlySales.create(umkm_id=world.umkm.id, period=LAST_MONTH, amount=4_000_000, orders=2)
    inputs = {
        "current_month": {"period": THIS_MONTH, "offlineAmount": 1},
        "future_month": {"period": shift(THIS_MONTH, 2), "offlineAmount": 1},
        "bad_period": {"period": "2026-13", "offlineAmount": 1},
        "before_umkm_existed": {"period": shift(THIS_MONTH, -30), "offlineAmount": 1},
        "negative_offline": {"period": LAST_MONTH, "offlineAmount": -5},
        "absurd_offline": {"period": LAST_MONTH, "offlineAmount": 100_000_000_001},
        "negative_other_online": {"period": LAST_MONTH, "offlineAmount": 1, "otherOnlineAmount": -1},
        "total_below_platform": {"period": LAST_MONTH, "totalAmount": 3_999_999},
        "negative_workers": {"period": LAST_MONTH, "offlineAmount": 1, "workers": -1},
    }[case]
    period = inputs.pop("period")
    payload = await submit(gql, world.tokens["owner"], world.umkm, period, **inputs)
    assert payload["report"] is None
    assert (payload["errors"][0]["field"], payload["errors"][0]["code"]) == (field, code), payload
    if case == "total_below_platform":
        assert "3,999,999" in payload["errors"][0]["message"] and "4,000,000" in payload["errors"][0]["message"]
    assert await OmzetReport.all().count() == 0 and await OmzetRevision.all().count() == 0


async def test_total_given_splits_into_channels_around_the_platform_figure(gql, world):
    await make_old(world.umkm)
    await UmkmMonthlySales.create(umkm_id=world.umkm.id, period=LAST_MONTH, amount=4_000_000, orders=2)
    payload = await submit(
        gql, world.tokens["owner"], world.umkm, LAST_MONTH, totalAmount=10_000_000, otherOnlineAmount=1_000_000
    )
    r = payload["report"]
    assert (r["platformAmount"], r["otherOnlineAmount"], r["offlineAmount"], r["totalAmount"]) == (
        4_000_000,
        1_000_000,
        5_000_000,
        10_000_000,
    )


PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orders { id } errors { code field } } }"""


async def deliver_at(gql, world, clock, when: dt.datetime, quantity: int) -> None:
    """Place, accept, ship and confirm an order with the server's clock at `when` (UTC)."""
    clock.at(when - dt.timedelta(days=3))
    needed = (when.astimezone(JAKARTA).date()).isoformat()
    body = await gql(
        PLACE,
        {
            "input": {
                "items": [{"productId": gid("Product", world.product.id), "quantity": quantity}],
                "neededBy": needed,
                "deliveryAddress": "Balai Kota",
            }
        },
        world.tokens["buyer"],
    )
    oid = body["data"]["placeOrder"]["orders"][0]["id"]
    for doc, token, extra in (
        ("acceptOrder(input: {id: $id})", "owner", {}),
        ("shipOrder(input: {id: $id})", "owner", {}),
    ):
        await gql.ok(
            f"mutation($id: ID!) {{ {doc} {{ errors {{ code }} }} }}", {"id": oid, **extra}, world.tokens[token]
        )
    clock.at(when)
    data = await gql.ok(
        'mutation($id: ID!) { confirmDelivery(input: {id: $id, receivedBy: "Sri"}) { order { status } errors { code } } }',
        {"id": oid},
        world.tokens["buyer"],
    )
    assert data["confirmDelivery"]["order"]["status"] == "DELIVERED", data


async def test_platform_figure_counts_sales_by_the_jakarta_month_of_delivery(gql, world, clock):
    await make_old(world.umkm)
    month = shift(THIS_MONTH, -2)
    following = shift(month, 1)
    await deliver_at(gql, world, clock, wib(month, last_day(month), 23, 30), quantity=2)  # 23:30 WIB on the last day
    await deliver_at(gql, world, clock, wib(following, 1, 0, 30), quantity=3)  # 00:30 WIB on the 1st
    clock.at(dt.datetime.now(dt.UTC))
    q = """query($u: ID!, $p: String!) { omzetDraft(umkmId: $u, period: $p) { platformAmount platformOrders } }"""
    u = gid("Umkm", world.umkm.id)
    first = (await gql.ok(q, {"u": u, "p": month}, world.tokens["owner"]))["omzetDraft"]
    second = (await gql.ok(q, {"u": u, "p": following}, world.tokens["owner"]))["omzetDraft"]
    assert first == {"platformAmount": 2 * 150_000, "platformOrders": 1}
    assert second == {"platformAmount": 3 * 150_000, "platformOrders": 1}
    report = await submit(gql, world.tokens["owner"], world.umkm, month, offlineAmount=1_000_000)
    assert report["report"]["platformAmount"] == 300_000 and report["report"]["totalAmount"] == 1_300_000
    drift = await rebuild_monthly_sales(fix=False)
    assert drift.rows_differing == 0 and drift.rows_checked == 2


async def test_rebuild_finds_and_repairs_drift(world):
    await UmkmMonthlySales.create(umkm_id=world.umkm.id, period=LAST_MONTH, amount=999, orders=1)
    drift = await rebuild_monthly_sales(fix=True)
    assert drift.rows_differing == 1 and drift.examples[0][2:] == (999, 0)
    assert await UmkmMonthlySales.all().count() == 0
    assert (await rebuild_monthly_sales(fix=False)).rows_differing == 0


async def test_compliance_counts_on_time_late_and_missing_by_kecamatan(gql, world, clock):
    # Only these ten are expected to report: the world's own UMKM are registered this month, after the period.
    period = shift(THIS_MONTH, -2)
    owner = world.users["owner"]
    ten = [await world.umkm_for(owner, f"Pelapor {i}") for i in range(10)]
    await make_old(*ten)
    # the owner's principal lists the UMKM per request, so the token covers all ten
    y, m = (int(x) for x in shift(period, 1).split("-"))
    on_time_at = dt.datetime(y, m, 10, 20, 0, tzinfo=JAKARTA).astimezone(dt.UTC)  # the 10th, evening: on time
    late_at = dt.datetime(y, m, 11, 0, 5, tzinfo=JAKARTA).astimezone(dt.UTC)  # five past midnight on the 11th
    for i, u in enumerate(ten[:8]):
        clock.at(on_time_at if i < 6 else late_at)
        assert (await submit(gql, world.tokens["owner"], u, period, offlineAmount=1_000_000))["errors"] == []
    clock.at(dt.datetime.now(dt.UTC))
    # a late correction of an on-time report stays on time: judged by the first submission
    await submit(gql, world.tokens["owner"], ten[0], period, offlineAmount=2_000_000)
    data = await gql.ok(
        """query($p: String!) { omzetCompliance(period: $p) { expected onTime late missing
             byKecamatan { kecamatan { name } expected onTime late missing }
             missingList: umkms(status: MISSING) { edges { node { name } } }
             lateList: umkms(status: LATE) { totalCount } } }""",
        {"p": period},
        world.tokens["analyst"],
    )
    c = data["omzetCompliance"]
    assert (c["expected"], c["onTime"], c["late"], c["missing"]) == (10, 6, 2, 2)
    assert c["byKecamatan"] == [
        {"kecamatan": {"name": world.kecamatan.name}, "expected": 10, "onTime": 6, "late": 2, "missing": 2}
    ]
    assert sorted(e["node"]["name"] for e in c["missingList"]["edges"]) == ["Pelapor 8", "Pelapor 9"]
    assert c["lateList"]["totalCount"] == 2
    # streak: ten[0] reported one month in a row, ending two months ago, so no streak as of now
    body = await gql.ok(
        "query($id: ID!) { node(id: $id) { ... on Umkm { omzetStreak } } }",
        {"id": gid("Umkm", ten[0].id)},
        world.tokens["owner"],
    )
    assert body["node"]["omzetStreak"] == 0


async def test_streak_counts_months_in_a_row(gql, world):
    await make_old(world.umkm)
    for k in range(1, 5):  # the four months before this one
        await submit(gql, world.tokens["owner"], world.umkm, shift(THIS_MONTH, -k), offlineAmount=1_000_000)
    await submit(gql, world.tokens["owner"], world.umkm, shift(THIS_MONTH, -6), offlineAmount=1_000_000)
    body = await gql.ok(
        "query($id: ID!) { node(id: $id) { ... on Umkm { omzetStreak } } }",
        {"id": gid("Umkm", world.umkm.id)},
        world.tokens["owner"],
    )
    assert body["node"]["omzetStreak"] == 4


@pytest.mark.parametrize("who", ["other_owner", "buyer", "partner", "employee", "treasurer"])
async def test_others_cannot_read_an_individual_report(gql, world, who):
    await make_old(world.umkm)
    report = (await submit(gql, world.tokens["owner"], world.umkm, LAST_MONTH, offlineAmount=1_000_000))["report"]
    body = await gql("{ omzetReports { edges { node { totalAmount } } } }", token=world.tokens[who])
    if who == "other_owner":  # an owner may list reports, but sees only their own
        assert body["data"]["omzetReports"]["edges"] == []
    else:
        assert error_codes(body) == ["FORBIDDEN"]
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": report["id"]}, world.tokens[who])
    assert node["data"]["node"] is None
    draft = await gql(
        "query($u: ID!, $p: String!) { omzetDraft(umkmId: $u, period: $p) { platformAmount } }",
        {"u": gid("Umkm", world.umkm.id), "p": LAST_MONTH},
        world.tokens[who],
    )
    assert error_codes(draft) == ["FORBIDDEN"]


async def test_analyst_reads_reports_and_anonymous_cannot(gql, world):
    await make_old(world.umkm)
    await submit(gql, world.tokens["owner"], world.umkm, LAST_MONTH, offlineAmount=1_000_000)
    data = await gql.ok("{ omzetReports { totalCount } }", token=world.tokens["analyst"])
    assert data["omzetReports"]["totalCount"] == 1
    assert error_codes(await gql("{ omzetReports { totalCount } }")) == ["UNAUTHENTICATED"]


async def test_summary_withholds_cells_under_five_umkm(gql, world):
    owner = world.users["owner"]
    five = [await world.umkm_for(owner, f"Lima {i}") for i in range(5)]
    await make_old(*five, world.other_umkm)
    for i, u in enumerate(five):
        await submit(gql, world.tokens["owner"], u, LAST_MONTH, offlineAmount=(i + 1) * 1_000_000)
    await Umkm.filter(id=five[0].id).update(scale="MIKRO")
    await submit(gql, world.tokens["other_owner"], world.other_umkm, LAST_MONTH, offlineAmount=7_000_000)
    q = """query($f: String!, $t: String!, $g: OmzetGroupBy!) { omzetSummary(periodFrom: $f, periodTo: $t, groupBy: $g) {
             key label reporters reports total median platformShare withheld withheldCells withheldReports } }"""
    data = await gql.ok(q, {"f": LAST_MONTH, "t": LAST_MONTH, "g": "KECAMATAN"}, world.tokens["partner"])
    (group,) = data["omzetSummary"]
    assert group["reporters"] == 6 and group["withheld"] is False
    # Batik Lain is the only reporter selling batik: its category cell is withheld, so its report leaves every
    # grouping; the median needs 10 reporters (PRIVACY.md)
    assert group["total"] == 15_000_000 and group["median"] is None and group["platformShare"] == 0
    assert (group["withheldCells"], group["withheldReports"]) == (0, 1)
    month = (await gql.ok(q, {"f": LAST_MONTH, "t": LAST_MONTH, "g": "MONTH"}, world.tokens["buyer"]))["omzetSummary"]
    assert [g["key"] for g in month] == [LAST_MONTH]
    await Umkm.filter(id__in=[u.id for u in five[:2]]).update(scale="KECIL")
    scales = (await gql.ok(q, {"f": LAST_MONTH, "t": LAST_MONTH, "g": "SCALE"}, world.tokens["buyer"]))["omzetSummary"]
    kecil = next(g for g in scales if g["key"] == "KECIL")
    assert kecil["withheld"] is True and kecil["total"] is None and kecil["median"] is None and kecil["reporters"] == 2
    assert kecil["withheldCells"] == 1
    # the three MIKRO reports left are a cell under five as well: nothing of the month is shown in any grouping
    for g in ("SCALE", "KECAMATAN", "MONTH"):
        rows = (await gql.ok(q, {"f": LAST_MONTH, "t": LAST_MONTH, "g": g}, world.tokens["buyer"]))["omzetSummary"]
        assert rows and all(r["withheld"] and r["total"] is None for r in rows), (g, rows)
    assert error_codes(await gql(q, {"f": LAST_MONTH, "t": LAST_MONTH, "g": "SCALE"})) == ["UNAUTHENTICATED"]


async def test_low_income_list_names_umkm_below_threshold_every_month(gql, world):
    await make_old(world.umkm, world.other_umkm)
    for k in (1, 2, 3):
        await submit(gql, world.tokens["owner"], world.umkm, shift(THIS_MONTH, -k), offlineAmount=800_000)
        amount = 800_000 if k != 2 else 5_000_000
        await submit(gql, world.tokens["other_owner"], world.other_umkm, shift(THIS_MONTH, -k), offlineAmount=amount)
    q = """query($p: String!) { lowIncomeUmkm(period: $p, threshold: 1000000, months: 3) { edges { node { name } } } }"""
    data = await gql.ok(q, {"p": LAST_MONTH}, world.tokens["analyst"])
    assert [e["node"]["name"] for e in data["lowIncomeUmkm"]["edges"]] == ["Batik Kenongo"]
    assert error_codes(await gql(q, {"p": LAST_MONTH}, world.tokens["buyer"])) == ["FORBIDDEN"]


async def test_scale_switches_from_mikro_to_kecil_when_twelve_months_pass_2_miliar(gql, world):
    await make_old(world.umkm)
    months = [shift(THIS_MONTH, -k) for k in range(12, 0, -1)]
    for p in months[:11]:
        await submit(gql, world.tokens["owner"], world.umkm, p, offlineAmount=160_000_000)
    umkm = await Umkm.get(id=world.umkm.id)
    assert (umkm.scale.value, umkm.scale_source.value) == ("MIKRO", "ESTIMATED")  # 11 × 160 jt, annualised 1.92 M
    await submit(gql, world.tokens["owner"], world.umkm, months[11], offlineAmount=160_000_000)
    umkm = await Umkm.get(id=world.umkm.id)
    assert (umkm.scale.value, umkm.scale_source.value) == ("MIKRO", "REPORTED")  # exactly 1.92 M
    await submit(gql, world.tokens["owner"], world.umkm, months[11], offlineAmount=240_000_001)  # a correction
    data = await gql.ok(
        "query($id: ID!) { node(id: $id) { ... on Umkm { scale scaleSource } } }", {"id": gid("Umkm", world.umkm.id)}
    )
    assert data["node"] == {"scale": "KECIL", "scaleSource": "REPORTED"}  # 2,000,000,001


async def test_only_the_owner_or_an_admin_submits(gql, world):
    await make_old(world.umkm)
    body = await gql(
        SUBMIT,
        {"input": {"umkmId": gid("Umkm", world.umkm.id), "period": LAST_MONTH, "offlineAmount": 1}},
        world.tokens["other_owner"],
    )
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql(
        SUBMIT,
        {"input": {"umkmId": gid("Umkm", world.umkm.id), "period": LAST_MONTH, "offlineAmount": 1}},
        world.tokens["analyst"],
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await OmzetReport.all().count() == 0


__all__ = ["Role", "UmkmStatus"]
