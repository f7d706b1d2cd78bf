"""Does the fairness ranking work? A seeded simulation that replays a year of purchases (docs/FAIRNESS.md).

    python -m bench.fairness_sim [--seeds 1 2 3 4 5] [--size full|smoke] [--policies ...]
                                 [--database-url URL] [--json out.json] [--workers 2]

For every (seed, policy) a fresh database is migrated with `models.migrate` (a SQLite file in a temporary folder by
default; with `--database-url postgres://…/NAME` a database NAME_fsim_<seed>_<policy> is created on that server and
dropped afterwards), the seed's world is loaded in bulk, and the seed's order stream is replayed day by day through
the real code: every sale is an Order + OrderItem DELIVERED at the simulated moment and counted by
`resolvers.sales.sale_counted`; the fair policies follow `resolvers.ranking.rank_category` (the real ranking SQL)
and split bulk orders with `resolvers.bulk_split.water_fill`. See `bench/sim/world.py` for the world and the
assumptions docs/FAIRNESS.md leaves open, `bench/sim/market.py` for the policies and the checks made along the way.

Policies: status_quo, random, rotation (strict round robin), fairNN (follow the ranking's top 10 with probability
NN%, else status quo). Figures at the size's figure months (full: 3, 6, 12) per category over the UMKM eligible
then, zeros included: Gini, Jain, Theil, zero-sales share, coverage efficiency, top-10% share (from
`resolvers.equity.equity_reference`) and cost = Σ paid / Σ cheapest eligible option, as a ratio to the status
quo's (+0% for the status quo itself).

The JSON holds no wall-clock values: the same seeds, size and policies give the same bytes whatever the number of
workers. Timings are printed on their own lines. Exit status: 0 if every run's consistency checks passed (targets
that are missed are reported, not an error), 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from bench.sim.market import FIGURES, policy_spec, run_one
from bench.sim.world import ASSUMPTIONS, CATEGORIES, SIZES, build_world

ALL_POLICIES = ("status_quo", "random", "rotation", "fair70", "fair90")
SMOKE_POLICIES = ("status_quo", "rotation", "fair90")
MEAN = "mean"  # the pseudo-category: mean over the six categories
REPORTED = (*FIGURES, "cost_vs_status_quo")
DIGITS = 6

# the targets of docs/FAIRNESS.md, mean of the seeds at the last figure month, mean over categories
TARGETS = (
    ("fair70", "gini", "<=", 0.47),
    ("fair70", "zero_share", "<=", 0.12),
    ("fair70", "cost_vs_status_quo", "<=", 0.08),
    ("fair70", "gini", "<", "random"),
    ("fair70", "gini", "<", "rotation"),
    ("fair70", "zero_share", "<", "random"),
    ("fair70", "zero_share", "<", "rotation"),
    ("fair90", "gini", "<=", 0.34),
    ("fair90", "zero_share", "<=", 0.05),
)


# ---------------------------------------------------------------- databases per run


def _pg_names(url: str, seed: int, policy: str) -> tuple[str, str, str]:
    """(run database name, its URL, the maintenance database URL for CREATE/DROP DATABASE)."""
    parts = urlsplit(url)
    base = parts.path.strip("/") or "pasar"
    name = f"{base}_fsim_{seed}_{policy}".lower()
    run_url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    return name, run_url, admin


async def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _task(job: tuple[int, str, str, str]) -> tuple[int, str, dict]:
    """One (seed, policy) in a worker process: its own event loop, its own database."""
    seed, policy, size_name, database = job
    world = build_world(seed, SIZES[size_name])
    if database.startswith("postgres"):
        name, url, admin = _pg_names(database, seed, policy)
        asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
        try:
            result = asyncio.run(run_one(world, policy, url))
        finally:
            asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}"'))
    else:
        with tempfile.TemporaryDirectory(prefix="pasar-fsim-", dir=database or None) as d:
            result = asyncio.run(run_one(world, policy, f"sqlite://{d}/sim-{seed}-{policy}.sqlite3"))
    return seed, policy, result


# ---------------------------------------------------------------- figures


def _round(v):
    if isinstance(v, float):
        return round(v, DIGITS)
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_round(x) for x in v]
    return v


def _mean(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def with_cost(runs: dict[int, dict[str, dict]]) -> None:
    """Add cost_vs_status_quo (cost ratio / the status quo's − 1, same seed, month and category) and the mean
    over categories to every run's figures."""
    slugs = [c.slug for c in CATEGORIES]
    for by_policy in runs.values():
        sq = by_policy.get("status_quo")
        for res in by_policy.values():
            for month, cats in res["figures"].items():
                for slug in slugs:
                    row = cats[slug]
                    base = sq["figures"][month][slug]["cost_ratio"] if sq else None
                    row["cost_vs_status_quo"] = (
                        row["cost_ratio"] / base - 1 if base and row["cost_ratio"] is not None else None
                    )
                cats[MEAN] = {k: _mean([cats[s][k] for s in slugs]) for k in REPORTED}


def mean_over_seeds(runs: dict[int, dict[str, dict]], policies: list[str], months: list[str]) -> dict:
    out: dict = {}
    seeds = sorted(runs)
    for policy in policies:
        out[policy] = {}
        for month in months:
            out[policy][month] = {
                cat: {k: _mean([runs[s][policy]["figures"][month][cat][k] for s in seeds]) for k in REPORTED}
                for cat in [*(c.slug for c in CATEGORIES), MEAN]
            }
    return out


def evaluate_targets(mean: dict, month: str) -> list[dict]:
    out = []
    for policy, figure, op, bound in TARGETS:
        row = {"policy": policy, "figure": figure, "op": op, "bound": bound, "month": int(month)}
        value = mean.get(policy, {}).get(month, {}).get(MEAN, {}).get(figure)
        other = None
        if isinstance(bound, str):
            other = mean.get(bound, {}).get(month, {}).get(MEAN, {}).get(figure)
        row["value"] = value
        if isinstance(bound, str):
            row["other"] = other
        if value is None or (isinstance(bound, str) and other is None):
            row["result"] = "N/A"
        else:
            limit = other if isinstance(bound, str) else bound
            ok = value <= limit + 1e-12 if op == "<=" else value < limit
            row["result"] = "PASS" if ok else "FAIL"
        out.append(row)
    return out


# ---------------------------------------------------------------- printing


def _pct(v, signed=False) -> str:
    if v is None:
        return "   n/a"
    return f"{v * 100:+6.1f}%" if signed else f"{v * 100:5.1f}%"


def _num(v) -> str:
    return "  n/a" if v is None else f"{v:5.3f}"


def print_tables(mean: dict, months: list[str], seeds: list[int], out=sys.stdout) -> None:
    cats = [*(c.slug for c in CATEGORIES), MEAN]
    seeds_txt = " ".join(map(str, seeds))
    last = months[-1]
    print(f"\n== per category, month {last}, mean over seeds {seeds_txt} ==", file=out)
    head = f"{'policy':<11} {'category':<10} {'Gini':>6} {'Jain':>6} {'zero':>6} {'cov.eff':>7} {'top10%':>6}"
    print(head + f" {'cost vs SQ':>10}", file=out)
    for policy in mean:
        for cat in cats:
            r = mean[policy][last][cat]
            print(
                f"{policy:<11} {cat:<10} {_num(r['gini']):>6} {_num(r['jain']):>6} {_pct(r['zero_share']):>6} "
                f"{_num(r['coverage_efficiency']):>7} {_pct(r['top10_share']):>6} "
                f"{_pct(r['cost_vs_status_quo'], True):>10}",
                file=out,
            )
        print(file=out)
    print(f"== mean over categories, by month, mean over seeds {seeds_txt} ==", file=out)
    print(f"{'policy':<11} {'month':>5} {'Gini':>6} {'Jain':>6} {'zero':>6} {'cov.eff':>7} {'top10%':>6}"
          f" {'cost vs SQ':>10}", file=out)  # fmt: skip
    for policy in mean:
        for month in months:
            r = mean[policy][month][MEAN]
            print(
                f"{policy:<11} {month:>5} {_num(r['gini']):>6} {_num(r['jain']):>6} {_pct(r['zero_share']):>6} "
                f"{_num(r['coverage_efficiency']):>7} {_pct(r['top10_share']):>6} "
                f"{_pct(r['cost_vs_status_quo'], True):>10}",
                file=out,
            )


def print_targets(targets: list[dict], size: str, out=sys.stdout) -> None:
    note = "" if size == "full" else f" (a {size} world: the targets of docs/FAIRNESS.md are for the full world)"
    print(f"\n== targets, month {targets[0]['month']}, mean over categories and seeds{note} ==", file=out)
    for t in targets:
        if isinstance(t["bound"], str):
            cmp = f"{t['bound']} ({_fmt(t['figure'], t.get('other'))})"
        else:
            cmp = _fmt(t["figure"], t["bound"])
        print(f"{t['result']:<5} {t['policy']:<7} {t['figure']:<19} {_fmt(t['figure'], t['value'])} {t['op']} {cmp}",
              file=out)  # fmt: skip


def _fmt(figure: str, v) -> str:
    if v is None:
        return "n/a"
    if figure == "cost_vs_status_quo":
        return f"{v * 100:+.1f}%"
    if figure == "zero_share":
        return f"{v * 100:.1f}%"
    return f"{v:.3f}"


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.fairness_sim", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", help="default: 1 2 3 4 5 (full), 1 (smoke)")
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument(
        "--policies", nargs="+", help=f"default: {' '.join(ALL_POLICIES)} (smoke: {' '.join(SMOKE_POLICIES)})"
    )
    ap.add_argument("--database-url", default="", help="postgres://USER@HOST:PORT/NAME, or a folder for SQLite files")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    if args.seeds is None:
        args.seeds = [1, 2, 3, 4, 5] if args.size == "full" else [1]
    if args.policies is None:
        args.policies = list(ALL_POLICIES if args.size == "full" else SMOKE_POLICIES)
    for p in args.policies:
        try:
            policy_spec(p)
        except ValueError as e:
            ap.error(str(e))
    if len(set(args.policies)) != len(args.policies) or len(set(args.seeds)) != len(args.seeds):
        ap.error("seeds and policies must not repeat")
    if args.database_url.startswith("sqlite://"):
        args.database_url = os.path.dirname(args.database_url[len("sqlite://") :]) or "."
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = SIZES[args.size]
    started = time.perf_counter()
    # longest runs first (the fair policies call the ranking on most purchases), so two workers finish together
    order = sorted(args.policies, key=lambda p: -policy_spec(p).follow)
    jobs = [(seed, policy, args.size, args.database_url) for seed in args.seeds for policy in order]
    runs: dict[int, dict[str, dict]] = {s: {} for s in args.seeds}
    timings: dict[tuple[int, str], dict] = {}
    ctx = multiprocessing.get_context("spawn")
    try:
        with ctx.Pool(max(1, min(args.workers, len(jobs))), maxtasksperchild=1) as pool:
            for seed, policy, result in pool.imap_unordered(_task, jobs, chunksize=1):
                runs[seed][policy] = result
                timings[(seed, policy)] = t = result.pop("timing")
                print(
                    f"[{time.perf_counter() - started:7.1f}s] seed {seed} {policy:<10} done in {t['seconds']:6.1f}s "
                    f"(ranking {t['rank_calls']} calls, {t['rank_seconds']:.1f}s; checks {result['checks']})",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if args.database_url.startswith("postgres"):  # a failed run's worker was stopped before its own cleanup
            for seed, policy, *_ in jobs:
                name, _, admin = _pg_names(args.database_url, seed, policy)
                asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}"'))
    runs = {s: {p: runs[s][p] for p in args.policies} for s in args.seeds}
    with_cost(runs)
    months = [str(m) for m in size.figure_months]
    mean = mean_over_seeds(runs, args.policies, months)
    targets = evaluate_targets(mean, months[-1])
    checks_ok = all(
        not r["checks"]["stats_rows_differing"]
        and r["checks"]["stats_max_relative_error_ok"]
        and not r["checks"]["monthly_rows_differing"]
        for by_policy in runs.values()
        for r in by_policy.values()
    )
    doc = {
        "size": args.size,
        "world": {
            "size": {k: getattr(size, k) for k in ("umkm_scale", "opd", "kecamatan", "months", "figure_months")},
            "categories": [c.__dict__ for c in CATEGORIES],
            "assumptions": ASSUMPTIONS,
        },
        "seeds": args.seeds,
        "policies": args.policies,
        "runs": {str(s): runs[s] for s in args.seeds},
        "mean": mean,
        "targets": targets,
        "checks_ok": checks_ok,
    }
    print_tables(mean, months, args.seeds)
    print_targets(targets, args.size)
    elapsed = time.perf_counter() - started
    run_sum = sum(t["seconds"] for t in timings.values())
    print(f"\ntiming: {elapsed:.1f}s wall, {run_sum:.1f}s summed over {len(jobs)} runs, {args.workers} workers")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(_round(doc), fh, indent=1, sort_keys=False)
            fh.write("\n")
    if not checks_ok:
        print("consistency checks FAILED (maintained statistics drifted from the order lines)", file=sys.stderr)
    return 0 if checks_ok else 1


if __name__ == "__main__":
    sys.exit(main())
