"""The dashboard's first view, as an analyst on the city's intranet sees it: `pasar serve` on a given database, the
page opened in headless Chromium, timed from navigation start to every chart and table rendered.

    python -m bench.dasbor_first_view --database-url postgres://postgres@127.0.0.1:5432/bench_s [--runs 7]
        [--api-runs 5] [--email analis@bench.pasar.id] [--password pasar-bench-2026] [--json FILE] [--no-browser]

What it does, in order:

1. Starts `python -m app serve` on a free port of 127.0.0.1 with `DATABASE_URL`, rate limits off, SQL counting on
   (`extensions.sqlStatements`), and no background jobs (fairness refresh, outbox dispatcher, order clocks: the
   database is only read, apart from the sign-in's token row, revoked at the end).
2. Signs in once through the `login` mutation (an `ANALYST` or `ADMIN`).
3. **API calls**: each GraphQL operation the page sends (`dasbor/static/queries.graphql`) and each aggregate field
   alone, `--api-runs` times in turn (one warm-up first); prints the median time per call (ms, over HTTP on
   127.0.0.1) and its SQL statement count.
4. **First view**: Debian's Chromium and chromedriver (`/usr/bin/chromium`, `/usr/bin/chromedriver`; Selenium is
   given the driver's path, nothing is downloaded; every host but 127.0.0.1 unresolvable) open `/dasbor` once,
   put the token in the tab's `sessionStorage` as the sign-in does, then load `/dasbor` `--runs` times (plus one
   warm-up). Each run is the time from the navigation's start (`performance.timeOrigin`) to the page's
   `dasbor-ready` mark, which the page sets, with `document.body.dataset.ready = "true"`, once every section —
   charts and tables — is rendered. Prints every run, the median, and the page's own timings of the median run
   (each section's time to rendered, each GraphQL request's duration from the browser's resource timing).

The figure in README (*Dasbor*) is the median of step 4. Exit status 1 if a run does not reach the ready mark within
`--timeout` seconds or an operation answers with errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = (ROOT / "dasbor" / "static" / "queries.graphql").read_text(encoding="utf-8")
CHROMIUM = Path(os.environ.get("PASAR_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("PASAR_CHROMEDRIVER", "/usr/bin/chromedriver"))
JAKARTA = ZoneInfo("Asia/Jakarta")
BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--window-size=1400,1000",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOW_INCOME_THRESHOLD, LOW_INCOME_MONTHS, RANK_FIRST = 5_000_000, 3, 10  # as dasbor.js sends them


def periods(today: dt.date) -> dict:
    """What dasbor.js asks for: the last 12 months up to today, this year, last month."""
    try:
        start = today.replace(year=today.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 1, day=28) + dt.timedelta(days=2)
    last = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return {
        "periodFrom": start.isoformat(),
        "periodTo": today.isoformat(),
        "year": today.year,
        "period": f"{last[0]:04d}-{last[1]:02d}",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m app serve` in a subprocess, its output in a file."""

    def __init__(self, database_url: str, log: Path, app_dir: Path = ROOT) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PASAR_RATE_LIMITS": "off",
            "PASAR_COUNT_SQL": "true",
            "PASAR_FAIRNESS_REFRESH_SECONDS": "0",
            "PASAR_OUTBOX_DISPATCH_SECONDS": "0",
            "PASAR_CLOCKS_SECONDS": "0",
            "PASAR_LOG_LEVEL": "WARNING",
        }
        env.pop("PASAR_REDIS_URL", None)
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(self.port)],
            cwd=app_dir,  # `python -m` imports the app from its working folder first
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server ended: {log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("the server did not answer /healthz within 120 s")
            time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def post(client: httpx.Client, token: str | None, body: dict) -> tuple[dict, float]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    r = client.post("/graphql", json=body, headers=headers)
    took = (time.perf_counter() - started) * 1000
    data = r.json()
    if data.get("errors"):
        raise SystemExit(f"{body.get('operationName') or body['query'][:60]}: {json.dumps(data['errors'])[:500]}")
    return data, took


def api_calls(client: httpx.Client, token: str, p: dict, runs: int) -> list[dict]:
    """Each operation of the page, and each aggregate field alone: median ms and statements."""
    top = post(
        client,
        token,
        {"query": '{ equityByCategory(periodFrom: "2000-01-01", periodTo: "2000-01-01") { category { id } } }'},
    )[0]["data"]["equityByCategory"]
    category = top[0]["category"]["id"]
    low = {"period": p["period"], "threshold": LOW_INCOME_THRESHOLD, "months": LOW_INCOME_MONTHS}
    page_ops = [
        (name, {"query": DOCUMENT, "operationName": name, "variables": variables})
        for name, variables in operations(p, category)
    ]
    fields = [
        (
            "equityByCategory",
            "query($f: Date!, $t: Date!) { equityByCategory(periodFrom: $f, periodTo: $t) { category { id name }"
            " report { members sellers purchases total gini zeroSalesShare top10Share lorenz } } }",
            {"f": p["periodFrom"], "t": p["periodTo"]},
        ),
        (
            "opdSpending",
            "query($y: Int!) { opdSpending(year: $y) { opd { id code name } spend orders umkmReached pagu paguShare"
            " meetsSmallBusinessRule fairnessListShare medianDaysToPay unpaidDelivered } }",
            {"y": p["year"]},
        ),
        *(
            (
                f"umkmSalesRanking {order}",
                "query($c: ID!, $f: Date!, $t: Date!, $n: Int!, $o: SalesOrder!) { umkmSalesRanking(categoryId: $c,"
                " periodFrom: $f, periodTo: $t, order: $o, first: $n) { totalCount edges { rank amount orders opds"
                " daysSinceVerification umkm { id name kecamatan { name } } } } }",
                {"c": category, "f": p["periodFrom"], "t": p["periodTo"], "n": RANK_FIRST, "o": order},
            )
            for order in ("MOST", "LEAST")
        ),
        (
            "omzetCompliance",
            "query($p: String!) { omzetCompliance(period: $p) { expected onTime late missing"
            " byKecamatan { kecamatan { id } expected } } }",
            {"p": p["period"]},
        ),
        (
            "lowIncomeByKecamatan",
            "query($p: String!, $t: Rupiah!, $m: Int!) { lowIncomeByKecamatan(period: $p, threshold: $t, months: $m)"
            " { kecamatan { id } expected lowIncome } lowIncomeUmkm(period: $p, threshold: $t, months: $m)"
            " { totalCount } }",
            {"p": low["period"], "t": low["threshold"], "m": low["months"]},
        ),
    ]
    out = []
    for label, body in [*page_ops, *((f"field {n}", {"query": q, "variables": v}) for n, q, v in fields)]:
        post(client, token, body)  # warm-up
        times, statements = [], None
        for _ in range(runs):
            data, took = post(client, token, body)
            times.append(took)
            statements = data.get("extensions", {}).get("sqlStatements")
        out.append(
            {"call": label, "median_ms": statistics.median(times), "min_ms": min(times), "statements": statements}
        )
    return out


def operations(p: dict, category: str) -> list[tuple[str, dict]]:
    """The page's queries and the variables dasbor.js sends with them (sign-in and sign-out aside)."""
    from graphql import OperationType, parse

    out = []
    for d in parse(DOCUMENT).definitions:
        if d.operation is not OperationType.QUERY:
            continue
        wanted = {v.variable.name.value for v in d.variable_definitions or ()}
        values = {
            **p,
            "threshold": LOW_INCOME_THRESHOLD,
            "months": LOW_INCOME_MONTHS,
            "categoryId": category,
            "first": RANK_FIRST,
        }
        out.append((d.name.value, {k: v for k, v in values.items() if k in wanted}))
    return out


def first_views(url: str, token: str, runs: int, timeout: float) -> list[dict]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.is_file():
            raise SystemExit(f"{path} is missing: apt-get install -y {package}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for a in BROWSER_ARGS:
        options.add_argument(a)
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(timeout)
    results = []
    try:
        browser.get(url + "/dasbor")  # the login view: the origin, so that its sessionStorage can take the token
        browser.execute_script("sessionStorage.setItem('dasbor.token', arguments[0])", token)
        for i in range(runs + 1):
            browser.get(url + "/dasbor")
            try:
                WebDriverWait(browser, timeout, poll_frequency=0.05).until(
                    lambda b: b.execute_script("return document.body.dataset.ready") == "true"
                )
            except Exception:
                state = browser.execute_script(
                    "return [document.body.dataset.state, document.getElementById('status').textContent]"
                )
                raise SystemExit(f"run {i}: the page was not ready within {timeout:.0f} s: {state}") from None
            r = browser.execute_script(
                """const m = performance.getEntriesByName('dasbor-ready')[0];
                   const n = performance.getEntriesByType('navigation')[0];
                   return {ready_ms: m.startTime, dom_content_loaded_ms: n.domContentLoadedEventEnd,
                           page: window.dasborTimings,
                           graphql: performance.getEntriesByType('resource').filter(r => r.name.endsWith('/graphql'))
                               .map(r => ({start_ms: r.startTime, duration_ms: r.duration}))}"""
            )
            r["run"] = "warm-up" if i == 0 else i
            results.append(r)
    finally:
        browser.quit()
    return results


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return f"{cpu}, {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", required=True, help="an S data set (bench.dataset), migrated")
    ap.add_argument("--runs", type=int, default=7, help="page loads measured (after one warm-up)")
    ap.add_argument("--api-runs", type=int, default=5, help="times each API call is measured (after one warm-up)")
    ap.add_argument("--email", default="analis@bench.pasar.id")
    ap.add_argument("--password", default="pasar-bench-2026")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--json", type=Path, help="write every figure to this file")
    ap.add_argument("--no-browser", action="store_true", help="the API calls only")
    ap.add_argument("--log", type=Path, default=Path("/tmp/dasbor-first-view-server.log"))
    ap.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="serve the app (and its page) from this checkout instead, e.g. an older commit's `git archive` to compare",
    )
    args = ap.parse_args(argv)

    today = dt.datetime.now(JAKARTA).date()
    p = periods(today)
    started = dt.datetime.now(dt.UTC)
    print(f"dasbor first view: {started:%Y-%m-%d %H:%M} UTC; {machine()}; {args.database_url.rsplit('@', 1)[-1]}")
    if args.app_dir.resolve() != ROOT:
        print(f"app served from {args.app_dir}")
    server = Server(args.database_url, args.log, args.app_dir.resolve())
    report: dict = {"date": started.isoformat(), "machine": machine(), "periods": p}
    try:
        with httpx.Client(base_url=server.url, timeout=args.timeout) as client:
            login = post(
                client,
                None,
                {
                    "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p})"
                    " { token user { role } errors { message } } }",
                    "variables": {"e": args.email, "p": args.password},
                },
            )[0]["data"]["login"]
            token = login["token"]
            if not token:
                raise SystemExit(f"sign-in failed: {login['errors']}")
            try:
                calls = api_calls(client, token, p, args.api_runs)
                report["api"] = calls
                print(f"\nAPI calls over HTTP (median of {args.api_runs}, after a warm-up):")
                print(f"{'call':<34} {'median ms':>10} {'min ms':>9} {'statements':>11}")
                for c in calls:
                    print(f"{c['call']:<34} {c['median_ms']:>10.1f} {c['min_ms']:>9.1f} {c['statements']!s:>11}")
                if not args.no_browser:
                    views = first_views(server.url, token, args.runs, args.timeout)
                    measured = [v for v in views if v["run"] != "warm-up"]
                    report["first_views"] = views
                    ready = [v["ready_ms"] for v in measured]
                    median = statistics.median(ready)
                    report["first_view_median_ms"] = median
                    print(f"\nfirst view, navigation start to every chart and table rendered ({args.runs} runs):")
                    print("  " + ", ".join(f"{v:.0f}" for v in ready) + " ms")
                    print(f"  median {median:.0f} ms, min {min(ready):.0f}, max {max(ready):.0f}")
                    mid = min(measured, key=lambda v: abs(v["ready_ms"] - median))
                    page = json.dumps({k: round(v) for k, v in mid["page"].items()})
                    print(
                        f"  the median run: DOMContentLoaded {mid['dom_content_loaded_ms']:.0f} ms; page timings (ms"
                        f" after the page's script started): {page}"
                    )
                    print(
                        "  its GraphQL requests (start, duration ms): "
                        + ", ".join(f"({g['start_ms']:.0f}, {g['duration_ms']:.0f})" for g in mid["graphql"])
                    )
            finally:
                post(client, token, {"query": "mutation { logout { ok } }"})
    finally:
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
