"""Side by side in one run: a UMKM's twelve months of platform sales from the rollup vs from the order lines.

    python -m bench.omzet_rollup --database-url URL [--repeat N] [--json out.json] [--until YYYY-MM]
                                 [--umkm ID] [--driver raw|tortoise]

On a database loaded by `bench.dataset`, for the twelve Asia/Jakarta months ending with `--until` (default: the
latest month in the rollup) and for two UMKM with sales in at least six of them (the one with the most orders and
the median one; or `--umkm`), it runs, interleaved, `--repeat` rounds of

  (a) the rollup:     SELECT period, amount FROM umkm_monthly_sales WHERE umkm_id = ? AND period BETWEEN ? AND ?
  (b) the order lines: order_item JOIN order, status DELIVERED/PAID, delivered_at within the twelve Jakarta months,
                      GROUP BY the Jakarta month, SUM(order_item.subtotal)

through the same driver (default: a raw asyncpg / sqlite3 connection; `--driver tortoise`: the app's Tortoise
connection via `models.query.fetch_all`), checks every round that both give identical figures, and prints
p50/p95 of each and their ratio. When `order(umkm_id)` or `order_item(order_id)` has no index (the committed
migrations create none), it measures again with those indexes created inside a transaction that is rolled back,
so the database is left as it was. Then it times `rebuild_monthly_sales(fix=False)` and reports its drift.

Exit status 1 if any figures differ or the rebuild finds drift. Speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import sys
import time
from typing import Any

import models
from bench.dataset import Target, parse_target
from models.orders import COUNTED_STATUSES

JAKARTA_OFFSET = dt.timedelta(hours=7)  # Asia/Jakarta has no daylight saving
TEMP_INDEXES = (
    ("order", "umkm_id", 'CREATE INDEX "bench_tmp_order_umkm" ON "order" ("umkm_id", "delivered_at")'),
    ("order_item", "order_id", 'CREATE INDEX "bench_tmp_order_item_order" ON "order_item" ("order_id")'),
)


# ---------------------------------------------------------------- months


def shift_month(period: str, delta: int) -> str:
    y, m = map(int, period.split("-"))
    n = y * 12 + (m - 1) + delta
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def month_start_utc(period: str) -> dt.datetime:
    """The UTC instant at which an Asia/Jakarta month starts."""
    y, m = map(int, period.split("-"))
    return dt.datetime(y, m, 1, tzinfo=dt.UTC) - JAKARTA_OFFSET


# ---------------------------------------------------------------- one connection, three drivers


def numbered(sql: str) -> str:
    """`?` placeholders to PostgreSQL's $1, $2, ... (as models.query.fetch_all does)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))


class AsyncpgConn:
    name = "asyncpg: one raw connection, prepared statements (asyncpg statement cache)"
    engine = "postgres"
    can_rollback_ddl = True

    def __init__(self, conn):
        self.conn = conn

    @classmethod
    async def open(cls, target: Target) -> AsyncpgConn:
        import asyncpg

        return cls(await asyncpg.connect(target.dsn))

    def ts(self, value: dt.datetime) -> Any:
        return value

    async def fetch(self, sql: str, params: list) -> list[tuple]:
        return [tuple(r) for r in await self.conn.fetch(numbered(sql), *params)]

    async def execute(self, sql: str) -> None:
        await self.conn.execute(sql)

    async def version(self) -> str:
        return "PostgreSQL " + await self.conn.fetchval("SHOW server_version")

    async def close(self) -> None:
        await self.conn.close()


class SqliteConn:
    name = "sqlite3 (stdlib): one raw connection"
    engine = "sqlite"
    can_rollback_ddl = True

    def __init__(self, path: str):
        self.conn = sqlite3.connect(path, isolation_level=None)

    @classmethod
    async def open(cls, target: Target) -> SqliteConn:
        return cls(target.dsn)

    def ts(self, value: dt.datetime) -> Any:
        return value.astimezone(dt.UTC).isoformat(" ")  # the text Tortoise stores

    async def fetch(self, sql: str, params: list) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    async def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    async def version(self) -> str:
        return "SQLite " + sqlite3.sqlite_version

    async def close(self) -> None:
        self.conn.close()


class TortoiseConn:
    name = "Tortoise: the app's connection through models.query.fetch_all"
    can_rollback_ddl = False

    def __init__(self, engine: str):
        self.engine = engine

    @classmethod
    async def open(cls, target: Target) -> TortoiseConn:
        return cls(target.engine)

    def ts(self, value: dt.datetime) -> Any:
        return value if self.engine == "postgres" else value.astimezone(dt.UTC).isoformat(" ")

    async def fetch(self, sql: str, params: list) -> list[tuple]:
        from models.query import fetch_all

        return [tuple(r.values()) for r in await fetch_all(sql, params)]

    async def execute(self, sql: str) -> None:
        from tortoise import connections

        await connections.get("default").execute_script(sql)

    async def version(self) -> str:
        if self.engine == "postgres":
            return "PostgreSQL " + (await self.fetch("SHOW server_version", []))[0][0]
        return "SQLite " + (await self.fetch("SELECT sqlite_version()", []))[0][0]

    async def close(self) -> None:
        pass


Conn = AsyncpgConn | SqliteConn | TortoiseConn


async def open_conn(target: Target, driver: str) -> Conn:
    if driver == "tortoise":
        return await TortoiseConn.open(target)
    return await (AsyncpgConn if target.engine == "postgres" else SqliteConn).open(target)


async def leading_index_columns(conn: Conn, table: str) -> set[str]:
    """The first column of every index on a table."""
    if conn.engine == "postgres":
        rows = await conn.fetch(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?", [table]
        )
        out = set()
        for (indexdef,) in rows:
            m = re.search(r"\(\s*\"?(\w+)", indexdef)
            if m:
                out.add(m.group(1))
        return out
    out = set()
    for row in await conn.fetch(f'PRAGMA index_list("{table}")', []):
        cols = await conn.fetch(f'PRAGMA index_info("{row[1]}")', [])
        out.update(c[2] for c in cols if c[0] == 0)
    return out


# ---------------------------------------------------------------- the two queries


def queries(month_expr: str) -> tuple[str, str]:
    statuses = ", ".join(f"'{s.value}'" for s in COUNTED_STATUSES)
    rollup = (
        'SELECT "period", "amount" FROM "umkm_monthly_sales" '
        'WHERE "umkm_id" = ? AND "period" BETWEEN ? AND ? ORDER BY "period"'
    )
    lines = (
        f'SELECT {month_expr} AS period, SUM(i."subtotal") AS amount '
        'FROM "order_item" i JOIN "order" o ON o."id" = i."order_id" '
        f'WHERE o."umkm_id" = ? AND o."status" IN ({statuses}) '
        'AND o."delivered_at" >= ? AND o."delivered_at" < ? '
        f"GROUP BY {month_expr} ORDER BY 1"
    )
    return rollup, lines


def figures(rows: list[tuple]) -> dict[str, int]:
    """period -> amount; a month the rollup holds at zero (a sale that stopped counting) is no sale."""
    return {str(p): int(a) for p, a in rows if int(a) != 0}


def percentile(sorted_ns: list[int], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    k = max(0, min(len(sorted_ns) - 1, round(q * len(sorted_ns) + 0.5) - 1))
    return sorted_ns[k] / 1e6


def summary(ns: list[int]) -> dict[str, float]:
    s = sorted(ns)
    return {
        "p50_ms": round(percentile(s, 0.50), 4),
        "p95_ms": round(percentile(s, 0.95), 4),
        "min_ms": round(s[0] / 1e6, 4),
        "mean_ms": round(sum(s) / len(s) / 1e6, 4),
    }


async def measure(conn: Conn, sql: tuple[str, str], subject: dict, window: dict, repeat: int) -> dict:
    """Interleaved rounds of (a) and (b) for one UMKM; which goes first alternates every round."""
    q_rollup, q_lines = sql
    p_rollup = [subject["umkm_id"], window["first"], window["last"]]
    p_lines = [subject["umkm_id"], conn.ts(window["start_utc"]), conn.ts(window["end_utc"])]
    runs = {"rollup": (q_rollup, p_rollup), "lines": (q_lines, p_lines)}
    for _ in range(3):  # warm-up: caches, prepared statements
        for q, p in runs.values():
            await conn.fetch(q, p)
    times: dict[str, list[int]] = {"rollup": [], "lines": []}
    mismatched_rounds = 0
    first_figures: dict[str, dict[str, int]] = {}
    for i in range(repeat):
        got: dict[str, dict[str, int]] = {}
        for which in ("rollup", "lines") if i % 2 == 0 else ("lines", "rollup"):
            q, p = runs[which]
            t0 = time.perf_counter_ns()
            rows = await conn.fetch(q, p)
            times[which].append(time.perf_counter_ns() - t0)
            got[which] = figures(rows)
        if got["rollup"] != got["lines"]:
            mismatched_rounds += 1
        first_figures = first_figures or got
    a, b = summary(times["rollup"]), summary(times["lines"])
    return {
        "rollup": a,
        "lines": b,
        "ratio_p50": round(b["p50_ms"] / a["p50_ms"], 1),
        "ratio_p95": round(b["p95_ms"] / a["p95_ms"], 1),
        "identical": mismatched_rounds == 0,
        "mismatched_rounds": mismatched_rounds,
        "figures": {
            m: {"rollup": first_figures["rollup"].get(m, 0), "lines": first_figures["lines"].get(m, 0)}
            for m in window["months"]
        },
    }


# ---------------------------------------------------------------- machine


def machine() -> dict:
    cpu = ""
    mem_kib = 0
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
        with open("/proc/meminfo", encoding="utf-8") as fh:
            mem_kib = next((int(line.split()[1]) for line in fh if line.startswith("MemTotal")), 0)
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu or platform.processor(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "mem_gib": round(mem_kib / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# ---------------------------------------------------------------- the run


async def pick_subjects(conn: Conn, window: dict, umkm_id: int | None) -> list[dict]:
    rows = await conn.fetch(
        'SELECT "umkm_id", SUM("orders") AS n, COUNT(*) AS months FROM "umkm_monthly_sales" '
        'WHERE "period" BETWEEN ? AND ? AND "orders" > 0 GROUP BY "umkm_id" '
        + ('HAVING "umkm_id" = ? ' if umkm_id else "HAVING COUNT(*) >= 6 ")
        + 'ORDER BY n DESC, "umkm_id"',
        [window["first"], window["last"]] + ([umkm_id] if umkm_id else []),
    )
    if not rows:
        raise SystemExit(
            f"no UMKM with sales in at least 6 of {window['first']}..{window['last']}"
            if not umkm_id
            else f"UMKM {umkm_id} has no sales in {window['first']}..{window['last']}"
        )
    chosen = [("given", rows[0])] if umkm_id else [("top", rows[0]), ("median", rows[len(rows) // 2])]
    return [
        {"pick": pick, "umkm_id": int(r[0]), "orders": int(r[1]), "months": int(r[2]), "candidates": len(rows)}
        for pick, r in chosen
    ]


async def run(url: str, repeat: int, until: str | None, umkm_id: int | None, driver: str) -> dict:
    from tortoise import Tortoise

    from models.query import jakarta_month_sql
    from resolvers.sales import rebuild_monthly_sales

    target = parse_target(url)
    await Tortoise.init(config=models.tortoise_config(url, pool_size=2))
    conn = await open_conn(target, driver)
    try:
        month_expr = jakarta_month_sql('o."delivered_at"')
        sql = queries(month_expr)
        last = until or (await conn.fetch('SELECT MAX("period") FROM "umkm_monthly_sales"', []))[0][0]
        if not last:
            raise SystemExit("the rollup is empty: load a data set first (python -m bench.dataset ...)")
        first = shift_month(last, -11)
        window = {
            "first": first,
            "last": last,
            "months": [shift_month(first, i) for i in range(12)],
            "start_utc": month_start_utc(first),
            "end_utc": month_start_utc(shift_month(last, 1)),
        }
        counts = {}
        for t in ("umkm", "product", "order", "order_item", "umkm_monthly_sales"):
            counts[t] = int((await conn.fetch(f'SELECT COUNT(*) FROM "{t}"', []))[0][0])
        subjects = await pick_subjects(conn, window, umkm_id)
        indexed = {t: col in await leading_index_columns(conn, t) for t, col, _ in TEMP_INDEXES}
        result: dict[str, Any] = {
            "machine": machine(),
            "database": await conn.version(),
            "driver": conn.name,
            "repeat": repeat,
            "counts": counts,
            "window": {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in window.items()},
            "sql": {"rollup": sql[0], "lines": sql[1]},
            "indexes_as_is": {f"{t}({col})": indexed[t] for t, col, _ in TEMP_INDEXES},
            "phases": [],
        }
        print_header(result, subjects)
        phase = {"name": "as is", "subjects": []}
        for s in subjects:
            phase["subjects"].append({**s, **await measure(conn, sql, s, window, repeat)})
        result["phases"].append(phase)
        print_phase(phase)
        missing = [(t, ddl) for t, _col, ddl in TEMP_INDEXES if not indexed[t]]
        if missing and conn.can_rollback_ddl:
            await conn.execute("BEGIN")
            try:
                for _t, ddl in missing:
                    await conn.execute(ddl)
                phase = {"name": "with temporary indexes (" + "; ".join(d for _, d in missing) + ")", "subjects": []}
                for s in subjects:
                    phase["subjects"].append({**s, **await measure(conn, sql, s, window, repeat)})
            finally:
                await conn.execute("ROLLBACK")  # the database is left as it was
            result["phases"].append(phase)
            print_phase(phase, with_figures=False)
        t0 = time.perf_counter()
        drift = await rebuild_monthly_sales(fix=False)
        result["rebuild"] = {
            "seconds": round(time.perf_counter() - t0, 2),
            "rows_checked": drift.rows_checked,
            "rows_differing": drift.rows_differing,
            "examples": [list(e) for e in drift.examples],
        }
    finally:
        await conn.close()
        await Tortoise.close_connections()
    identical = all(s["identical"] for p in result["phases"] for s in p["subjects"])
    result["ok"] = identical and result["rebuild"]["rows_differing"] == 0
    print_footer(result)
    return result


# ---------------------------------------------------------------- printing


def _n(v: int) -> str:
    return f"{v:,}"


def print_header(r: dict, subjects: list[dict]) -> None:
    m, c, w = r["machine"], r["counts"], r["window"]
    print(f"omzet rollup vs order lines - {m['date']}")
    print(f"machine:  {m['cpu']}, nproc {m['nproc']}, {m['mem_gib']} GiB; {r['database']}; Python {m['python']}")
    print(
        f"data:     {_n(c['umkm'])} UMKM, {_n(c['product'])} products, {_n(c['order'])} orders, "
        f"{_n(c['order_item'])} order lines, {_n(c['umkm_monthly_sales'])} rollup rows"
    )
    print(f"window:   {w['first']} .. {w['last']} (Asia/Jakarta), {w['start_utc']} <= delivered_at < {w['end_utc']}")
    print(f"driver:   {r['driver']}; {r['repeat']} rounds, interleaved, first query alternating")
    print(f"(a) {r['sql']['rollup']}")
    print(f"(b) {r['sql']['lines']}")
    print("indexes as is: " + ", ".join(f"{k} {'yes' if v else 'none'}" for k, v in r["indexes_as_is"].items()))
    for s in subjects:
        print(
            f"UMKM {s['umkm_id']} ({s['pick']} of {_n(s['candidates'])} with sales in >= 6 months): "
            f"{_n(s['orders'])} orders in {s['months']} months"
        )


def print_phase(phase: dict, with_figures: bool = True) -> None:
    print(f"\n== {phase['name']}")
    for s in phase["subjects"]:
        print(f"UMKM {s['umkm_id']} ({s['pick']}):")
        if with_figures:
            print_figures(s)
        same = "yes" if s["identical"] else f"NO ({s['mismatched_rounds']} rounds differ)"
        print(f"  identical figures in every round: {same}")
        a, b = s["rollup"], s["lines"]
        print(f"  {'':<18}{'p50 ms':>10}{'p95 ms':>10}")
        print(f"  {'(a) rollup':<18}{a['p50_ms']:>10.3f}{a['p95_ms']:>10.3f}")
        print(f"  {'(b) from lines':<18}{b['p50_ms']:>10.3f}{b['p95_ms']:>10.3f}")
        print(f"  ratio (b)/(a): {s['ratio_p50']:,}x at p50, {s['ratio_p95']:,}x at p95")


def print_figures(s: dict) -> None:
    print(f"  {'month':<9}{'rollup (Rp)':>18}{'from lines (Rp)':>18}")
    total_a = total_b = 0
    for month, f in s["figures"].items():
        total_a += f["rollup"]
        total_b += f["lines"]
        print(f"  {month:<9}{_n(f['rollup']):>18}{_n(f['lines']):>18}")
    print(f"  {'total':<9}{_n(total_a):>18}{_n(total_b):>18}")


def print_footer(r: dict) -> None:
    rb = r["rebuild"]
    print(
        f"\nrebuild_monthly_sales(fix=False): {rb['seconds']} s, {_n(rb['rows_checked'])} rows checked, "
        f"{_n(rb['rows_differing'])} differing" + (f", e.g. {rb['examples'][:3]}" if rb["examples"] else "")
    )
    print("RESULT: " + ("OK" if r["ok"] else "FAILED (figures differ or the rollup drifted)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.omzet_rollup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=200, help="interleaved rounds per UMKM (default 200)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--until", help="last month of the window, YYYY-MM (default: the rollup's latest)")
    parser.add_argument("--umkm", type=int, help="measure this UMKM only")
    parser.add_argument("--driver", choices=("raw", "tortoise"), default="raw")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    result = asyncio.run(run(args.database_url, args.repeat, args.until, args.umkm, args.driver))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
