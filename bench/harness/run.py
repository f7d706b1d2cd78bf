"""Our GraphQL server against the raw baseline and PostGraphile, side by side, in rounds; ratios to the baseline.

    python -m bench.harness.run --database-url postgres://postgres@127.0.0.1:5432/bench_s \\
        [--scenarios S1 S2 S5] [--rounds 3] [--duration 5] [--json FILE] [--markdown FILE]

1. Prepare the database (idempotent, printed): for S1 the committed migrations (`python -m app migrate`) when
   migration 0007's index for the NEWEST product order is missing, and no `bench_product_newest` (the stand-in
   earlier runs created); the peer's view `bench_peer.visible_product`, a 50-item order for S2, a huge stock on
   S5's product, the fairness statistics for S3 (`pasar fairness rebuild` when empty), twelve omzet reports for S4
   (submitted through our API as the UMKM's owner), login tokens (admin, analyst, an OPD buyer), and last today's
   under-sold list of each S3 category, built through the app's own code when missing or stale (the baseline only
   reads stored lists).
2. Count: our server with PASAR_COUNT_SQL=true answers each variant once; `extensions.sqlStatements` is recorded
   (statements while executing; the token lookup is not counted).
3. Start ours (uvicorn, `app:create_app --factory`), the baseline (`bench.harness.baseline`) and the peer
   (PostGraphile 4, `bench/harness/peer`, npm-installed on first use), each one process pinned to the server core
   (`taskset -c 0`); PostgreSQL's postmaster is pinned to the client core for the run (its new backends inherit it;
   restored at the end; --no-pin-postgres to leave it) and the load generator runs there too.
4. Check: ours equals the baseline (canonical JSON; byte equality reported too), the peer returns the same records
   (a projection), S5's two write paths write the same rows. A failed check makes the exit status 1.
5. Measure: every (variant, server) once per round at 16 connections (throughput) and once at 1 connection
   (latency), in a fresh random order each round, with `wrk` (or the bounded Python client `bench.harness.load`).
   Ratios are paired per round (ours / baseline in the same round): median and min-max; a ratio whose min or max
   is more than 10% off its median marks the row NOISY.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from bench.harness import scenarios as sc

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PEER_DIR = HERE / "peer"
WRK_SCRIPT = HERE / "wrk_post.lua"
SECRET = "pasar-bench-harness-secret-0001"  # PASAR_SECRET of ours and the baseline
PASSWORD = "pasar-bench-2026"  # bench.dataset.BENCH_PASSWORD
JAKARTA = ZoneInfo("Asia/Jakarta")
BENCH_RATE_LIMITS = ";".join(f"{who}=1000000000/minute" for who in ("anonymous", "user", "partner", "ADMIN", "ANALYST"))
POOL = 10  # database connections per server: ours (PASAR_DB_POOL_SIZE), baseline, peer (--max-pool-size)
NOISE = 0.10
GATE_S1_THROUGHPUT = 0.06
GATE_S1_P50 = 8.0
S2_FIXTURE = "BENCH-S2-50"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- variants


@dataclass
class Variant:
    key: str  # "S1 first=50"
    scenario: str
    variables: dict
    token: str | None = None
    peer_variables: dict | None = None  # None: the peer has no equivalent
    float_digits: int | None = None
    note: str = ""
    min_duration: int = 0  # slow scenarios (S3 on L: ~1 s per request) measure at least this long

    def body(self, server: str) -> dict:
        if server == "peer":
            return {"query": sc.PEER[self.scenario], "variables": self.peer_variables}
        return {"query": sc.OURS[self.scenario], "variables": self.variables}

    def path(self, server: str) -> str:
        return f"/{self.scenario.lower()}" if server == "baseline" else "/graphql"

    def servers(self) -> list[str]:
        return ["ours", "baseline"] + (["peer"] if self.peer_variables is not None else [])


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Proc:
    name: str
    port: int
    popen: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


def spawn(name: str, cmd: list[str], env: dict[str, str], port: int, logdir: Path, cwd: Path = ROOT) -> Proc:
    path = logdir / f"{name}.log"
    fh = path.open("wb")
    popen = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    return Proc(name, port, popen, path)


def pinned(core: int | None, cmd: list[str]) -> list[str]:
    return (["taskset", "-c", str(core)] if core is not None and shutil.which("taskset") else []) + cmd


def start_ours(
    url: str, core: int | None, logdir: Path, count_sql: bool, name: str = "ours", log_level: str = "INFO"
) -> Proc:
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        PASAR_SECRET=SECRET,
        PASAR_GRAPHIQL="false",
        PASAR_COUNT_SQL="true" if count_sql else "false",
        PASAR_DB_POOL_SIZE=str(POOL),
        # the per-caller rate limits run on every request, as in production, with quotas the load cannot reach
        # (the load generator is one caller: measured here is the limiter's cost, not its refusals)
        PASAR_RATE_LIMITS=BENCH_RATE_LIMITS,
        PASAR_LOG_LEVEL=log_level,  # INFO: one log line per request, as `pasar serve` writes it (to the server's log)
        PASAR_CLOCKS_SECONDS="0",  # the order clocks would cancel and remind in the data set while it is measured
    )
    # `app:worker_app` sets up the app's logging from the environment as `pasar serve` does (`app:create_app` alone
    # would leave the request log line without a handler); uvicorn's own access line is off, as under `pasar serve`
    cmd = [sys.executable, "-m", "uvicorn", "app:worker_app", "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    return spawn(name, pinned(core, cmd), env, port, logdir)


def start_baseline(url: str, core: int | None, logdir: Path) -> Proc:
    port = free_port()
    env = dict(os.environ, PASAR_SECRET=SECRET)
    cmd = [sys.executable, "-m", "bench.harness.baseline", "--port", str(port), "--database-url", url]
    cmd += ["--pool-size", str(POOL)]
    return spawn("baseline", pinned(core, cmd), env, port, logdir)


def ensure_peer_installed() -> Path:
    binary = PEER_DIR / "node_modules" / ".bin" / "postgraphile"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm not found: install Node 18+ to run the PostGraphile peer (or --no-peer)")
        args = ["ci"] if (PEER_DIR / "package-lock.json").exists() else ["install"]
        log(f"installing PostGraphile 4 into {PEER_DIR} (npm {args[0]})")
        subprocess.run([npm, *args, "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER_DIR, check=True)
    return binary


def start_peer(url: str, core: int | None, logdir: Path) -> Proc:
    binary = ensure_peer_installed()
    port = free_port()
    env = dict(os.environ, NODE_ENV="production")
    cmd = [str(binary), "-c", pg_dsn(url), "-s", "public,bench_peer", "-n", "127.0.0.1", "-p", str(port)]
    cmd += ["--disable-graphiql", "--disable-query-log", "-m", str(POOL)]
    return spawn("peer", pinned(core, cmd), env, port, logdir, cwd=PEER_DIR)


def pg_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgres", parts.netloc, parts.path, "", ""))


# ---------------------------------------------------------------- HTTP (checks)


def post(port: int, path: str, body: dict, token: str | None = None) -> tuple[bytes, dict[str, str]]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.read(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.read(), {k.lower(): v for k, v in e.headers.items()}


def gql(port: int, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    raw, _ = post(port, "/graphql", {"query": query, "variables": variables or {}}, token)
    return json.loads(raw)


def wait_ready(proc: Proc, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise SystemExit(f"{proc.name} exited: see {proc.log_path}\n{proc.log_path.read_text()[-2000:]}")
        try:
            if proc.name == "peer":
                if "data" in gql(proc.port, "{ __typename }"):
                    return
            else:
                with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        return
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{proc.name} not ready after {timeout:.0f} s: see {proc.log_path}")


# ---------------------------------------------------------------- database preparation


def db_connect(url: str):
    import asyncpg

    return asyncpg.connect(pg_dsn(url).replace("postgres://", "postgresql://", 1))


def jakarta_today() -> dt.date:
    return dt.datetime.now(dt.UTC).astimezone(JAKARTA).date()


def month_add(period: str, k: int) -> str:
    y, m = int(period[:4]), int(period[5:7]) + k
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    return f"{y:04d}-{m:02d}"


@dataclass
class Fixtures:
    tokens: dict[str, str] = field(default_factory=dict)
    order5: int | None = None
    order50: int | None = None
    categories: list[tuple[str, int, int]] = field(default_factory=list)  # (label, id, products)
    as_of: str = ""
    s4_umkm: int | None = None
    s4_window: tuple[str, str] = ("", "")
    s5_product: int | None = None
    s5_quantity: int = 1
    s5_needed_by: str = ""
    notes: list[str] = field(default_factory=list)


NEWEST_INDEX_SQL = (
    "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'product' "
    "AND indexdef LIKE '%(created_at, id)'"
)


async def newest_index(conn, url: str, fx: Fixtures) -> None:
    """S1's default NEWEST order reads migration 0007's index on product (created_at, id) backwards: a database
    loaded before it gets the committed migrations, and the stand-in index earlier runs created goes."""
    if not await conn.fetchval(NEWEST_INDEX_SQL):
        log("S1: migration 0007's index on product (created_at, id) is missing: running `python -m app migrate`")
        started = time.perf_counter()
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "app", "migrate"],
            cwd=ROOT,
            env=dict(os.environ, DATABASE_URL=url),
            check=True,
        )
        if not await conn.fetchval(NEWEST_INDEX_SQL):
            raise SystemExit("the committed migrations left no index on product (created_at, id)")
        took = time.perf_counter() - started
        fx.notes.append(f"committed migrations applied: 0007, index on product (created_at, id) ({took:.1f} s)")
    if await conn.fetchval("SELECT to_regclass('public.bench_product_newest')") is not None:
        await conn.execute("DROP INDEX bench_product_newest")
        fx.notes.append(
            "index bench_product_newest of earlier runs dropped: migration 0007 has the NEWEST order's index"
        )


async def prepare_db(url: str, wanted: set[str], peer: bool, fx: Fixtures) -> dict:
    conn = await db_connect(url)
    try:
        info = {
            "postgres": await conn.fetchval("SHOW server_version"),
            "products": await conn.fetchval('SELECT count(*) FROM "product"'),
            "orders": await conn.fetchval('SELECT count(*) FROM "order"'),
            "umkm": await conn.fetchval('SELECT count(*) FROM "umkm"'),
        }
        if "S1" in wanted:
            await newest_index(conn, url, fx)
        if peer:
            await conn.execute(sc.PEER_VIEW_SQL)
        if "S2" in wanted:
            fx.order5 = await conn.fetchval(
                'SELECT "order_id" FROM "order_item" GROUP BY "order_id" HAVING count(*) = 5 '
                'ORDER BY "order_id" LIMIT 1'
            )
            fx.order50 = await conn.fetchval('SELECT "id" FROM "order" WHERE "number" = $1', S2_FIXTURE)
            if fx.order50 is None:
                fx.order50 = await _make_order50(conn, fx.order5)
                fx.notes.append(f"S2: created order {fx.order50} ({S2_FIXTURE}, CANCELLED) with 50 items")
        if "S3" in wanted:
            if not await conn.fetchval('SELECT count(*) FROM "umkm_category_sales"'):
                log("S3: the fairness statistics are empty: running `python -m app fairness rebuild`")
                started = time.perf_counter()
                await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "app", "fairness", "rebuild"],
                    cwd=ROOT,
                    env=dict(os.environ, DATABASE_URL=url),
                    check=True,
                )
                fx.notes.append(f"S3: fairness statistics rebuilt ({time.perf_counter() - started:.0f} s)")
            rows = await conn.fetch(
                """WITH RECURSIVE t AS (SELECT id AS root, id FROM category WHERE parent_id IS NULL
                   UNION ALL SELECT t.root, c.id FROM category c JOIN t ON c.parent_id = t.id)
                   SELECT t.root AS id, count(p.id) AS n FROM t LEFT JOIN product p ON p.category_id = t.id
                   GROUP BY t.root ORDER BY count(p.id) DESC, t.root"""
            )
            largest, median = rows[0], rows[len(rows) // 2]
            fx.categories = [("largest", largest["id"], largest["n"]), ("median", median["id"], median["n"])]
            fx.as_of = jakarta_today().isoformat()
        if "S4" in wanted:
            last = (jakarta_today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
            first = month_add(last, -11)
            fx.s4_window = (first, last)
            start_utc = dt.datetime.combine(dt.date.fromisoformat(first + "-01"), dt.time(), JAKARTA)
            fx.s4_umkm = await conn.fetchval(
                """SELECT s.umkm_id FROM umkm_monthly_sales s JOIN umkm u ON u.id = s.umkm_id
                   WHERE s.period BETWEEN $1 AND $2 AND u.created_at < $3 AND u.status = 'VERIFIED'
                     AND NOT EXISTS (SELECT 1 FROM omzet_report r WHERE r.umkm_id = s.umkm_id
                                     AND (r.period < $1 OR r.period > $2))
                   GROUP BY s.umkm_id HAVING count(*) = 12 ORDER BY sum(s.amount) DESC, s.umkm_id LIMIT 1""",
                first,
                last,
                start_utc,
            )
        if "S5" in wanted:
            row = await conn.fetchrow(
                """SELECT p.id, p.min_order_quantity, p.lead_time_days FROM product p JOIN umkm u ON u.id = p.umkm_id
                   WHERE p.active AND NOT p.made_to_order AND u.status = 'VERIFIED' AND p.options::text = '[]'
                     AND p.lead_time_days <= 14 ORDER BY p.id LIMIT 1"""
            )
            fx.s5_product, fx.s5_quantity = row["id"], row["min_order_quantity"]
            await conn.execute('UPDATE "product" SET "stock" = 1000000000 WHERE "id" = $1', fx.s5_product)
            fx.s5_needed_by = (jakarta_today() + dt.timedelta(days=60)).isoformat()
            fx.notes.append(f"S5: product {fx.s5_product} stock set to 1,000,000,000 (orders pile up in the database)")
        return info
    finally:
        await conn.close()


async def _make_order50(conn, order5: int) -> int:
    """A 50-item order (the dataset's orders have 1-5 lines): the 5-item order's header, its UMKM's products
    cycled with quantities 1..50; CANCELLED, so no sales figure, stock or capacity changes."""
    async with conn.transaction():
        head = await conn.fetchrow('SELECT * FROM "order" WHERE "id" = $1', order5)
        products = await conn.fetch(
            'SELECT "id", "category_id", "name", "unit", "price" FROM "product" WHERE "umkm_id" = $1 ORDER BY "id"',
            head["umkm_id"],
        )
        lines = [(products[i % len(products)], i + 1) for i in range(50)]
        total = sum(p["price"] * q for p, q in lines)
        oid = await conn.fetchval(
            """INSERT INTO "order" ("number", "kind", "opd_id", "buyer_id", "umkm_id", "status", "total", "needed_by",
                   "delivery_address", "note", "source", "closed_reason", "created_at", "updated_at")
               VALUES ($1, $2, $3, $4, $5, 'CANCELLED', $6, $7, $8, 'bench harness S2 fixture', 'SEARCH',
                   'bench harness S2 fixture', now(), now()) RETURNING "id" """,
            S2_FIXTURE,
            head["kind"],
            head["opd_id"],
            head["buyer_id"],
            head["umkm_id"],
            total,
            head["needed_by"],
            head["delivery_address"],
        )
        await conn.executemany(
            """INSERT INTO "order_item" ("order_id", "product_id", "category_id", "name", "unit", "unit_price",
                   "quantity", "subtotal") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            [(oid, p["id"], p["category_id"], p["name"], p["unit"], p["price"], q, p["price"] * q) for p, q in lines],
        )
        await conn.executemany(
            """INSERT INTO "order_event" ("order_id", "from_status", "to_status", "actor_id", "note", "created_at")
               VALUES ($1, $2, $3, $4, $5, now())""",
            [
                (oid, None, "SUBMITTED", head["buyer_id"], ""),
                (oid, "SUBMITTED", "CANCELLED", head["buyer_id"], "bench"),
            ],
        )
    return oid


LOGIN = "mutation($input: LoginInput!) { login(input: $input) { token errors { code message } } }"
SUBMIT = (
    "mutation($input: SubmitOmzetReportInput!) { submitOmzetReport(input: $input) { "
    "report { period } errors { code message } } }"
)


def login(port: int, email: str) -> str:
    body = gql(port, LOGIN, {"input": {"email": email, "password": PASSWORD}})
    token = ((body.get("data") or {}).get("login") or {}).get("token")
    if not token:
        raise SystemExit(f"could not log in as {email}: {body}")
    return token


async def owner_email(url: str, umkm_id: int) -> tuple[str, list[str]]:
    conn = await db_connect(url)
    try:
        email = await conn.fetchval(
            'SELECT u."email" FROM "umkm" m JOIN "user" u ON u."id" = m."owner_id" WHERE m."id" = $1', umkm_id
        )
        periods = [
            r["period"] for r in await conn.fetch('SELECT "period" FROM "omzet_report" WHERE "umkm_id" = $1', umkm_id)
        ]
        return email, periods
    finally:
        await conn.close()


def prepare_api(port: int, url: str, wanted: set[str], fx: Fixtures) -> None:
    """Tokens, and S4's reports, through our API (the count instance)."""
    if wanted & {"S2"}:
        fx.tokens["admin"] = login(port, "admin@bench.pasar.id")
    if wanted & {"S3", "S4"}:
        fx.tokens["analyst"] = login(port, "analis@bench.pasar.id")
    if "S5" in wanted:
        fx.tokens["buyer"] = login(port, "opd.buyer1.dispendik@bench.pasar.id")
    if "S4" in wanted:
        email, have = asyncio.run(owner_email(url, fx.s4_umkm))
        first = fx.s4_window[0]
        missing = [p for p in (month_add(first, k) for k in range(12)) if p not in have]
        if missing:
            owner = login(port, email)
            for k, period in enumerate(missing):
                body = gql(
                    port,
                    SUBMIT,
                    {
                        "input": {
                            "umkmId": sc_gid("Umkm", fx.s4_umkm),
                            "period": period,
                            "offlineAmount": 4_000_000 + 250_000 * k,
                            "otherOnlineAmount": 500_000,
                            "workers": 3,
                        }
                    },
                    owner,
                )
                errs = (body.get("data") or {}).get("submitOmzetReport", {}).get("errors") or body.get("errors")
                if errs:
                    raise SystemExit(f"S4: could not submit {period} for UMKM {fx.s4_umkm}: {errs}")
            fx.notes.append(f"S4: {len(missing)} omzet reports submitted for UMKM {fx.s4_umkm} by {email}")


async def todays_lists(url: str, fx: Fixtures) -> None:
    """S3: today's under-sold list of each measured category, stored as its first reader would store it
    (`resolvers.fairness_snapshot.snapshot`: built when missing or stale, else left as it is). After S4's reports,
    which make the lists stale. Our server would build it on its first request; the baseline only reads it."""
    from tortoise import Tortoise

    import models
    from resolvers import fairness_snapshot
    from resolvers.ranking import list_moment

    await Tortoise.init(config=models.tortoise_config(url, pool_size=2))
    try:
        moment = list_moment(dt.date.fromisoformat(fx.as_of))
        for label, cid, _ in fx.categories:
            started = time.perf_counter()
            snap = await fairness_snapshot.snapshot(cid, moment)
            took = time.perf_counter() - started
            built = snap.cats is not None  # the subtree is read only when the list is (re)built
            what = f"built ({took:.1f} s)" if built else "already fresh"
            log(f"S3: today's list of category {cid} ({label}): {what}, {snap.eligible} places")
            if built:
                fx.notes.append(
                    f"S3: today's list of category {cid} ({label}) built through the app in {took:.1f} s "
                    f"({snap.eligible} places, {snap.policy_version})"
                )
    finally:
        await Tortoise.close_connections()


def sc_gid(type_name: str, pk: int) -> str:
    from bench.harness.baseline import gid

    return gid(type_name, pk)


def build_variants(wanted: list[str], fx: Fixtures) -> list[Variant]:
    out: list[Variant] = []
    for s in wanted:
        if s == "S1":
            for n in (10, 50, 100):
                out.append(Variant(f"S1 first={n}", "S1", {"first": n}, None, {"first": n}))
        elif s == "S2":
            for oid, n in ((fx.order5, 5), (fx.order50, 50)):
                out.append(
                    Variant(f"S2 items={n}", "S2", {"id": sc_gid("Order", oid)}, fx.tokens["admin"], {"id": oid})
                )
        elif s == "S3":
            for label, cid, products in fx.categories:
                out.append(
                    Variant(
                        f"S3 {label} cat={cid}",
                        "S3",
                        {"categoryId": sc_gid("Category", cid), "first": 20, "asOf": fx.as_of},
                        fx.tokens["analyst"],
                        None,
                        float_digits=12,
                        note=f"{products} products in the subtree",
                        min_duration=15,
                    )
                )
        elif s == "S4":
            first, last = fx.s4_window
            out.append(
                Variant(
                    f"S4 umkm={fx.s4_umkm}",
                    "S4",
                    {"umkmId": sc_gid("Umkm", fx.s4_umkm), "from": first, "to": last},
                    fx.tokens["analyst"],
                    {"umkmId": fx.s4_umkm},
                    note=f"{first}..{last}",
                )
            )
        elif s == "S5":
            inp = {
                "items": [{"productId": sc_gid("Product", fx.s5_product), "quantity": fx.s5_quantity}],
                "neededBy": fx.s5_needed_by,
                "deliveryAddress": "Jl. Jimerto 25-27, Surabaya",
                "note": "bench harness S5",
            }
            out.append(Variant("S5 placeOrder", "S5", {"input": inp}, fx.tokens["buyer"], None))
    return out


# ---------------------------------------------------------------- checks


@dataclass
class Check:
    variant: str
    what: str
    ok: bool
    detail: str = ""


def _first_diff(a: str, b: str) -> str:
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"at char {i}: ours …{a[max(0, i - 80) : i + 80]}… vs …{b[max(0, i - 80) : i + 80]}…"


def check_read(v: Variant, procs: dict[str, Proc]) -> tuple[list[Check], dict]:
    checks, facts = [], {}
    ours_raw, _ = post(procs["ours"].port, v.path("ours"), v.body("ours"), v.token)
    base_raw, headers = post(procs["baseline"].port, v.path("baseline"), v.body("baseline"), v.token)
    ours, base = json.loads(ours_raw), json.loads(base_raw)
    facts["baseline_sql"] = headers.get("x-sql-statements")
    facts["bytes"] = len(ours_raw)
    facts["records"] = _records(v, ours)
    no_errors = "errors" not in ours and "errors" not in base
    checks.append(
        Check(
            v.key, "no errors", no_errors, "" if no_errors else f"ours {ours_raw[:300]!r} baseline {base_raw[:300]!r}"
        )
    )
    a, b = sc.canonical(ours, v.float_digits), sc.canonical(base, v.float_digits)
    checks.append(Check(v.key, "ours == baseline (canonical JSON)", a == b, "" if a == b else _first_diff(a, b)))
    facts["byte_identical"] = ours_raw == base_raw
    if "peer" in procs and v.peer_variables is not None:
        peer_raw, _ = post(procs["peer"].port, v.path("peer"), v.body("peer"))
        peer = json.loads(peer_raw)
        if "errors" in peer or not peer.get("data"):
            checks.append(Check(v.key, "peer records == ours", False, peer_raw[:400].decode(errors="replace")))
        else:
            pa, pb = sc.project_ours(v.scenario, ours), sc.project_peer(v.scenario, peer)
            checks.append(
                Check(
                    v.key,
                    "peer records == ours (projection)",
                    pa == pb,
                    "" if pa == pb else f"{pa!r:.300} vs {pb!r:.300}",
                )
            )
    return checks, facts


def _records(v: Variant, body: dict) -> int | None:
    data = body.get("data") or {}
    with contextlib.suppress(Exception):
        if v.scenario == "S1":
            return len(data["products"]["edges"])
        if v.scenario == "S2":
            return len(data["order"]["items"])
        if v.scenario == "S3":
            return len(data["underSoldUmkm"]["edges"])
        if v.scenario == "S4":
            return len(data["omzetReports"]["edges"])
        if v.scenario == "S5":
            return len(data["placeOrder"]["orders"])
    return None


ORDER_COLS = (
    "kind, opd_id, buyer_id, umkm_id, placement_id, status, total, needed_by, delivery_address, note, source, "
    "source_rank, accepted_at, shipped_at, delivered_at, received_by, paid_at, closed_reason"
)


async def _written(url: str, order_id: int) -> dict:
    conn = await db_connect(url)
    try:
        head = await conn.fetchrow(f'SELECT {ORDER_COLS}, "number", "id" FROM "order" WHERE "id" = $1', order_id)
        items = await conn.fetch(
            "SELECT product_id, category_id, option, name, unit, unit_price, quantity, subtotal, capacity_period "
            'FROM "order_item" WHERE "order_id" = $1 ORDER BY "id"',
            order_id,
        )
        events = await conn.fetch(
            'SELECT from_status, to_status, actor_id, note FROM "order_event" WHERE "order_id" = $1 ORDER BY "id"',
            order_id,
        )
        return {
            "order": {k: head[k] for k in ORDER_COLS.split(", ")},
            "number_ok": head["number"] == f"PO-{jakarta_today().year}-{head['id']:06d}",
            "items": [dict(r) for r in items],
            "events": [dict(r) for r in events],
        }
    finally:
        await conn.close()


async def _stock(url: str, product_id: int) -> int:
    conn = await db_connect(url)
    try:
        return await conn.fetchval('SELECT "stock" FROM "product" WHERE "id" = $1', product_id)
    finally:
        await conn.close()


def check_write(
    v: Variant, procs: dict[str, Proc], url: str, product_id: int, quantity: int
) -> tuple[list[Check], dict]:
    checks, facts, written, bodies = [], {}, {}, {}
    for server in ("ours", "baseline"):
        before = asyncio.run(_stock(url, product_id))
        raw, headers = post(procs[server].port, v.path(server), v.body(server), v.token)
        after = asyncio.run(_stock(url, product_id))
        body = json.loads(raw)
        bodies[server] = body
        if server == "baseline":
            facts["baseline_sql"] = headers.get("x-sql-statements")
        orders = ((body.get("data") or {}).get("placeOrder") or {}).get("orders") or []
        ok = "errors" not in body and len(orders) == 1 and before - after == quantity
        checks.append(
            Check(v.key, f"{server}: one order placed, stock -{quantity}", ok, "" if ok else raw[:400].decode())
        )
        if orders:
            written[server] = asyncio.run(_written(url, sc.pk(orders[0]["id"])))
    if len(written) == 2:
        a, b = written["ours"], written["baseline"]
        same = a["order"] == b["order"] and a["items"] == b["items"] and a["events"] == b["events"]
        checks.append(
            Check(
                v.key,
                "same rows written (order, item, event, stock)",
                same and a["number_ok"] and b["number_ok"],
                "" if same else f"{a} vs {b}",
            )
        )
        shape = [
            {k: ("*" if k in ("id", "number") else x) for k, x in o.items()}
            for o in bodies["ours"]["data"]["placeOrder"]["orders"]
        ]
        shape_b = [
            {k: ("*" if k in ("id", "number") else x) for k, x in o.items()}
            for o in bodies["baseline"]["data"]["placeOrder"]["orders"]
        ]
        # the top-level keys but `extensions` (ours reports the cost there; the canonical JSON drops it too)
        keys = {who: [k for k in bodies[who] if k != "extensions"] for who in ("ours", "baseline")}
        same_shape = sc.canonical(shape) == sc.canonical(shape_b) and keys["ours"] == keys["baseline"]
        checks.append(
            Check(
                v.key,
                "same response but ids (canonical JSON)",
                same_shape,
                "" if same_shape else f"{shape} vs {shape_b}",
            )
        )
    facts["records"] = 1
    return checks, facts


# ---------------------------------------------------------------- load


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def measure(
    port: int, path: str, body_file: Path, token: str | None, connections: int, duration: int, core: int | None
) -> dict:
    url = f"http://127.0.0.1:{port}{path}"
    if shutil.which("wrk"):
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
        cmd += ["-s", str(WRK_SCRIPT), url, "--", str(body_file), token or ""]
    else:
        cmd = [sys.executable, "-m", "bench.harness.load", "--url", url, "--body", str(body_file)]
        cmd += ["-c", str(connections), "-d", str(duration)] + (["--token", token] if token else [])
    out = subprocess.run(pinned(core, cmd), cwd=ROOT, capture_output=True, text=True, timeout=duration + 90)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"load generator failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    r = json.loads(line[len("WRK_JSON ") :])
    seconds = r["duration_us"] / 1e6
    return {
        "rps": r["requests"] / seconds if seconds else 0.0,
        "requests": r["requests"],
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"],
    }


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def drain(url: str, procs, timeout: float = 120.0) -> float:
    """Wait until the servers are idle (no CPU for 0.2 s) and the database runs no query for them."""

    async def active() -> int:
        conn = await db_connect(url)
        try:
            return await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()

    started = time.monotonic()
    pids = [p.popen.pid for p in procs]
    while time.monotonic() - started < timeout:
        before = sum(_cpu_ticks(pid) for pid in pids)
        time.sleep(0.2)
        if sum(_cpu_ticks(pid) for pid in pids) - before <= 1 and asyncio.run(active()) == 0:
            break
    return time.monotonic() - started


# ---------------------------------------------------------------- PostgreSQL pinning


@contextlib.contextmanager
def postgres_pinned(url: str, core: int | None, enabled: bool) -> Iterator[str]:
    """Pin the local postmaster to `core` (new backends inherit it); restore its affinity afterwards."""
    host = urlsplit(url).hostname
    if not enabled or core is None or host not in ("127.0.0.1", "localhost") or not hasattr(os, "sched_setaffinity"):
        yield "not pinned"
        return

    async def backend_pid() -> int:
        conn = await db_connect(url)
        try:
            return await conn.fetchval("SELECT pg_backend_pid()")
        finally:
            await conn.close()

    try:
        pid = asyncio.run(backend_pid())
        ppid = int(
            next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("PPid:")).split()[1]
        )
        if Path(f"/proc/{ppid}/comm").read_text().strip() != "postgres":
            raise OSError("postmaster not found")
        previous = os.sched_getaffinity(ppid)
        os.sched_setaffinity(ppid, {core})
    except (OSError, StopIteration, ValueError) as e:
        yield f"not pinned ({e})"
        return
    try:
        yield f"postmaster {ppid} pinned to core {core} (was {sorted(previous)})"
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(ppid, previous)


# ---------------------------------------------------------------- report


def spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def noisy(values: list[float]) -> bool:
    med, lo, hi = spread(values)
    return med > 0 and (hi / med - 1 > NOISE or 1 - lo / med > NOISE)


def summarise(variants: list[Variant], results: list[dict], counts: dict, facts: dict) -> list[dict]:
    rows = []
    for v in variants:
        for server in v.servers():
            mine = [r for r in results if r["variant"] == v.key and r["server"] == server]
            rounds = sorted({r["round"] for r in mine})
            tput = {r["round"]: r for r in mine if r["mode"] == "c16"}
            lat = {r["round"]: r for r in mine if r["mode"] == "c1"}
            base_t = {
                r["round"]: r
                for r in results
                if r["variant"] == v.key and r["server"] == "baseline" and r["mode"] == "c16"
            }
            base_l = {
                r["round"]: r
                for r in results
                if r["variant"] == v.key and r["server"] == "baseline" and r["mode"] == "c1"
            }
            t_ratio = [
                tput[k]["rps"] / base_t[k]["rps"] for k in rounds if k in tput and k in base_t and base_t[k]["rps"]
            ]
            l_ratio = [
                lat[k]["p50_ms"] / base_l[k]["p50_ms"]
                for k in rounds
                if k in lat and k in base_l and base_l[k]["p50_ms"]
            ]
            row = {
                "variant": v.key,
                "scenario": v.scenario,
                "server": server,
                "rps": statistics.median([x["rps"] for x in tput.values()]) if tput else None,
                "rps_c1": statistics.median([x["rps"] for x in lat.values()]) if lat else None,
                "p50_ms": statistics.median([x["p50_ms"] for x in lat.values()]) if lat else None,
                "p99_ms": statistics.median([x["p99_ms"] for x in lat.values()]) if lat else None,
                "p99_ms_c16": statistics.median([x["p99_ms"] for x in tput.values()]) if tput else None,
                "errors": sum(x["errors"] for x in mine),
                "throughput_ratio": spread(t_ratio) if t_ratio else None,
                "p50_ratio": spread(l_ratio) if l_ratio else None,
                "noisy": bool((t_ratio and noisy(t_ratio)) or (l_ratio and noisy(l_ratio))) and server != "baseline",
                "sql": counts.get(v.key)
                if server == "ours"
                else (facts.get(v.key, {}).get("baseline_sql") if server == "baseline" else "1 (compiled)"),
                "records": facts.get(v.key, {}).get("records"),
            }
            rows.append(row)
    return rows


def fmt_ratio(r: tuple[float, float, float] | None, pct: bool) -> str:
    if r is None:
        return "-"
    med, lo, hi = r
    if pct:
        return f"{med * 100:.1f}% ({lo * 100:.1f}–{hi * 100:.1f})"
    return f"{med:.2f}× ({lo:.2f}–{hi:.2f})"


def fmt_rps(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def sql_label(server: str, scenario: str, sql: Any) -> str:
    """Statements per request: ours while executing (+ the token lookup when the scenario sends a token)."""
    if sql is None:
        return "-"
    if server == "baseline" and isinstance(sql, str) and "; auth=" in sql:
        total, auth = sql.split("; auth=")
        return f"{int(total) - int(auth)}" + (f" (+{auth} token)" if int(auth) else "")
    if server == "ours":
        return f"{sql}" + ("" if scenario == "S1" else " (+token)")
    return str(sql)


def markdown(rows: list[dict]) -> str:
    out = [
        "| scenario | server | SQL/request | req/s c=16 | vs baseline (median, min–max) | p50 / p99 c=1 ms "
        "| p50 vs baseline | flags |",
        "|---|---|---|---:|---|---|---|---|",
    ]
    for r in rows:
        flags = ("NOISY " if r["noisy"] else "") + (f"{r['errors']} errors" if r["errors"] else "")
        sql = sql_label(r["server"], r["scenario"], r["sql"])
        base = r["server"] == "baseline"
        t_ratio = "100%" if base else fmt_ratio(r["throughput_ratio"], True)
        l_ratio = "1×" if base else fmt_ratio(r["p50_ratio"], False)
        out.append(
            f"| {r['variant']} | {r['server']} | {sql} | {fmt_rps(r['rps'])} | {t_ratio} | "
            f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} | {l_ratio} | {flags.strip()} |"
        )
    return "\n".join(out)


def machine() -> dict:
    cpu = next(
        (
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")), 0
    )
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "mem_gib": round(mem / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.harness.run", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="postgres://USER@127.0.0.1:5432/DB (bench.dataset)")
    parser.add_argument("--scenarios", nargs="+", default=list(sc.OURS), choices=list(sc.OURS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load per (variant, server) before round 1")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--seed", type=int, default=None, help="random order of the rounds (default: time)")
    parser.add_argument("--no-peer", action="store_true", help="skip PostGraphile")
    parser.add_argument("--no-pin-postgres", action="store_true")
    parser.add_argument("--json", type=Path, help="write everything measured to this file")
    parser.add_argument("--markdown", type=Path, help="write the table to this file")
    parser.add_argument("--check-only", action="store_true", help="prepare, count and check; no load")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the harness runs on PostgreSQL (the baseline uses asyncpg)")
    if args.rounds < 1 or not 1 <= args.duration <= 120:
        raise SystemExit("--rounds ≥ 1 and --duration 1..120 seconds")
    if (os.cpu_count() or 1) < 2:
        log("warning: one core only: servers, database and load generator share it")
        args.server_core = args.client_core = None
    return args


def count_statements(port: int, variants: list[Variant]) -> dict[str, Any]:
    """`extensions.sqlStatements` of one request per variant (after one warm-up request; S5 writes once)."""
    counts: dict[str, Any] = {}
    for v in variants:
        if v.scenario != "S5":
            post(port, "/graphql", v.body("ours"), v.token)
        raw, _ = post(port, "/graphql", v.body("ours"), v.token)
        counts[v.key] = (json.loads(raw).get("extensions") or {}).get("sqlStatements")
        log(f"{v.key}: {counts[v.key]} SQL statements while executing")
    return counts


def run_checks(variants: list[Variant], procs: dict[str, Proc], url: str, fx: Fixtures) -> tuple[list, dict]:
    checks: list[Check] = []
    facts: dict[str, dict] = {}
    for v in variants:
        if v.scenario == "S5":
            c, f = check_write(v, procs, url, fx.s5_product, fx.s5_quantity)
        else:
            c, f = check_read(v, procs)
        checks += c
        facts[v.key] = f
    for c in checks:
        log(f"{'ok  ' if c.ok else 'FAIL'} {c.variant}: {c.what}{'' if c.ok else ' ' + c.detail}")
    return checks, facts


def run_rounds(variants: list[Variant], procs: dict[str, Proc], args: argparse.Namespace, seed: int, tmp: Path):
    """Warm up every (variant, server), then `rounds` rounds of every (variant, server, c16|c1) in random order."""
    bodies: dict[tuple[str, str], Path] = {}
    for v in variants:
        for server in v.servers():
            path = tmp / f"body-{len(bodies)}.json"
            path.write_text(json.dumps(v.body(server)))
            bodies[(v.key, server)] = path

    def one(v: Variant, server: str, connections: int, seconds: int) -> dict:
        token = v.token if server != "peer" else None
        port, path = procs[server].port, v.path(server)
        m = measure(port, path, bodies[(v.key, server)], token, connections, seconds, args.client_core)
        # requests wrk abandoned at the deadline are still running: let them finish before the next measurement
        m["drain_s"] = drain(args.database_url, procs.values())
        return m

    units = [(v, s) for v in variants for s in v.servers()]
    if args.warmup:
        log(f"warm-up: {len(units)} × {args.warmup} s at c=1")
        for v, s in units:
            one(v, s, 1, args.warmup)
    rng = random.Random(seed)
    plan = [(v, s, mode) for v, s in units for mode in ("c16", "c1")]
    total = len(plan) * args.rounds
    seconds = sum(max(args.duration, v.min_duration) for v, _, _ in plan) * args.rounds
    log(f"{args.rounds} rounds × {len(plan)} measurements ≈ {seconds / 60:.1f} min")
    results = []
    for rnd in range(1, args.rounds + 1):
        order = plan[:]
        rng.shuffle(order)
        for v, s, mode in order:
            m = one(v, s, args.connections if mode == "c16" else 1, max(args.duration, v.min_duration))
            results.append({"round": rnd, "variant": v.key, "server": s, "mode": mode, **m})
            errors = f" errors {m['errors']}" if m["errors"] else ""
            log(
                f"[{len(results)}/{total}] round {rnd} {v.key:<22} {s:<8} {mode:<3} {m['rps']:9.1f} req/s "
                f"p50 {m['p50_ms']:.2f} ms p99 {m['p99_ms']:.2f} ms{errors} (drained in {m['drain_s']:.1f} s)"
            )
    return results


def report(meta: dict, variants: list[Variant], counts: dict, facts: dict, checks: list[Check], rows: list[dict]):
    m, db = meta["machine"], meta["db"]
    print(
        f"\n## {meta['date']} · {m['cpu']}, {m['nproc']} cores, {m['mem_gib']} GiB · PostgreSQL {db['postgres']} · "
        f"{db['products']:,} products · {meta['generator']}, {meta['rounds']} rounds × {meta['duration_s']} s · "
        f"load average {meta['loadavg']['start'][0]:.2f} at the start, {meta['loadavg']['end'][0]:.2f} at the end\n"
    )
    for n in meta["notes"]:
        print(f"* {n}")
    print()
    for v in variants:
        f = facts.get(v.key, {})
        print(
            f"* {v.key}: ours {sql_label('ours', v.scenario, counts.get(v.key))} statements while executing, "
            f"baseline {sql_label('baseline', v.scenario, f.get('baseline_sql'))}; {f.get('records')} records; "
            f"byte-identical JSON: {f.get('byte_identical', '-')}" + (f" · {v.note}" if v.note else "")
        )
    failed = [c for c in checks if not c.ok]
    print(f"\nchecks: {len(checks) - len(failed)}/{len(checks)} ok")
    for c in failed:
        print(f"  FAIL {c.variant}: {c.what} {c.detail}")
    gates: dict[str, Any] = {}
    if not rows:
        return gates, ""
    table = markdown(rows)
    print("\n" + table)
    s1 = next((r for r in rows if r["variant"] == "S1 first=50" and r["server"] == "ours"), None)
    if s1 and s1["throughput_ratio"] and s1["p50_ratio"]:
        t, lat = s1["throughput_ratio"][0], s1["p50_ratio"][0]
        gates = {
            "s1_50_throughput_ratio": t,
            "s1_50_throughput_ok": t >= GATE_S1_THROUGHPUT,
            "s1_50_p50_ratio": lat,
            "s1_50_p50_ok": lat <= GATE_S1_P50,
        }
        print(
            f"\nS1 first=50: ours at {t * 100:.1f}% of the baseline's throughput (gate ≥ {GATE_S1_THROUGHPUT:.0%}: "
            f"{'PASS' if gates['s1_50_throughput_ok'] else 'FAIL'}), c=1 p50 {lat:.2f}× the baseline's "
            f"(gate ≤ {GATE_S1_P50:.0f}×: {'PASS' if gates['s1_50_p50_ok'] else 'FAIL'})"
        )
    return gates, table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wanted = list(dict.fromkeys(args.scenarios))
    seed = args.seed if args.seed is not None else int(time.time())
    started = dt.datetime.now(dt.UTC)
    load_start = os.getloadavg()
    fx = Fixtures()
    peer = not args.no_peer and any(s in sc.PEER for s in wanted)
    url = args.database_url
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="pasar-bench-") as tmp:
        logdir = Path(tmp)
        log(f"preparing {pg_dsn(url)} for {' '.join(wanted)}")
        dbinfo = asyncio.run(prepare_db(url, set(wanted), peer, fx))
        procs: dict[str, Proc] = {}
        try:
            procs["ours-count"] = start_ours(url, args.server_core, logdir, count_sql=True, name="ours-count")
            wait_ready(procs["ours-count"])
            prepare_api(procs["ours-count"].port, url, set(wanted), fx)
            if "S3" in wanted:
                asyncio.run(todays_lists(url, fx))
            variants = build_variants(wanted, fx)
            counts = count_statements(procs["ours-count"].port, variants)
            procs.pop("ours-count").stop()
            with postgres_pinned(url, args.client_core, not args.no_pin_postgres) as pinning:
                log(pinning)
                procs["ours"] = start_ours(url, args.server_core, logdir, count_sql=False)
                procs["baseline"] = start_baseline(url, args.server_core, logdir)
                if peer:
                    procs["peer"] = start_peer(url, args.server_core, logdir)
                for p in procs.values():
                    wait_ready(p)
                log("servers ready: " + ", ".join(f"{n} :{p.port}" for n, p in procs.items()))
                checks, facts = run_checks(variants, procs, url, fx)
                if not args.check_only:
                    results = run_rounds(variants, procs, args, seed, logdir)
                for p in procs.values():
                    p.stop()
                # the request log is on (one line per request, as `pasar serve` writes it): say how much it wrote
                written = procs["ours"].log_path.read_bytes()
                lines = written.count(b"\n")
                log(f"ours wrote {lines} log lines ({len(written)} bytes)")
        finally:
            for p in procs.values():
                p.stop()
    meta = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "database": pg_dsn(url),
        "db": dbinfo,
        "generator": generator(),
        "rounds": args.rounds,
        "duration_s": args.duration,
        "connections": args.connections,
        "seed": seed,
        "pinning": f"servers on core {args.server_core}; load generator and postmaster on core {args.client_core}"
        + ("" if not args.no_pin_postgres else " (postmaster not pinned)"),
        "notes": fx.notes,
        "loadavg": {"start": load_start, "end": os.getloadavg()},
    }
    rows = summarise(variants, results, counts, facts) if results else []
    gates, table = report(meta, variants, counts, facts, checks, rows)
    if args.markdown and table:
        args.markdown.write_text(table + "\n")
    if args.json:
        dump = {
            "meta": meta,
            "variants": [
                {"key": v.key, "scenario": v.scenario, "variables": v.variables, "note": v.note} for v in variants
            ],
            "sql_statements": counts,
            "facts": facts,
            "checks": [c.__dict__ for c in checks],
            "results": results,
            "summary": rows,
            "gates": gates,
        }
        args.json.write_text(json.dumps(dump, indent=1, default=str))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
