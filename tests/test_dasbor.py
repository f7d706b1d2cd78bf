"""The mayor's office dashboard (`/dasbor`): a static page that is a pure client of `/graphql`.

Through HTTP, on both engines: the page and its files are served with their content types and
`Content-Security-Policy: default-src 'self'`, carry no inline script or style and name no other host; the
documents the page sends (`dasbor/static/queries.graphql`) validate against the schema, answer an analyst and are
refused to anonymous callers and OPD buyers; the two fields added for the page (`equityByCategory`,
`lowIncomeByKecamatan`) agree with the fields they summarise.

In a browser (`test_dashboard_in_a_browser`, SQLite only): headless Chromium from Debian (`chromium`,
`chromium-driver`) driven by Selenium, with every host but 127.0.0.1 unresolvable, against `pasar serve --demo` in a
subprocess: the analyst signs in on the page, every chart and table is drawn, figures read from the page equal the
API's for the same period, the English switch changes the labels. Screenshots and the page's timings are written to
`PASAR_TEST_ARTIFACTS` (default `.test-artifacts/`). Skipped when the browser is missing, except under `CI=true`,
where that fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from graphql import build_schema, parse, validate

from models.registry import Kecamatan, Kelurahan
from schema import schema as app_schema
from tests.browser import (  # noqa: F401 - fixtures
    DEMO_PASSWORD,
    artifacts,
    browser,
    demo_server,
    request_urls,
    requests_left_localhost,
    wait_for,
)
from tests.conftest import PASSWORD, TEST_URL, error_codes, gid
from tests.test_analytics import buy
from tests.test_omzet import THIS_MONTH, make_old, shift, submit

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "dasbor" / "static"
DOCUMENT = (STATIC / "queries.graphql").read_text(encoding="utf-8")
JAKARTA = ZoneInfo("Asia/Jakarta")
TODAY = dt.datetime.now(JAKARTA).date()
LAST_MONTH = f"{TODAY.year - (TODAY.month == 1):04d}-{(TODAY.month - 2) % 12 + 1:02d}"
URL_IN_TEXT = re.compile(rb"(?i)\b(?:https?|wss?|ftp):|(?:src|href|action)\s*=\s*[\"']?//|url\(\s*[\"']?//")


def dashboard_variables(today: dt.date = TODAY) -> dict:
    """What dasbor.js sends for the first view: the last 12 months, this year, last month, its low-income
    threshold (each operation takes its own of these)."""
    try:
        start = today.replace(year=today.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 1, day=28) + dt.timedelta(days=2)
    return {
        "periodFrom": start.isoformat(),
        "periodTo": today.isoformat(),
        "year": today.year,
        "period": LAST_MONTH,
        "threshold": 5_000_000,
        "months": 3,
    }


FIRST_VIEW = {  # the operations of the first view, sent at once, and the variables each takes
    "DasborAwal": (),
    "DasborPemerataan": ("periodFrom", "periodTo"),
    "DasborOpd": ("year",),
    "DasborKecamatan": ("period", "threshold", "months"),
}


async def first_view(http, token: str | None = None) -> dict[str, dict]:
    """Each first-view operation's answer, by name, as dasbor.js sends them."""
    v = dashboard_variables()
    return {name: await operation(http, name, {k: v[k] for k in wanted}, token) for name, wanted in FIRST_VIEW.items()}


async def operation(http, name: str, variables: dict, token: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    r = await http.post(
        "/graphql", json={"query": DOCUMENT, "operationName": name, "variables": variables}, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- the page and its files


class _Page(HTMLParser):
    """The page's references and anything inline that `default-src 'self'` would block."""

    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on") or name == "style":
                self.inline.append(f"<{tag} {name}=…>")
        if tag == "style":
            self.inline.append("<style>")
        if tag == "script":
            self._in_script = True
            if not a.get("src"):
                self.inline.append("<script> without src")
        for key in ("src", "href"):
            if a.get(key):
                self.refs.append(a[key])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append("inline script text")


def static_files() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file())


async def test_dashboard_page_is_served_with_a_strict_content_security_policy(http):
    r = await http.get("/dasbor")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == "default-src 'self'"
    assert r.headers["x-content-type-options"] == "nosniff"
    page = _Page()
    page.feed(r.text)
    assert page.inline == []  # the policy would block them: everything lives in local files
    assert sorted(page.refs) == sorted(
        [
            "/dasbor/static/favicon.png",
            "/dasbor/static/dasbor.css",
            "/dasbor/static/vendor/chart.umd.min.js",
            "/dasbor/static/i18n.js",
            "/dasbor/static/dasbor.js",
        ]
    )


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/dasbor/static/dasbor.js", "javascript"),
        ("/dasbor/static/i18n.js", "javascript"),
        ("/dasbor/static/vendor/chart.umd.min.js", "javascript"),
        ("/dasbor/static/dasbor.css", "text/css"),
        ("/dasbor/static/queries.graphql", "text/plain"),
        ("/dasbor/static/favicon.png", "image/png"),
        ("/dasbor/static/index.html", "text/html"),
    ],
)
async def test_dashboard_files_are_served_with_their_content_types(http, path, content_type):
    r = await http.get(path)
    assert r.status_code == 200, path
    assert content_type in r.headers["content-type"], (path, r.headers["content-type"])
    assert r.headers["content-security-policy"] == "default-src 'self'"
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_no_served_file_names_another_host(http):
    served = 0
    for path in static_files():
        r = await http.get("/dasbor/static/" + path.relative_to(STATIC).as_posix())
        assert r.status_code == 200, path
        found = URL_IN_TEXT.findall(r.content)
        assert found == [], (path.name, found[:3])
        served += 1
    assert served >= 8
    page = (await http.get("/dasbor")).content
    assert URL_IN_TEXT.findall(page) == []
    assert (await http.get("/dasbor/static/../../app.py")).status_code == 404
    # the detector itself: it sees the forms an address takes in a page, a script and a style sheet
    for bad in (b'src="https://x.id/a.js"', b"fetch('http://x')", b"href='//cdn.x/y.css'", b"url(//x/y.png)"):
        assert URL_IN_TEXT.search(bad), bad


def test_the_vendored_chart_library_keeps_its_licence_and_version():
    vendor = STATIC / "vendor"
    version = (vendor / "chart.js-VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert f"Chart.js v{version}" in (vendor / "chart.umd.min.js").read_text(encoding="utf-8")[:200]
    assert "MIT License" in (vendor / "chart.js-LICENSE.txt").read_text(encoding="utf-8")
    assert os.access(ROOT / "dasbor" / "refresh_vendor.sh", os.X_OK)


# ---------------------------------------------------------------- the documents the page sends


def test_the_page_documents_validate_against_the_schema():
    doc = parse(DOCUMENT)
    names = [d.name.value for d in doc.definitions]
    assert names == ["Masuk", "Keluar", *FIRST_VIEW, "DasborPenjualan"]
    assert validate(app_schema._schema, doc) == []
    committed = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    assert validate(committed, doc) == []
    assert "queries.graphql" in (STATIC / "dasbor.js").read_text(encoding="utf-8")  # the file the page sends


async def test_an_analyst_gets_every_figure_of_the_dashboard(http, gql, world):
    bodies = await first_view(http, world.tokens["analyst"])
    assert all("errors" not in b for b in bodies.values()), bodies
    d = {k: v for b in bodies.values() for k, v in b["data"].items()}
    assert d["me"]["role"] == "ANALYST"
    top = [c for c in d["categories"] if c["parent"] is None]
    assert [c["name"] for c in top] == [c["category"]["name"] for c in d["equityByCategory"]]  # the picker's order
    assert [c["category"]["name"] for c in d["equityByCategory"]] == ["Batik", "Konsumsi rapat"]
    assert {o["opd"]["code"] for o in d["opdSpending"]} == {"DISPENDIK", "DINKES"}
    assert d["omzetCompliance"]["period"] == LAST_MONTH
    assert len(d["lowIncomeByKecamatan"]) == 31
    assert d["lowIncomeUmkm"]["totalCount"] == 0
    category = d["equityByCategory"][0]["category"]["id"]
    v = dashboard_variables()
    sales = await operation(
        http,
        "DasborPenjualan",
        {"categoryId": category, "periodFrom": v["periodFrom"], "periodTo": v["periodTo"], "first": 10},
        world.tokens["analyst"],
    )
    assert "errors" not in sales, sales
    never = {e["umkm"]["name"] for e in sales["data"]["least"]["edges"] if e["amount"] == 0}
    assert never == {"Batik Kenongo", "Batik Lain"}  # nothing sold yet
    assert sales["data"]["most"]["totalCount"] == 0


async def test_the_dashboard_is_refused_to_anonymous_callers_and_opd_buyers(http, world):
    v = dashboard_variables()
    anonymous = await first_view(http)
    assert anonymous["DasborAwal"]["data"]["me"] is None  # `me` is null without a token, as documented: the page
    # takes that as a session that ended
    for name in ("DasborPemerataan", "DasborOpd", "DasborKecamatan"):
        assert set(error_codes(anonymous[name])) == {"UNAUTHENTICATED"}, name
        assert anonymous[name]["data"] is None or all(value is None for value in anonymous[name]["data"].values())
    buyer = await first_view(http, world.tokens["buyer"])
    assert buyer["DasborAwal"]["data"]["me"]["role"] == "OPD_BUYER"  # the page stops here: not its role
    # the figures a buyer may not see: refused
    assert buyer["DasborKecamatan"]["data"] is None  # a refused non-null root field nulls the whole answer
    assert error_codes(buyer["DasborKecamatan"]) and set(error_codes(buyer["DasborKecamatan"])) == {"FORBIDDEN"}
    assert {e["path"][0] for e in buyer["DasborKecamatan"]["errors"]} <= {
        "omzetCompliance",
        "lowIncomeByKecamatan",
        "lowIncomeUmkm",
    }
    sales_vars = {
        "categoryId": gid("Category", world.batik.id),
        "periodFrom": v["periodFrom"],
        "periodTo": v["periodTo"],
    }
    anonymous_sales = await operation(http, "DasborPenjualan", {**sales_vars, "first": 10})
    assert set(error_codes(anonymous_sales)) == {"UNAUTHENTICATED"}
    # The sales ranking itself is open to every signed-in caller (docs/API.md): VERIFIED UMKM and OPD orders only
    # for a buyer; the page signs in ADMIN and ANALYST only and revokes any other role's token at once.
    js = (STATIC / "dasbor.js").read_text(encoding="utf-8")
    assert 'const SHOWN_ROLES = ["ADMIN", "ANALYST"];' in js


async def test_signing_in_and_out_through_the_page_documents(http, world):
    login = await operation(http, "Masuk", {"email": world.users["analyst"].email, "password": PASSWORD})
    payload = login["data"]["login"]
    assert payload["errors"] == [] and payload["user"]["role"] == "ANALYST"
    token = payload["token"]
    assert all("errors" not in b for b in (await first_view(http, token)).values())
    out = await operation(http, "Keluar", {}, token)
    assert out["data"]["logout"]["ok"] is True
    after = await first_view(http, token)
    assert after["DasborAwal"]["data"]["me"] is None
    assert "UNAUTHENTICATED" in error_codes(after["DasborPemerataan"])
    wrong = await operation(http, "Masuk", {"email": world.users["analyst"].email, "password": "not-the-password"})
    assert wrong["data"]["login"]["token"] is None and wrong["data"]["login"]["errors"]


# ---------------------------------------------------------------- the fields added for the page


async def test_equity_by_category_equals_equity_report_of_each_top_level_category(gql, world):
    snack_umkm = await world.umkm_for(world.users["other_owner"], "Snack Bu Tin")
    snack = await world.product_for(snack_umkm, "Snack box", 25_000, category=world.snack)
    await buy(gql, world, world.product, 4)
    await buy(gql, world, world.other_product, 1)
    await buy(gql, world, snack, 40)
    day = TODAY.isoformat()
    fields = "members sellers purchases total gini jain theil zeroSalesShare top10Share coverageEfficiency lorenz"
    all_of_them = (
        await gql.ok(
            f"query($f: Date!, $t: Date!) {{ equityByCategory(periodFrom: $f, periodTo: $t) {{"
            f" category {{ id name }} report {{ {fields} }} }} }}",
            {"f": day, "t": day},
            world.tokens["analyst"],
        )
    )["equityByCategory"]
    assert [c["category"]["name"] for c in all_of_them] == ["Batik", "Konsumsi rapat"]
    for c in all_of_them:
        one = (
            await gql.ok(
                f"query($c: ID!, $f: Date!, $t: Date!) {{ equityReport(categoryId: $c, periodFrom: $f, periodTo: $t)"
                f" {{ {fields} }} }}",
                {"c": c["category"]["id"], "f": day, "t": day},
                world.tokens["analyst"],
            )
        )["equityReport"]
        # the same figures: counts exactly, ratios up to the last bits of a float (SQL vs the Python reference)
        assert c["report"].keys() == one.keys()
        for key, value in one.items():
            if isinstance(value, float | list):
                assert c["report"][key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
            else:
                assert c["report"][key] == value, key
    assert all_of_them[0]["report"]["total"] == 4 * 150_000 + 200_000
    assert all_of_them[1]["report"]["sellers"] == 1
    bad = await gql(
        '{ equityByCategory(periodFrom: "2026-02-01", periodTo: "2026-01-01") { report { gini } } }',
        token=world.tokens["analyst"],
    )
    assert bad["data"] is None and bad["errors"][0]["message"]


async def test_low_income_by_kecamatan_counts_the_intervention_list(gql, world):
    elsewhere = await world.umkm_for(world.users["other_owner"], "Jahit Rungkut", kelurahan=await _kelurahan_of_kec2())
    await make_old(world.umkm, world.other_umkm, elsewhere)
    for k in (1, 2, 3):
        month = shift(THIS_MONTH, -k)
        await submit(gql, world.tokens["owner"], world.umkm, month, offlineAmount=800_000)
        await submit(gql, world.tokens["other_owner"], world.other_umkm, month, offlineAmount=9_000_000)
        await submit(gql, world.tokens["other_owner"], elsewhere, month, offlineAmount=700_000)
    q = """query($p: String!) {
      lowIncomeByKecamatan(period: $p, threshold: 1000000, months: 3) { kecamatan { id code } expected lowIncome }
      lowIncomeUmkm(period: $p, threshold: 1000000, months: 3) { totalCount }
      omzetCompliance(period: $p) { byKecamatan { kecamatan { id } expected } } }"""
    d = await gql.ok(q, {"p": shift(THIS_MONTH, -1)}, world.tokens["analyst"])
    rows = d["lowIncomeByKecamatan"]
    assert len(rows) == 31 and [r["kecamatan"]["code"] for r in rows] == sorted(r["kecamatan"]["code"] for r in rows)
    low = {r["kecamatan"]["id"]: r["lowIncome"] for r in rows if r["lowIncome"]}
    assert low == {gid("Kecamatan", world.kecamatan.id): 1, gid("Kecamatan", world.kecamatan2.id): 1}
    assert sum(r["lowIncome"] for r in rows) == d["lowIncomeUmkm"]["totalCount"] == 2
    expected = {k["kecamatan"]["id"]: k["expected"] for k in d["omzetCompliance"]["byKecamatan"]}
    assert {r["kecamatan"]["id"]: r["expected"] for r in rows if r["expected"]} == expected
    bad = await gql(
        '{ lowIncomeByKecamatan(period: "2026-01", threshold: 1000000, months: 99) { lowIncome } }',
        token=world.tokens["analyst"],
    )
    assert bad["data"] is None and "months" in json.dumps(bad["errors"]).lower()
    only = "query($p: String!) { lowIncomeByKecamatan(period: $p, threshold: 1000000) { lowIncome } }"
    assert error_codes(await gql(only, {"p": LAST_MONTH}, world.tokens["buyer"])) == ["FORBIDDEN"]


async def _kelurahan_of_kec2():
    kec2 = (await Kecamatan.all().order_by("code").limit(2))[1]
    return await Kelurahan.filter(kecamatan_id=kec2.id).order_by("code").first()


# ---------------------------------------------------------------- in a browser
# The browser, the demo server and the artefacts folder are tests/browser.py's, as for GraphiQL's browser test.

DEMO_ANALYST = ("analis@demo.pasar.id", DEMO_PASSWORD)  # demo/seed.py


def _api(base: str, query: str, variables: dict, token: str) -> dict:
    r = httpx.post(
        base + "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
        timeout=60,
    )
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.skipif(TEST_URL.startswith("postgres"), reason="browser test runs on SQLite only (the page, not the SQL)")
def test_dashboard_in_a_browser(browser, demo_server, artifacts):  # noqa: F811
    from selenium.webdriver.common.by import By

    base = demo_server.url
    try:
        browser.get(base + "/dasbor")
        wait_for(browser, lambda b: b.find_element(By.ID, "login-email").is_displayed(), "the dashboard")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Dasbor Pasar UMKM"
        browser.find_element(By.ID, "login-email").send_keys(DEMO_ANALYST[0])
        browser.find_element(By.ID, "login-password").send_keys(DEMO_ANALYST[1])
        browser.find_element(By.ID, "login-submit").click()
        wait_for(browser, lambda b: b.execute_script("return document.body.dataset.ready") == "true", "the dashboard")
        first_sign_in = browser.execute_script("return window.dasborTimings")
        token = browser.execute_script("return sessionStorage.getItem('dasbor.token')")
        assert token and not browser.get_cookies()  # the token lives in the tab, no cookie

        # a reload keeps the session (sessionStorage): the first view of a signed-in user, timed by the browser
        browser.refresh()
        wait_for(browser, lambda b: b.execute_script("return document.body.dataset.ready") == "true", "the dashboard")
        timings = browser.execute_script(
            "const n = performance.getEntriesByType('navigation')[0];"
            "return {page: window.dasborTimings, domContentLoaded: n.domContentLoadedEventEnd,"
            " graphqlRequests: performance.getEntriesByType('resource').filter(r => r.name.endsWith('/graphql')).length,"
            " resources: performance.getEntriesByType('resource').map(r => r.name)}"
        )
        # the first view's four requests (sent at once) and the first category's sales ranking
        assert timings["graphqlRequests"] == 5
        assert all(name.startswith(base) for name in timings["resources"]), timings["resources"]
        _save_screenshot(browser, artifacts, "dasbor-id.png")

        # every chart is drawn and every table filled
        for canvas in ("chart-lorenz", "chart-gini", "chart-most", "chart-opd", "chart-compliance"):
            drawn = browser.execute_script(
                "const c = document.getElementById(arguments[0]); const ch = Chart.getChart(c);"
                "return ch ? [c.width, c.height, ch.data.datasets.length, ch.data.labels.length] : null",
                canvas,
            )
            assert drawn and drawn[0] > 0 and drawn[1] > 0 and drawn[2] > 0 and drawn[3] > 0, (canvas, drawn)
        rows = {
            t: len(browser.find_elements(By.CSS_SELECTOR, f"#{t} tbody tr"))
            for t in ("table-equity", "table-lorenz", "table-most", "table-least", "table-opd", "table-kecamatan")
        }
        assert rows["table-equity"] == 7 and rows["table-lorenz"] == 11 and rows["table-kecamatan"] == 31, rows
        assert min(rows.values()) > 0, rows

        # the page's figures are the API's for the same period
        periods = browser.find_element(By.ID, "periods")
        start, end = periods.get_attribute("data-period-from"), periods.get_attribute("data-period-to")
        year = int(periods.get_attribute("data-year"))
        categories = _api(base, "{ categories { id name parent { id } } }", {}, token)["categories"]
        top = [c for c in categories if c["parent"] is None]
        assert len(top) == 7
        for c in top:
            api = _api(
                base,
                "query($c: ID!, $f: Date!, $t: Date!) { equityReport(categoryId: $c, periodFrom: $f, periodTo: $t)"
                " { gini zeroSalesShare total } }",
                {"c": c["id"], "f": start, "t": end},
                token,
            )["equityReport"]
            cell = browser.find_element(
                By.CSS_SELECTOR, f'#table-equity tr[data-key="{c["id"]}"] td[data-field="gini"]'
            )
            assert float(cell.get_attribute("data-value")) == pytest.approx(api["gini"], abs=1e-12), c["name"]
            assert cell.text == f"{api['gini']:.3f}".replace(".", ",")  # Indonesian decimal comma
            total = browser.find_element(
                By.CSS_SELECTOR, f'#table-equity tr[data-key="{c["id"]}"] td[data-field="total"]'
            )
            assert int(total.get_attribute("data-value")) == api["total"]
        spending = _api(
            base, "query($y: Int!) { opdSpending(year: $y) { opd { code } spend medianDaysToPay } }", {"y": year}, token
        )
        by_code = {s["opd"]["code"]: s for s in spending["opdSpending"]}
        for code in ("DISPENDIK", "DINKES"):
            cell = browser.find_element(By.CSS_SELECTOR, f'#table-opd tr[data-key="{code}"] td[data-field="spend"]')
            assert int(cell.get_attribute("data-value")) == by_code[code]["spend"] > 0
        late = [s["opd"]["code"] for s in spending["opdSpending"] if (s["medianDaysToPay"] or 0) > 14]
        shown_late = [r.get_attribute("data-key") for r in browser.find_elements(By.CSS_SELECTOR, "#table-opd tr.late")]
        assert sorted(shown_late) == sorted(late)

        # English
        browser.find_element(By.ID, "lang-en").click()
        wait_for(browser, lambda b: b.find_element(By.TAG_NAME, "h1").text == "Pasar UMKM dashboard", "the dashboard")
        assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "en"
        assert browser.find_element(By.CSS_SELECTOR, "#table-equity thead th").text == "Category"
        assert browser.find_element(By.CSS_SELECTOR, "#opd h2").text == "OPD league table"
        first_gini = browser.find_element(By.CSS_SELECTOR, '#table-equity tbody td[data-field="gini"]')
        assert "." in first_gini.text or first_gini.text == "—"
        _save_screenshot(browser, artifacts, "dasbor-en.png")

        problems = [
            entry["message"]
            for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
        ]
        assert problems == []
        assert requests_left_localhost(request_urls(browser)) == []
        report = {"firstSignIn": first_sign_in, **timings}
        (artifacts / "timings.json").write_text(json.dumps(report, indent=2))
        print("dasbor timings (ms):", json.dumps({k: v for k, v in report.items() if k != "resources"}))
    except Exception:
        _save_screenshot(browser, artifacts, "dasbor-failure.png")
        raise


def _save_screenshot(driver, folder: Path, name: str) -> None:
    """The whole page, not just the window."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, max(1000, min(int(height), 12000)))
    driver.save_screenshot(str(folder / name))
