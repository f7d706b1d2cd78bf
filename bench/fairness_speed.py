"""The under-sold ranking's speed, side by side in one run (docs/FAIRNESS.md, "Speed").

    python -m bench.fairness_speed --database-url postgres://postgres@127.0.0.1:5432/bench_l \\
        [--rounds 7] [--clients 4] [--duration 20] [--endpoint] [--endpoint-rounds 3] [--orders-per-second R]
        [--json FILE]

On a data set from `bench.dataset` (the fairness statistics are rebuilt first when empty), for the largest
top-level category (by products in its subtree) and the median one, `asOf` noon of today (Asia/Jakarta):

1. **Rebuild**: `rebuild_stats(fix=False)` (the maintained decayed sales vs the order lines): time and drift.
2. **Three ways to the same top 20**, in interleaved rounds (a fresh random order each round), each checked to give
   the same UMKM in the same order with the same buckets (deficits within 1e-9):
   (a) *from the order lines*: the ranking with each UMKM's decayed sales summed from `order_item` ⋈ `order` in SQL
       (PostgreSQL `power(2, age/H)`; the eligible set, median and omzet as in the app);
   (b) *computed from the maintained statistics*: `resolvers.ranking.compute_ranking` (what a snapshot build runs);
   (c) *the snapshot*: what a request runs once the snapshot is fresh: the freshness check and the page statement
       (`resolvers.fairness_snapshot.page`). The gate: (a) / (c) at p50 ≥ 100.
   Also the time to build a stale snapshot (generation bumped, then `snapshot()`): what the first request after a
   change pays.
3. **Four concurrent clients**: the two statements of (c) (the app's SQL text, through raw asyncpg connections,
   one per client) in a closed loop for `--duration` seconds: p50/p95/p99 and statements/s; the same for (a) for a
   third of that time.
4. **Endpoint** (`--endpoint`): our server (uvicorn, one worker, pinned to core 0; wrk on core 1) answers
   `underSoldUmkm(first: 20)` with every score field (the harness's S3 document) and `products(first: 20)` with
   UMKM and category (S1), interleaved, `--endpoint-rounds` rounds at 1 connection (p50) and 4 (req/s). The gate:
   underSoldUmkm's p50 at most 2× products'.

**While orders arrive** (`--orders-per-second R`, PostgreSQL): during parts 3 and 4 a second server of ours takes
`placeOrder` of one line at R a second from an OPD buyer (`opd.buyer1.dispendik@bench.pasar.id`), for random
stocked products in the largest category's subtree: each order counts provisionally in its seller's received share
and moves that seller's snapshot row, as in production. The orders stay in the data set (they are marked
`bench.fairness_speed` in their note). The report says how many were placed and how many were refused.

Exit status 1 when any top 20 differs or the rebuild finds drift. The numbers are only as quiet as the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from models.query import numbered_placeholders as numbered
from resolvers.invalidation import invalidate

JAKARTA = ZoneInfo("Asia/Jakarta")
GATE_SQL = 100.0
GATE_ENDPOINT = 2.0


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))]


def summary_ms(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": statistics.median(values) * 1000,
        "p95_ms": pct(values, 0.95) * 1000,
        "p99_ms": pct(values, 0.99) * 1000,
    }


# ---------------------------------------------------------------- (a): the same ranking from the order lines


def _open() -> str:
    from models.orders import OPEN_SQL

    return OPEN_SQL


def _lines_time() -> str:
    """A line's moment: its delivery when counted; its ordering when open (open orders count provisionally)."""
    return f'CASE WHEN o."status" IN ({_open()}) THEN o."created_at" ELSE o."delivered_at" END'


def _lines_where(cats: list[int]) -> str:
    from models.orders import COUNTED_STATUSES

    statuses = ", ".join(f"'{s.value}'" for s in COUNTED_STATUSES)
    ids = ", ".join(str(int(c)) for c in cats)
    return (
        f'i."category_id" IN ({ids}) AND ((o."status" IN ({statuses}) AND o."delivered_at" IS NOT NULL) '
        f'OR o."status" IN ({_open()}))'
    )


def sales_from_lines_sql(cats: list[int]) -> tuple[str, list]:
    """PostgreSQL: each UMKM's decayed sales summed from the counted order lines (`?` placeholders)."""
    from resolvers.fairness_policy import EPOCH, POLICY

    seconds = 86_400.0 * POLICY.half_life_days
    return (
        f"""SELECT o."umkm_id" AS umkm_id,
                   SUM(i."subtotal" * power(2.0, EXTRACT(EPOCH FROM (({_lines_time()}) - ?::timestamptz))
                                                 / {seconds})) AS w
            FROM "order_item" i JOIN "order" o ON o."id" = i."order_id"
            WHERE {_lines_where(cats)} GROUP BY o."umkm_id" """,
        [EPOCH],
    )


async def received_from_order_lines(cats: list[int], umkm_ids: list[int]) -> tuple[dict[int, float], float]:
    """Each UMKM's decayed sales in the categories summed from the order lines (what the maintained statistics
    replace: counted lines at delivery, open ones at ordering), in the stored scale (2^((t - epoch)/H) per rupiah),
    and their total."""
    from models.query import dialect, fetch_all
    from resolvers.fairness_policy import growth

    if dialect() == "postgres":
        per = {r["umkm_id"]: float(r["w"]) for r in await fetch_all(*sales_from_lines_sql(cats))}
    else:  # SQLite has no power(): the same sum in Python over the lines
        per: dict[int, float] = {}
        rows = await fetch_all(
            f'SELECT o."umkm_id" AS umkm_id, i."subtotal" AS subtotal, {_lines_time()} AS at '
            f'FROM "order_item" i JOIN "order" o ON o."id" = i."order_id" WHERE {_lines_where(cats)}'
        )
        for r in rows:
            at = r["at"] if isinstance(r["at"], dt.datetime) else dt.datetime.fromisoformat(r["at"])
            at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            per[r["umkm_id"]] = per.get(r["umkm_id"], 0.0) + int(r["subtotal"]) * growth(at)
    return per, sum(per.values())


def signature(rows) -> list[tuple]:
    return [(r.umkm_id, r.score.bucket, r.score.rotation, r.cheapest_product_id) for r in rows]


def same(a, b) -> bool:
    return signature(a) == signature(b) and all(
        abs(x.score.deficit - y.score.deficit) <= 1e-9 for x, y in zip(a, b, strict=True)
    )


# ---------------------------------------------------------------- the run


async def categories() -> list[tuple[str, int, int]]:
    from models.query import fetch_all

    rows = await fetch_all(
        """WITH RECURSIVE t AS (SELECT id AS root, id FROM category WHERE parent_id IS NULL
           UNION ALL SELECT t.root, c.id FROM category c JOIN t ON c.parent_id = t.id)
           SELECT t.root AS id, count(p.id) AS n FROM t LEFT JOIN product p ON p.category_id = t.id
           GROUP BY t.root ORDER BY count(p.id) DESC, t.root"""
    )
    largest, median = rows[0], rows[len(rows) // 2]
    return [("largest", largest["id"], largest["n"]), ("median", median["id"], median["n"])]


async def three_ways(category_id: int, as_of: dt.datetime, rounds: int, snapshot_reads: int, rng: random.Random):
    from resolvers import fairness_snapshot as fs
    from resolvers.categories import category_subtree
    from resolvers.ranking import compute_ranking

    cats = await category_subtree(category_id)
    times: dict[str, list[float]] = {"lines": [], "stats": [], "snapshot": []}
    mismatches = []
    # built afresh before the rounds: orders placed since the last build moved only their sellers' rows (the other
    # rows keep their figures until the next build), so only a fresh build equals the computed ranking
    await invalidate([category_id])
    await fs.snapshot(category_id, as_of)

    async def lines():
        r = await compute_ranking(category_id, cats, as_of, received_from=received_from_order_lines)
        return r.rows[:20]

    async def stats():
        return (await compute_ranking(category_id, cats, as_of)).rows[:20]

    async def snap():
        return (await fs.page(category_id, as_of, None, None, None, 20)).rows

    ways = {"lines": lines, "stats": stats, "snapshot": snap}
    for k in range(rounds):
        order = list(ways)
        rng.shuffle(order)
        got = {}
        for name in order:
            repeat = snapshot_reads if name == "snapshot" else 1
            for _ in range(repeat):
                t0 = time.perf_counter()
                got[name] = await ways[name]()
                times[name].append(time.perf_counter() - t0)
        for name in ("stats", "snapshot"):
            if not same(got["lines"], got[name]):
                mismatches.append(
                    {"round": k, "way": name, "lines": signature(got["lines"]), name: signature(got[name])}
                )
        log(
            f"  round {k + 1}/{rounds} ({' '.join(order)}): lines {times['lines'][-1] * 1000:.1f} ms, "
            f"stats {times['stats'][-1] * 1000:.1f} ms, "
            f"snapshot {statistics.median(times['snapshot'][-snapshot_reads:]) * 1000:.3f} ms"
        )
    builds = []
    for _ in range(3):
        await invalidate([category_id])
        t0 = time.perf_counter()
        await fs.snapshot(category_id, as_of)
        builds.append(time.perf_counter() - t0)
    top = await snap()
    out = {way: summary_ms(v) for way, v in times.items()}
    out["ratio_lines_to_snapshot_p50"] = out["lines"]["p50_ms"] / out["snapshot"]["p50_ms"]
    out["ratio_stats_to_snapshot_p50"] = out["stats"]["p50_ms"] / out["snapshot"]["p50_ms"]
    out["ratio_lines_to_stats_p50"] = out["lines"]["p50_ms"] / out["stats"]["p50_ms"]
    out["build_ms"] = [b * 1000 for b in builds]
    out["mismatches"] = mismatches
    out["top5"] = [(r.rank, r.umkm_id, r.score.bucket, round(r.score.deficit, 6), r.reasons) for r in top[:5]]
    return out


async def concurrent(url: str, category_id: int, as_of: dt.datetime, clients: int, duration: float) -> dict:
    """`clients` raw connections running the request's two statements (freshness check, page: the app's SQL text)
    in a closed loop; then the from-lines ranking's statements for a third of the time."""
    import asyncpg

    from resolvers import fairness_snapshot as fs
    from resolvers.categories import category_subtree

    s = await fs.snapshot(category_id, as_of)
    cond, params = await fs._buyer_sql(s, None, None, fs.POLICY)
    page_sql, page_params = fs.page_sql(s, None, cond, params, 0, 20)
    from resolvers.ranking import eligible_sql

    cats = await category_subtree(category_id)

    async def loop(run, seconds: float) -> list[float]:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        lat = []
        try:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                await run(conn)
                lat.append(time.perf_counter() - t0)
        finally:
            await conn.close()
        return lat

    async def snapshot_request(conn):
        row = await conn.fetchrow(numbered(fs.CURRENT_SQL), as_of, category_id)
        assert row["built_from"] == row["generation"]
        rows = await conn.fetch(numbered(page_sql), *page_params)
        assert len(rows) == 21

    # the from-lines ranking's statements: the eligible set with the median, the sales summed from the lines
    stmts = [(numbered(sql), args) for sql, args in (eligible_sql(cats, as_of, 1), sales_from_lines_sql(cats))]

    async def lines_request(conn):
        for sql, args in stmts:
            await conn.fetch(sql, *args)

    out = {}
    for name, run, seconds in (("snapshot", snapshot_request, duration), ("lines", lines_request, duration / 3)):
        t0 = time.perf_counter()
        lats = await asyncio.gather(*[loop(run, seconds) for _ in range(clients)])
        wall = time.perf_counter() - t0
        flat = [x for xs in lats for x in xs]
        out[name] = summary_ms(flat) | {"requests_per_s": len(flat) / wall, "clients": clients}
        log(
            f"  {clients} clients, {name}: p50 {out[name]['p50_ms']:.3f} ms, p95 {out[name]['p95_ms']:.3f} ms, "
            f"{out[name]['requests_per_s']:.1f} requests/s"
        )
    return out


class OrderWriter:
    """Orders arriving while the list is read: a second server of ours takes `placeOrder` of one line at `rate` a
    second (a thread paced by the clock; a slow answer delays the next order, it never piles them up)."""

    DOC = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orders { id } errors { code } } }"

    def __init__(self, url: str, category_id: int, rate: float, tmp: Path, seed: int) -> None:
        self.url, self.category_id, self.rate, self.tmp = url, category_id, rate, tmp
        self.rng = random.Random(seed)
        self.placed = 0
        self.refused: dict[str, int] = {}
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server = None
        self._started = 0.0
        self.seconds = 0.0

    async def products(self) -> list[tuple[int, int, str | None]]:
        import asyncpg

        from resolvers.categories import category_subtree

        cats = await category_subtree(self.category_id)
        conn = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1))
        try:
            rows = await conn.fetch(
                """SELECT p.id, p.min_order_quantity, p.options FROM product p JOIN umkm u ON u.id = p.umkm_id
                   WHERE p.category_id = ANY($1::int[]) AND p.active AND NOT p.made_to_order
                     AND u.status = 'VERIFIED' AND p.lead_time_days <= 45
                     AND p.stock >= 3 * p.min_order_quantity
                   ORDER BY p.id LIMIT 2000""",
                cats,
            )
        finally:
            await conn.close()
        # a product with options (sizes) is ordered in its first option
        return [(r["id"], r["min_order_quantity"], (json.loads(r["options"]) or [None])[0]) for r in rows]

    def start(self, products: list[tuple[int, int, str | None]]) -> None:
        from bench.harness import run as h

        if not products:
            raise SystemExit("no stocked product in the largest category to order")
        logdir = self.tmp / "writer-logs"
        logdir.mkdir(exist_ok=True)
        self._server = h.start_ours(self.url, None, logdir, count_sql=False, name="writer")
        h.wait_ready(self._server)
        token = h.login(self._server.port, "opd.buyer1.dispendik@bench.pasar.id")
        needed_by = (h.jakarta_today() + dt.timedelta(days=60)).isoformat()

        def loop() -> None:
            interval = 1.0 / self.rate
            next_at = time.monotonic()
            while not self._stop.is_set():
                pid, qty, option = self.rng.choice(products)
                inp = {
                    "items": [{"productId": h.sc_gid("Product", pid), "quantity": qty, "option": option}],
                    "neededBy": needed_by,
                    "deliveryAddress": "Jl. Jimerto 25-27, Surabaya",
                    "note": "bench.fairness_speed",
                }
                try:
                    body = h.gql(self._server.port, self.DOC, {"input": inp}, token)
                    payload = (body.get("data") or {}).get("placeOrder") or {}
                    if payload.get("orders"):
                        self.placed += 1
                    else:
                        codes = [e.get("code") for e in payload.get("errors") or body.get("errors") or []]
                        for code in codes or ["NO_ANSWER"]:
                            self.refused[code] = self.refused.get(code, 0) + 1
                except Exception:  # a benchmark counts what failed and goes on
                    self.failed += 1
                next_at = max(next_at + interval, time.monotonic())
                self._stop.wait(max(0.0, next_at - time.monotonic()))

        self._started = time.monotonic()
        self._thread = threading.Thread(target=loop, name="order-writer", daemon=True)
        self._thread.start()
        log(f"orders arriving: {self.rate:g} a second over {len(products)} products")

    def stop(self) -> dict:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)
        if self._server is not None:
            self._server.stop()
        self.seconds = time.monotonic() - self._started
        out = {
            "rate_asked": self.rate,
            "placed": self.placed,
            "refused": self.refused,
            "failed": self.failed,
            "seconds": self.seconds,
            "placed_per_s": self.placed / self.seconds if self.seconds else 0.0,
        }
        log(f"orders arriving: {out}")
        return out


def endpoint(url: str, category_id: int, rounds: int, duration: int, tmp: Path) -> dict:
    """Our server: underSoldUmkm(first: 20) vs products(first: 20), interleaved rounds, wrk at c=1 and c=4."""
    from bench.harness import run as h
    from bench.harness import scenarios as sc

    logdir = tmp / "logs"
    logdir.mkdir(exist_ok=True)
    ours = h.start_ours(url, 0, logdir, count_sql=False)
    try:
        h.wait_ready(ours)
        token = h.login(ours.port, "analis@bench.pasar.id")
        today = dt.datetime.now(JAKARTA).date().isoformat()
        docs = {
            "underSoldUmkm(first: 20)": (
                sc.S3_UNDER_SOLD,
                {"categoryId": h.sc_gid("Category", category_id), "first": 20, "asOf": today},
            ),
            "products(first: 20)": (sc.S1_PRODUCTS, {"first": 20}),
        }
        files = {}
        for name, (doc, variables) in docs.items():
            body = h.gql(ours.port, doc, variables, token)
            if "errors" in body:
                raise SystemExit(f"{name}: {body['errors']}")
            path = tmp / f"{len(files)}.json"
            path.write_text(json.dumps({"query": doc, "variables": variables}))
            files[name] = path
            for _ in range(20):  # warm-up (builds the snapshot if stale)
                h.gql(ours.port, doc, variables, token)
        results: dict[str, dict[str, list]] = {n: {"p50_ms": [], "p99_ms": [], "rps_c4": []} for n in docs}
        ratios_p50, ratios_rps = [], []
        rng = random.Random(7)
        for k in range(rounds):
            order = list(docs)
            rng.shuffle(order)
            got = {}
            for name in order:
                lat = h.measure(ours.port, "/graphql", files[name], token, 1, duration, 1)
                thr = h.measure(ours.port, "/graphql", files[name], token, 4, duration, 1)
                got[name] = (lat, thr)
                results[name]["p50_ms"].append(lat["p50_ms"])
                results[name]["p99_ms"].append(lat["p99_ms"])
                results[name]["rps_c4"].append(thr["rps"])
                if lat["errors"] or thr["errors"]:
                    raise SystemExit(f"{name}: errors during the measurement: {lat} {thr}")
            u, p = got["underSoldUmkm(first: 20)"], got["products(first: 20)"]
            ratios_p50.append(u[0]["p50_ms"] / p[0]["p50_ms"])
            ratios_rps.append(u[1]["rps"] / p[1]["rps"])
            log(
                f"  endpoint round {k + 1}/{rounds}: underSoldUmkm p50 {u[0]['p50_ms']:.2f} ms, "
                f"products p50 {p[0]['p50_ms']:.2f} ms (× {ratios_p50[-1]:.2f}); c=4 {u[1]['rps']:.0f} vs "
                f"{p[1]['rps']:.0f} req/s"
            )
        return {
            "per_query": {n: {k: statistics.median(v) for k, v in r.items()} for n, r in results.items()},
            "ratio_p50": [statistics.median(ratios_p50), min(ratios_p50), max(ratios_p50)],
            "ratio_rps_c4": [statistics.median(ratios_rps), min(ratios_rps), max(ratios_rps)],
            "generator": h.generator(),
        }
    finally:
        ours.stop()


async def run(args) -> dict:
    from tortoise import Tortoise

    import models
    from bench.harness.run import machine
    from models.query import fetch_all
    from resolvers.fairness_stats import rebuild_stats

    await Tortoise.init(config=models.tortoise_config(args.database_url, pool_size=max(4, args.clients + 1)))
    tmp = tempfile.TemporaryDirectory()
    writer: OrderWriter | None = None
    try:
        out: dict = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine()}
        counts = (
            await fetch_all(
                'SELECT (SELECT count(*) FROM "product") AS products, (SELECT count(*) FROM '
                '"order_item") AS lines, (SELECT count(*) FROM "umkm") AS umkm'
            )
        )[0]
        out["data"] = {k: int(v) for k, v in counts.items()}
        if not (await fetch_all('SELECT count(*) AS n FROM "umkm_category_sales"'))[0]["n"]:
            log("the fairness statistics are empty: rebuilding them from the order lines")
            t0 = time.perf_counter()
            await rebuild_stats(fix=True)
            out["initial_fill_s"] = time.perf_counter() - t0
        log("rebuild (check only): the maintained statistics vs the order lines")
        t0 = time.perf_counter()
        drift = await rebuild_stats(fix=False)
        out["rebuild"] = {
            "seconds": time.perf_counter() - t0,
            "rows_checked": drift.rows_checked,
            "rows_differing": drift.rows_differing,
            "max_relative_error": drift.max_relative_error,
        }
        log(f"  {out['rebuild']}")
        as_of = dt.datetime.combine(dt.datetime.now(JAKARTA).date(), dt.time(12), JAKARTA).astimezone(dt.UTC)
        out["as_of"] = as_of.isoformat()
        rng = random.Random(args.seed)
        out["categories"] = {}
        for label, cid, n in await categories():
            log(f"{label} category {cid} ({n} products in its subtree): three ways to the top 20")
            out["categories"][label] = {"id": cid, "products": n} | await three_ways(
                cid, as_of, args.rounds if label == "largest" else max(3, args.rounds // 2), args.snapshot_reads, rng
            )
        largest = out["categories"]["largest"]["id"]
        if args.orders_per_second:
            writer = OrderWriter(args.database_url, largest, args.orders_per_second, Path(tmp.name), args.seed)
            products = await writer.products()
            writer.start(products)
        if args.clients:
            log(f"{args.clients} concurrent clients on the largest category")
            out["concurrent"] = await concurrent(args.database_url, largest, as_of, args.clients, args.duration)
    finally:
        await Tortoise.close_connections()
    try:
        if args.endpoint:
            log("endpoint: underSoldUmkm(first: 20) vs products(first: 20)")
            out["endpoint"] = endpoint(
                args.database_url, largest, args.endpoint_rounds, args.endpoint_duration, Path(tmp.name)
            )
    finally:
        if writer is not None:
            out["orders_arriving"] = writer.stop()
        tmp.cleanup()
    return out


def report(r: dict) -> str:
    m = r["machine"]
    lines = [
        f"date {r['date']}, asOf {r['as_of']}; {m.get('cpu')}, nproc {m.get('nproc')}",
        f"data: {r['data']['umkm']:,} UMKM, {r['data']['products']:,} products, {r['data']['lines']:,} order lines",
        f"rebuild_stats(fix=False): {r['rebuild']['seconds']:.2f} s, {r['rebuild']['rows_checked']:,} rows checked, "
        f"{r['rebuild']['rows_differing']} differing, max relative error {r['rebuild']['max_relative_error']:.2e}",
        "",
        "| category | products | (a) from order lines p50 / p95 | (b) from maintained stats p50 / p95 | "
        "(c) snapshot p50 / p95 | (a)/(c) | (b)/(c) | (a)/(b) | stale snapshot build | top 20 equal |",
        "|---|---:|---|---|---|---:|---:|---:|---|---|",
    ]
    for label, c in r["categories"].items():
        lines.append(
            f"| {label} ({c['id']}) | {c['products']:,} | {c['lines']['p50_ms']:.1f} / {c['lines']['p95_ms']:.1f} ms | "
            f"{c['stats']['p50_ms']:.1f} / {c['stats']['p95_ms']:.1f} ms | "
            f"{c['snapshot']['p50_ms']:.3f} / {c['snapshot']['p95_ms']:.3f} ms | "
            f"**{c['ratio_lines_to_snapshot_p50']:,.0f}×** | {c['ratio_stats_to_snapshot_p50']:,.0f}× | "
            f"{c['ratio_lines_to_stats_p50']:.2f}× | {statistics.median(c['build_ms']):,.0f} ms | "
            f"{'yes' if not c['mismatches'] else 'NO'} |"
        )
    if "concurrent" in r:
        lines += ["", "| 4 clients (largest category) | p50 | p95 | p99 | requests/s |", "|---|---|---|---|---:|"]
        for name, c in r["concurrent"].items():
            label = "snapshot: check + page" if name == "snapshot" else "from order lines: eligible set + sales"
            lines.append(
                f"| {label} | {c['p50_ms']:.3f} ms | {c['p95_ms']:.3f} ms | {c['p99_ms']:.3f} ms | "
                f"{c['requests_per_s']:,.1f} |"
            )
    if "endpoint" in r:
        e = r["endpoint"]
        lines += ["", "| endpoint (ours, one worker) | p50 c=1 | p99 c=1 | req/s c=4 |", "|---|---|---|---:|"]
        for name, q in e["per_query"].items():
            lines.append(f"| {name} | {q['p50_ms']:.2f} ms | {q['p99_ms']:.2f} ms | {q['rps_c4']:,.1f} |")
        a, lo, hi = e["ratio_p50"]
        lines.append(f"\nunderSoldUmkm / products p50: **{a:.2f}×** ({lo:.2f}–{hi:.2f}); gate ≤ {GATE_ENDPOINT}×")
    if "orders_arriving" in r:
        w = r["orders_arriving"]
        lines.append(
            f"\nwhile orders arrived (parts 3 and 4): {w['placed']:,} orders placed in {w['seconds']:.0f} s "
            f"({w['placed_per_s']:.1f} a second, {w['rate_asked']:g} asked); refused {w['refused'] or 'none'}, "
            f"failed {w['failed']}"
        )
    largest = r["categories"]["largest"]
    verdicts = [
        f"(a)/(c) largest {largest['ratio_lines_to_snapshot_p50']:,.0f}× (gate ≥ {GATE_SQL:.0f}×): "
        f"{'PASS' if largest['ratio_lines_to_snapshot_p50'] >= GATE_SQL else 'FAIL'}"
    ]
    if "endpoint" in r:
        ok = r["endpoint"]["ratio_p50"][0] <= GATE_ENDPOINT
        verdicts.append(f"endpoint p50 ratio {r['endpoint']['ratio_p50'][0]:.2f}×: {'PASS' if ok else 'FAIL'}")
    lines += ["", "; ".join(verdicts)]
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.fairness_speed", description=__doc__.split("\n")[0])
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required="DATABASE_URL" not in os.environ)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--snapshot-reads", type=int, default=50, help="snapshot reads per round (it is fast)")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--endpoint", action="store_true")
    p.add_argument("--endpoint-rounds", type=int, default=3)
    p.add_argument("--endpoint-duration", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--orders-per-second", type=float, default=0.0, help="placeOrder a second during parts 3 and 4 (PostgreSQL)"
    )
    p.add_argument("--json", type=Path)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.database_url.startswith("postgres"):
        args.clients = 0  # the concurrent part runs raw asyncpg
        args.endpoint = False
        args.orders_per_second = 0.0
    r = asyncio.run(run(args))
    print(report(r))
    if args.json:
        args.json.write_text(json.dumps(r, indent=1, default=str))
    bad = r["rebuild"]["rows_differing"] or any(c["mismatches"] for c in r["categories"].values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
