"""Downloads of the city's reports (`/ekspor/{report}.{csv|xlsx}`) through the endpoint as a client calls them: the
same figures as the GraphQL fields for the same arguments, the same permissions for every caller, cells that stay
data (a UMKM named like a formula), headers in Indonesian and English."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from models.orders import Order
from models.registry import Umkm
from tests.conftest import error_codes, gid
from tests.test_analytics import TODAY, YEAR, buy

CALLERS = ["anon", "partner", "admin", "analyst", "buyer", "treasurer", "employee", "owner"]
FROM, TO = (TODAY - dt.timedelta(days=30)).isoformat(), (TODAY + dt.timedelta(days=1)).isoformat()
PERIOD = f"{TODAY.year:04d}-{TODAY.month:02d}"


def same(row, expected) -> bool:
    """Equal, floats to the 15 significant digits a spreadsheet keeps."""
    return len(row) == len(expected) and all(
        a == pytest.approx(b, rel=1e-14) if isinstance(b, float) else a == b and type(a) is type(b)
        for a, b in zip(row, expected, strict=True)
    )


def token(world, who):
    return None if who == "anon" else world.tokens[who]


async def download(http, path, who_token=None, **headers):
    if who_token:
        headers["authorization"] = f"Bearer {who_token}"
    return await http.get(path, headers=headers)


def csv_rows(r) -> list[list[str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def xlsx_rows(r) -> list[list]:
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


async def world_with_orders(gql, world):
    await buy(gql, world, world.product, 3)  # OPD order, delivered and paid
    await buy(gql, world, world.other_product, 2, pay=False)  # delivered, unpaid
    await buy(gql, world, world.product, 1, token="employee")  # a personal order, paid by the employee


# ---------------------------------------------------------------- the same permissions as the GraphQL fields

REPORTS = {
    "equity-report": (
        "query($c: ID!, $f: Date!, $t: Date!) { equityReport(categoryId: $c, periodFrom: $f, periodTo: $t) { total } }",
        lambda w: {"c": gid("Category", w.batik.id), "f": FROM, "t": TO},
        lambda w: f"categoryId={gid('Category', w.batik.id)}&periodFrom={FROM}&periodTo={TO}",
    ),
    "sales-ranking": (
        "query($c: ID!, $f: Date!, $t: Date!) { umkmSalesRanking(categoryId: $c, periodFrom: $f, periodTo: $t) { totalCount } }",
        lambda w: {"c": gid("Category", w.batik.id), "f": FROM, "t": TO},
        lambda w: f"categoryId={gid('Category', w.batik.id)}&periodFrom={FROM}&periodTo={TO}",
    ),
    "opd-spending": (
        "query($y: Int!) { opdSpending(year: $y) { spend } }",
        lambda w: {"y": YEAR},
        lambda w: f"year={YEAR}",
    ),
    "omzet-compliance": (
        "query($p: String!) { omzetCompliance(period: $p) { expected } }",
        lambda w: {"p": PERIOD},
        lambda w: f"period={PERIOD}",
    ),
    "orders": ("{ orders(first: 5) { edges { node { number } } } }", lambda w: {}, lambda w: ""),
}
STATUS_OF = {None: 200, "UNAUTHENTICATED": 401, "FORBIDDEN": 403}


@pytest.mark.parametrize("report", sorted(REPORTS))
async def test_every_caller_gets_the_answer_the_graphql_field_gives(gql, http, world, report):
    query, variables, params = REPORTS[report]
    seen = {}
    for who in CALLERS:
        body = await gql(query, variables(world), token(world, who))
        codes = error_codes(body)
        expected = codes[0] if codes else None
        for fmt in ("csv", "xlsx"):
            r = await download(http, f"/ekspor/{report}.{fmt}?{params(world)}", token(world, who))
            assert r.status_code == STATUS_OF[expected], (who, fmt, r.text)
            if expected:
                assert r.json()["errors"][0]["extensions"]["code"] == expected
        seen[who] = expected
    # the rows of the permission table (docs/API.md) this follows
    if report == "omzet-compliance":
        assert {w for w, c in seen.items() if c is None} == {"admin", "analyst"}
    elif report == "orders":
        assert seen["anon"] == "UNAUTHENTICATED" and seen["partner"] == "FORBIDDEN"
        assert {w for w, c in seen.items() if c is None} == set(CALLERS) - {"anon", "partner"}
    else:
        assert seen["anon"] == "UNAUTHENTICATED" and all(seen[w] is None for w in CALLERS[1:])


async def test_a_token_that_no_longer_works_is_told_its_session_ended(http, world):
    r = await download(http, "/ekspor/orders.csv", "not-a-real-token")
    assert r.status_code == 401
    assert "session has ended" in r.json()["errors"][0]["message"]


# ---------------------------------------------------------------- the same figures


ORDERS = """{ orders(first: 100) { edges { node { number kind status total createdAt deliveredAt paidAt daysToPay
  receivedBy opd { code } umkm { name nib } } } } }"""


@pytest.mark.parametrize("who", ["admin", "analyst", "buyer", "treasurer", "employee", "owner", "other_owner"])
async def test_orders_download_lists_what_the_orders_field_lists(gql, http, world, who):
    await world_with_orders(gql, world)
    api = [e["node"] for e in (await gql.ok(ORDERS, None, world.tokens[who]))["orders"]["edges"]]
    rows = csv_rows(await download(http, "/ekspor/orders.csv?lang=en", world.tokens[who]))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Number", "Kind", "Status"]
    col = {h: i for i, h in enumerate(header)}
    assert [r[col["Number"]] for r in body] == [o["number"] for o in api]  # the same rows in the same order
    for r, o in zip(body, api, strict=True):
        assert r[col["Total (Rp)"]] == str(o["total"])
        assert r[col["Kind"]] == o["kind"] and r[col["Status"]] == o["status"]
        assert r[col["Placed at"]] == o["createdAt"]
        assert r[col["Delivered (BAST) at"]] == (o["deliveredAt"] or "")
        assert r[col["Days to pay"]] == ("" if o["daysToPay"] is None else str(o["daysToPay"]))
        assert r[col["UMKM"]] == o["umkm"]["name"] and r[col["NIB"]] == o["umkm"]["nib"]
        assert r[col["Received by"]] == (o["receivedBy"] or "")
    sheet = xlsx_rows(await download(http, "/ekspor/orders.xlsx?lang=en", world.tokens[who]))
    assert sheet[0] == header
    assert [r[col["Number"]] for r in sheet[1:]] == [o["number"] for o in api]
    for r, o in zip(sheet[1:], api, strict=True):
        assert r[col["Total (Rp)"]] == o["total"] and isinstance(r[col["Total (Rp)"]], int)
        placed = dt.datetime.fromisoformat(o["createdAt"]).replace(tzinfo=None, microsecond=0)
        assert r[col["Placed at"]].replace(microsecond=0) == placed
    kinds = {o["kind"] for o in api}
    if who in ("analyst", "buyer", "treasurer"):
        assert kinds == {"OPD"}  # a personal order is not theirs to see, nor to download
    if who == "employee":
        assert kinds == {"PERSONAL"}
    if who == "other_owner":
        assert {o["umkm"]["name"] for o in api} == {"Batik Lain"}


async def test_orders_download_takes_the_fields_filters(gql, http, world):
    await world_with_orders(gql, world)
    api = await gql.ok(
        "{ orders(filter: {status: PAID, kind: OPD}, first: 100) { edges { node { number } } } }",
        None,
        world.tokens["admin"],
    )
    rows = csv_rows(await download(http, "/ekspor/orders.csv?status=PAID&kind=OPD", world.tokens["admin"]))
    assert [r[0] for r in rows[1:]] == [e["node"]["number"] for e in api["orders"]["edges"]]
    assert len(rows) == 2


async def test_orders_download_pages_through_more_orders_than_one_statement_reads(gql, http, world, monkeypatch):
    from exports import tables

    monkeypatch.setattr(tables, "PAGE", 2)
    await world_with_orders(gql, world)
    await buy(gql, world, world.product, 1, deliver=False)
    await buy(gql, world, world.other_product, 1, deliver=False)
    numbers = [n for (n,) in await Order.all().order_by("-id").values_list("number")]
    assert len(numbers) == 5
    for fmt, read in (("csv", csv_rows), ("xlsx", xlsx_rows)):
        rows = read(await download(http, f"/ekspor/orders.{fmt}", world.tokens["admin"]))
        assert [r[0] for r in rows[1:]] == numbers


EQUITY = """query($c: ID!, $f: Date!, $t: Date!) { equityReport(categoryId: $c, periodFrom: $f, periodTo: $t) {
  members sellers purchases total gini jain theil zeroSalesShare top10Share coverageEfficiency unmetFairShare lorenz } }"""


@pytest.mark.parametrize("who", ["admin", "partner"])  # personal orders count for admins only
async def test_equity_report_download_equals_the_api(gql, http, world, who):
    await world_with_orders(gql, world)
    _q, variables, params = REPORTS["equity-report"]
    e = (await gql.ok(EQUITY, variables(world), world.tokens[who]))["equityReport"]
    expected = [e["members"], e["sellers"], e["purchases"], e["total"], e["gini"], e["jain"], e["theil"]]
    expected += [e["zeroSalesShare"], e["top10Share"], e["coverageEfficiency"], e["unmetFairShare"], *e["lorenz"]]
    rows = csv_rows(await download(http, f"/ekspor/equity-report.csv?{params(world)}", world.tokens[who]))
    assert rows[1][:2] == [FROM, TO]
    assert [float(x) for x in rows[1][2:]] == [float(x) for x in expected]
    assert rows[1][5] == str(e["total"])
    sheet = xlsx_rows(await download(http, f"/ekspor/equity-report.xlsx?{params(world)}", world.tokens[who]))
    assert same(sheet[1][2:], expected)


RANKING = """query($c: ID!, $f: Date!, $t: Date!, $o: SalesOrder!) { umkmSalesRanking(categoryId: $c, periodFrom: $f,
  periodTo: $t, order: $o, first: 100) { edges { rank amount orders opds daysSinceVerification umkm { name nib status } } } }"""


@pytest.mark.parametrize(("who", "order"), [("admin", "MOST"), ("buyer", "MOST"), ("analyst", "LEAST")])
async def test_sales_ranking_download_equals_the_api(gql, http, world, who, order):
    await world_with_orders(gql, world)
    _q, variables, params = REPORTS["sales-ranking"]
    edges = (await gql.ok(RANKING, {**variables(world), "o": order}, world.tokens[who]))["umkmSalesRanking"]["edges"]
    assert edges
    expected = [
        [
            e["rank"],
            e["umkm"]["name"],
            e["umkm"]["nib"],
            world.kecamatan.name,
            e["umkm"]["status"],
            e["amount"],
            e["orders"],
            e["opds"],
            e["daysSinceVerification"],
        ]
        for e in edges
    ]
    sheet = xlsx_rows(
        await download(http, f"/ekspor/sales-ranking.xlsx?{params(world)}&order={order}", world.tokens[who])
    )
    assert sheet[1:] == expected
    rows = csv_rows(await download(http, f"/ekspor/sales-ranking.csv?{params(world)}&order={order}", world.tokens[who]))
    assert rows[1:] == [["" if v is None else str(v) for v in row] for row in expected]


SPENDING = """query($y: Int!) { opdSpending(year: $y) { opd { code name } year spend orders umkmReached pagu paguShare
  meetsSmallBusinessRule fairnessListShare medianDaysToPay unpaidDelivered staffPurchases staffSpend } }"""


@pytest.mark.parametrize("who", ["admin", "treasurer"])  # staff purchases: admins always, others from 5 employees
async def test_opd_spending_download_equals_the_api(gql, http, world, who):
    await world_with_orders(gql, world)
    await gql.ok(
        "mutation($o: ID!, $y: Int!) { setOpdBudget(input: {opdId: $o, year: $y, amount: 5000000}) { errors { code } } }",
        {"o": gid("Opd", world.opd.id), "y": YEAR},
        world.tokens["admin"],
    )
    api = (await gql.ok(SPENDING, {"y": YEAR}, world.tokens[who]))["opdSpending"]
    expected = [
        [
            s["opd"]["code"],
            s["opd"]["name"],
            s["year"],
            s["spend"],
            s["orders"],
            s["umkmReached"],
            s["pagu"],
            s["paguShare"],
            s["meetsSmallBusinessRule"],
            s["fairnessListShare"],
            s["medianDaysToPay"],
            s["unpaidDelivered"],
            s["staffPurchases"],
            s["staffSpend"],
        ]
        for s in api
    ]
    sheet = xlsx_rows(await download(http, f"/ekspor/opd-spending.xlsx?year={YEAR}", world.tokens[who]))
    assert len(sheet) == len(expected) + 1 and all(same(a, b) for a, b in zip(sheet[1:], expected, strict=True))
    assert any(row[6] == 5_000_000 for row in sheet[1:])
    if who == "treasurer":
        assert all(row[12] is None for row in sheet[1:])  # fewer than 5 employees bought: withheld, as in the API
    rows = csv_rows(await download(http, f"/ekspor/opd-spending.csv?year={YEAR}", world.tokens[who]))

    def text(v):
        return (
            ""
            if v is None
            else ("true" if v is True else "false" if v is False else repr(v) if isinstance(v, float) else str(v))
        )

    assert rows[1:] == [[text(v) for v in row] for row in expected]


async def test_omzet_compliance_download_equals_the_api(gql, http, world):
    q = """query($p: String!) { omzetCompliance(period: $p) { period expected onTime late missing
      byKecamatan { kecamatan { name } expected onTime late missing } } }"""
    c = (await gql.ok(q, {"p": PERIOD}, world.tokens["analyst"]))["omzetCompliance"]
    rows = xlsx_rows(await download(http, f"/ekspor/omzet-compliance.xlsx?period={PERIOD}", world.tokens["analyst"]))
    body = rows[1:]
    assert [[r[2], r[3], r[4], r[5], r[6]] for r in body[:-1]] == [
        [k["kecamatan"]["name"], k["expected"], k["onTime"], k["late"], k["missing"]] for k in c["byKecamatan"]
    ]
    assert body[-1][3:] == [c["expected"], c["onTime"], c["late"], c["missing"]]
    assert c["expected"] >= 2


async def test_rupiah_cells_carry_a_rupiah_number_format(gql, http, world):
    import glob
    import tempfile

    await world_with_orders(gql, world)
    before = set(glob.glob(f"{tempfile.gettempdir()}/pasar-export-*"))
    r = await download(http, "/ekspor/orders.xlsx?lang=en", world.tokens["admin"])
    assert set(glob.glob(f"{tempfile.gettempdir()}/pasar-export-*")) <= before  # the temporary workbook is gone
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    total = next(c for c in sheet[1] if c.value == "Total (Rp)").column
    cell = sheet.cell(row=2, column=total)
    assert isinstance(cell.value, int) and "Rp" in cell.number_format and "#,##0" in cell.number_format


# ---------------------------------------------------------------- cells are data


FORMULA = '=HYPERLINK("http://example.invalid/x","Klik")'


async def test_a_umkm_named_like_a_formula_stays_text(gql, http, world):
    await Umkm.filter(id=world.umkm.id).update(name=FORMULA)
    await buy(gql, world, world.product, 2)
    for lead in ("+SUM(1,2)", "-1+1", "@cmd"):  # sellers in the LEAST ranking too
        other = await world.umkm_for(world.users["other_owner"], lead)
        await world.product_for(other, f"Batik {len(lead)}")
    rows = csv_rows(await download(http, "/ekspor/orders.csv?lang=en", world.tokens["admin"]))
    col = rows[0].index("UMKM")
    assert rows[1][col] == "'" + FORMULA  # shown as text by a spreadsheet, never run
    raw = await download(http, "/ekspor/orders.xlsx?lang=en", world.tokens["admin"])
    sheet = xlsx_rows(raw)
    assert sheet[1][col] == FORMULA  # the name, as a string
    with zipfile.ZipFile(io.BytesIO(raw.content)) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
        assert not any(n.startswith("xl/worksheets/_rels") for n in z.namelist())  # no hyperlinks
    ranking = csv_rows(
        await download(
            http,
            f"/ekspor/sales-ranking.csv?categoryId={gid('Category', world.batik.id)}&periodFrom={FROM}&periodTo={TO}&order=LEAST",
            world.tokens["admin"],
        )
    )
    names = [r[1] for r in ranking[1:]]
    assert "'" + FORMULA in names
    assert {"'+SUM(1,2)", "'-1+1", "'@cmd"} <= set(names)
    assert not any(n.startswith(("=", "+", "-", "@", "\t", "\r")) for n in names)


async def test_csv_neutralises_every_formula_lead():
    from exports.cells import csv_cell

    for lead in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(lead + "1", "text") == "'" + lead + "1"
    assert csv_cell("Batik", "text") == "Batik"
    assert csv_cell(-5, "int") == "-5"  # numbers we write are numbers


# ---------------------------------------------------------------- languages, inputs


async def test_headers_follow_lang_then_accept_language_then_indonesian(http, world):
    t = world.tokens["admin"]
    en = csv_rows(await download(http, "/ekspor/opd-spending.csv?year=2026&lang=en", t))[0]
    id_ = csv_rows(await download(http, "/ekspor/opd-spending.csv?year=2026&lang=id", t))[0]
    assert en[:4] == ["OPD code", "OPD", "Year", "Spend (Rp)"]
    assert id_[:4] == ["Kode OPD", "OPD", "Tahun", "Belanja (Rp)"]
    assert csv_rows(await download(http, "/ekspor/opd-spending.csv?year=2026", t))[0] == id_
    assert (
        csv_rows(
            await download(http, "/ekspor/opd-spending.csv?year=2026", t, **{"accept-language": "en-US,en;q=0.9"})
        )[0]
        == en
    )
    assert (
        csv_rows(await download(http, "/ekspor/opd-spending.csv?year=2026", t, **{"accept-language": "en;q=0.5, id"}))[
            0
        ]
        == id_
    )
    sheet = xlsx_rows(await download(http, "/ekspor/opd-spending.xlsx?year=2026", t, **{"accept-language": "en-GB"}))
    assert sheet[0] == en
    r = await download(http, "/ekspor/opd-spending.csv?year=2026&lang=fr", t)
    assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["field"] == "lang"


@pytest.mark.parametrize(
    "path",
    [
        "/ekspor/orders.csv?createdFrom=1999-12-31",
        "/ekspor/orders.csv?createdFrom=2026-13-01",
        "/ekspor/orders.csv?status=LOST",
        "/ekspor/orders.csv?opdId=bm90LWFuLWlk",
        "/ekspor/orders.csv?first=5",
        "/ekspor/orders.csv?status=PAID&status=PAID",
        "/ekspor/opd-spending.xlsx?year=1999",
        "/ekspor/opd-spending.xlsx",
        "/ekspor/omzet-compliance.csv?period=2026-13",
        "/ekspor/equity-report.csv?categoryId=x&periodFrom=2026-01-01&periodTo=2026-02-01",
        "/ekspor/orders.csv?note=" + "x" * 300,
    ],
)
async def test_bad_arguments_are_refused_before_a_byte(http, world, path):
    r = await download(http, path, world.tokens["admin"])
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_unknown_report_or_format_or_category_is_not_found(http, world):
    t = world.tokens["admin"]
    assert (await download(http, "/ekspor/salaries.csv", t)).status_code == 404
    assert (await download(http, "/ekspor/orders.pdf", t)).status_code == 404
    r = await download(
        http, f"/ekspor/equity-report.csv?categoryId={gid('Category', 999999)}&periodFrom={FROM}&periodTo={TO}", t
    )
    assert r.status_code == 404 and r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_downloads_count_against_the_callers_rate_limit_like_graphql_requests(settings, gql, world):
    """The same limit, the same 429 and headers as /graphql: a download is one request of its caller."""
    import dataclasses

    await buy(gql, world, world.product, 1)  # an order to publish: open data of an empty range is a 400

    import httpx

    from app import create_app

    app = create_app(dataclasses.replace(settings, rate_limits="anonymous=2/hour;ADMIN=3/hour"), manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        auth = {"authorization": f"Bearer {world.tokens['admin']}"}
        first = await client.get(f"/ekspor/opd-spending.csv?year={YEAR}", headers=auth)
        assert first.status_code == 200 and first.headers["ratelimit"].startswith('"ADMIN";r=2')
        assert (await client.post("/graphql", json={"query": "{ __typename }"}, headers=auth)).status_code == 200
        assert (await client.get("/ekspor/orders.xlsx", headers=auth)).status_code == 200
        refused = await client.get(f"/ekspor/opd-spending.csv?year={YEAR}", headers=auth)
        assert refused.status_code == 429 and refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(refused.headers["retry-after"]) >= 1
        # open data: anonymous, by address
        assert [(await client.get("/ocds/releases")).status_code for _ in range(3)] == [200, 200, 429]


# ---------------------------------------------------------------- time limits


@pytest.fixture
def limited_http(settings):
    """A client of an app with other time limits: `async with limited_http(download_timeout_seconds=…) as http`."""
    from dataclasses import replace

    import httpx

    from app import create_app

    def make(**limits) -> httpx.AsyncClient:
        app = create_app(replace(settings, **limits), manage_database=False)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


def fake_clock(monkeypatch, *readings: float) -> None:
    """The downloads' time-limit clock reads `readings` in turn, then the last one for ever."""
    from exports import http as downloads

    left = list(readings)
    monkeypatch.setattr(downloads, "now", lambda: left.pop(0) if len(left) > 1 else left[0])


@pytest.fixture
def temporary_workbooks(monkeypatch, tmp_path):
    """The downloads' temporary folders go to this test's own folder (other processes use the shared one); the
    function lists them."""
    import os
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return lambda: {d for d in os.listdir(tmp_path) if d.startswith("pasar-export-")}


async def test_a_download_that_runs_out_of_time_before_its_first_byte_is_a_503(
    gql, world, monkeypatch, limited_http, temporary_workbooks
):
    """The clock passes PASAR_DOWNLOAD_TIMEOUT_SECONDS (50 s) before the first page: CSV and XLSX alike answer 503
    TIMEOUT and no file, and leave no temporary workbook."""
    await world_with_orders(gql, world)
    async with limited_http(download_timeout_seconds=50) as http:
        for fmt in ("csv", "xlsx"):
            fake_clock(monkeypatch, 0, 1, 100)  # the start, the rule, the first page
            r = await download(http, f"/ekspor/orders.{fmt}", world.tokens["admin"])
            assert r.status_code == 503, r.text
            error = r.json()["errors"][0]
            assert error["extensions"] == {"code": "TIMEOUT", "timeoutSeconds": 50}
            assert "PASAR_DOWNLOAD_TIMEOUT_SECONDS" in error["message"]
    assert temporary_workbooks() == set()


async def test_a_csv_download_that_runs_out_of_time_midway_is_broken_off(
    gql, world, monkeypatch, limited_http, temporary_workbooks
):
    """Past the first page, a CSV already under way is broken off rather than ended as if complete; an XLSX (written
    whole before it is sent) is still a 503. Pages of one order; the clock passes the limit before the second."""
    from exports import http as downloads
    from exports import tables

    monkeypatch.setattr(tables, "PAGE", 1)
    await world_with_orders(gql, world)
    async with limited_http(download_timeout_seconds=50) as http:
        fake_clock(monkeypatch, 0, 1, 2, 100)  # the start, the rule, the first page, the second page
        with pytest.raises(downloads.DownloadStopped):
            await download(http, "/ekspor/orders.csv", world.tokens["admin"])
        fake_clock(monkeypatch, 0, 1, 2, 100)
        r = await download(http, "/ekspor/orders.xlsx", world.tokens["admin"])
        assert r.status_code == 503 and r.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
        # within the limit, the same download is whole
        fake_clock(monkeypatch, 0)
        rows = csv_rows(await download(http, "/ekspor/orders.csv", world.tokens["admin"]))
        assert len(rows) == 1 + await Order.all().count()
    assert temporary_workbooks() == set()


async def test_a_page_of_rows_that_hangs_is_stopped_by_the_request_timeout(gql, world, monkeypatch, limited_http):
    """Each page a download reads runs within PASAR_REQUEST_TIMEOUT_SECONDS: a page read that never ends is stopped
    (the whole download's limit is far away), as is a page of open data."""
    import asyncio

    from exports import ocds, tables

    async def hangs(*args, **kwargs):
        await asyncio.Event().wait()

    await world_with_orders(gql, world)
    monkeypatch.setattr(tables, "keyset_page", hangs)
    monkeypatch.setattr(ocds, "published_orders", hangs)
    async with limited_http(request_timeout_seconds=0.05, download_timeout_seconds=3600) as http:
        for fmt in ("csv", "xlsx"):
            r = await download(http, f"/ekspor/orders.{fmt}", world.tokens["admin"])
            assert r.status_code == 503, r.text
            error = r.json()["errors"][0]
            assert error["extensions"] == {"code": "TIMEOUT", "timeoutSeconds": 0.05}
            assert "PASAR_REQUEST_TIMEOUT_SECONDS" in error["message"]
        r = await http.get("/ocds/releases")
        assert r.status_code == 503 and r.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


def test_the_download_time_limit_is_a_setting():
    from app import DOWNLOAD_TIMEOUT_SECONDS, Settings, SettingsError

    assert Settings.from_env({}).download_timeout_seconds == DOWNLOAD_TIMEOUT_SECONDS == 900
    assert Settings.from_env({"PASAR_DOWNLOAD_TIMEOUT_SECONDS": "60"}).download_timeout_seconds == 60
    for bad in ("0", "-5", "soon"):
        with pytest.raises(SettingsError, match="PASAR_DOWNLOAD_TIMEOUT_SECONDS"):
            Settings.from_env({"PASAR_DOWNLOAD_TIMEOUT_SECONDS": bad})
