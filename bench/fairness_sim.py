"""Does the fairness ranking work? A seeded simulation that replays a year of purchases (docs/FAIRNESS.md).

    python -m bench.fairness_sim [--seeds 1 2 3 4 5] [--size full|smoke] [--policies ...] [--levers]
                                 [--serving city kecamatan] [--database-url URL] [--json out.json]
                                 [--workers 2] [--runs-dir DIR]

For every (serving reading, seed, policy) a fresh database is used (a copy of one migrated SQLite file in a
temporary folder by default; with `--database-url postgres://…/NAME` a database NAME_fsim_<reading>_<seed>_<policy>
is created and migrated on that server and dropped afterwards), the seed's world is loaded in bulk, and the seed's
order stream is replayed day by day through the real code: every sale is an Order + OrderItem placed open (counted
provisionally), delivered 3-14 days later (bulk: 21) and counted by `resolvers.sales.sale_counted`; the fair
policies follow `resolvers.ranking.rank_category` (the real ranking SQL) and split bulk orders with
`resolvers.bulk_split.water_fill`. See `bench/sim/world.py` for the world, its two serving readings, the attackers
(split owners, stuffers) and the assumptions docs/FAIRNESS.md leaves open, `bench/sim/market.py` for the policies
and the checks made along the way.

Policies: status_quo, random, rotation (strict round robin), roster (least recently awarded eligible seller, no
choice), fairNN (follow the list with probability NN%, picking among its three recommended rows, else status quo;
the bulk setting on), and fairNN-no_LEVER for one lever off (`--levers` adds fair70 with each lever off). Figures at
the size's figure months (full: 3, 6, 12) per category over the UMKM eligible then, zeros included: Gini, Jain,
Theil, zero-sales share, coverage efficiency, top-10% share (from `resolvers.equity.equity_reference`) and cost = Σ
paid / Σ cheapest eligible option, as a ratio to the status quo's (+0% for the status quo itself); their mean over
categories, the worst category, the cost pooled in rupiah over all categories, and each seed's spread.

The JSON holds no wall-clock values: the same seeds, size, readings and policies give the same bytes whatever the
number of workers, and whether runs were reused from `--runs-dir`. Timings are printed on their own lines. Exit
status: 0 if every run's consistency checks passed (targets that are missed are reported, not an error), 1
otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from bench.sim.market import FIGURES, LEVER_TEXT, LEVERS, migrate_template, policy_spec, run_one
from bench.sim.world import ASSUMPTIONS, CATEGORIES, SERVING_READINGS, SIZES, build_world
from resolvers.fairness_policy import POLICY

ALL_POLICIES = ("status_quo", "random", "rotation", "roster", "fair70", "fair90", "fair100")
SMOKE_POLICIES = ("status_quo", "roster", "fair90")
LEVER_BASE = "fair70"  # `--levers`: this policy once more with each lever off
MEAN = "mean"  # the pseudo-category: mean over the six categories
WORST = "worst"  # the pseudo-category: the worst category (highest value); over seeds, the mean of each seed's worst
WORST_OF_MEANS = "worst_of_means"  # over seeds: the worst category of the means over seeds
POOLED = "pooled"  # cost pooled in rupiah over every category
REPORTED = (*FIGURES, "cost_vs_status_quo")
DIGITS = 6

# the targets of docs/FAIRNESS.md: mean of the seeds at the last figure month, in each serving reading; figures are
# means over categories unless the category says otherwise (worst: the worst category; pooled: rupiah over all).
TARGETS = (
    ("fair70", MEAN, "gini", "<=", 0.38),
    ("fair70", MEAN, "zero_share", "<=", 0.07),
    ("fair70", WORST_OF_MEANS, "zero_share", "<=", 0.18),
    ("fair70", POOLED, "cost_vs_status_quo", "<=", 0.095),
    ("fair90", MEAN, "gini", "<=", 0.30),
    ("fair90", MEAN, "zero_share", "<=", 0.03),
    ("fair100", MEAN, "zero_share", "<=", ("roster", 0.01)),  # within 1 point of the roster's (or below)
    ("fair100", POOLED, "cost_vs_status_quo", "<", ("roster", 0.0)),
    # the first wave's equity targets still hold
    ("fair70", MEAN, "gini", "<=", 0.47),
    ("fair70", MEAN, "zero_share", "<=", 0.12),
    ("fair90", MEAN, "gini", "<=", 0.34),
    ("fair90", MEAN, "zero_share", "<=", 0.05),
)
SPLIT_TARGET = 1.1  # a split owner (3 NIBs) receives at most this times its one-NIB twin


# ---------------------------------------------------------------- databases per run


def _pg_names(url: str, seed: int, policy: str, reading: str = "city") -> tuple[str, str, str]:
    """(run database name, its URL, the maintenance database URL for CREATE/DROP DATABASE)."""
    parts = urlsplit(url)
    base = parts.path.strip("/") or "pasar"
    tag = policy.replace("-", "_")
    name = f"{base}_fsim_{reading[:3]}_{seed}_{tag}".lower()
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


def _task(job: tuple[str, int, str, str, str, str]) -> tuple[str, int, str, dict]:
    """One (reading, seed, policy) in a worker process: its own event loop, its own database."""
    reading, seed, policy, size_name, database, template = (*job, "")[:6]
    world = build_world(seed, SIZES[size_name], reading)
    if database.startswith("postgres"):
        name, url, admin = _pg_names(database, seed, policy, reading)
        asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
        try:
            result = asyncio.run(run_one(world, policy, url))
        finally:
            asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}"'))
    else:
        with tempfile.TemporaryDirectory(prefix="pasar-fsim-", dir=database or None) as d:
            path = f"{d}/sim-{seed}-{policy}.sqlite3"
            if template:
                shutil.copyfile(template, path)
            result = asyncio.run(run_one(world, policy, f"sqlite://{path}", migrated=bool(template)))
    result["policy_version"] = POLICY.version  # a kept run is reused only under the same list (`--runs-dir`)
    return reading, seed, policy, result


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
    """Add to every run's figures: cost_vs_status_quo (cost ratio / the status quo's − 1, same seed, month and
    category), the mean over categories (MEAN), the worst category (WORST: the highest value of each figure) and
    the cost pooled in rupiah over every category (POOLED: Σ paid / Σ cheapest, against the status quo's)."""
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
                cats[WORST] = {k: _max([cats[s][k] for s in slugs]) for k in REPORTED}
                cats[POOLED] = {"cost_vs_status_quo": _pooled(cats, sq["figures"][month] if sq else None)}


def _max(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


def _pooled(cats: dict, sq: dict | None) -> float | None:
    slugs = [c.slug for c in CATEGORIES]
    if sq is None:
        return None
    mine = sum(cats[s]["paid"] for s in slugs) / max(1, sum(cats[s]["cheapest"] for s in slugs))
    base = sum(sq[s]["paid"] for s in slugs) / max(1, sum(sq[s]["cheapest"] for s in slugs))
    return mine / base - 1 if base else None


def _spread(values: list) -> list | None:
    vals = [v for v in values if v is not None]
    return [min(vals), max(vals)] if vals else None


def split_ratio(res: dict, month: str) -> float | None:
    sp = res.get("attacks", {}).get(month, {}).get("split")
    if not sp or not sp["twin_amount"]:
        return None
    return sp["split_amount"] / sp["twin_amount"]


def mean_over_seeds(runs: dict[int, dict[str, dict]], policies: list[str], months: list[str]) -> dict:
    """Per policy and month: the mean over seeds of every figure per category (and MEAN, WORST, POOLED), and under
    "spread" the [min, max] over seeds of the MEAN/WORST/POOLED figures; the split owners' gain (Σ split / Σ twin
    over the seeds) and the competitors pushed out of the band by stuffing (summed over categories and seeds)."""
    out: dict = {}
    seeds = sorted(runs)
    for policy in policies:
        out[policy] = {}
        for month in months:
            figs = [runs[s][policy]["figures"][month] for s in seeds]
            entry = {
                cat: {k: _mean([f[cat][k] for f in figs]) for k in REPORTED}
                for cat in [*(c.slug for c in CATEGORIES), MEAN, WORST]
            }
            entry[POOLED] = {"cost_vs_status_quo": _mean([f[POOLED]["cost_vs_status_quo"] for f in figs])}
            slugs = [c.slug for c in CATEGORIES]
            entry[WORST_OF_MEANS] = {k: _max([entry[c][k] for c in slugs]) for k in REPORTED}
            entry["spread"] = {
                cat: {k: _spread([f[cat].get(k) for f in figs]) for k in REPORTED if k in figs[0][cat]}
                for cat in (MEAN, WORST, POOLED)
            }
            attacks = [runs[s][policy].get("attacks", {}).get(month) for s in seeds]
            attacks = [a for a in attacks if a]
            if attacks:
                split = sum(a["split"]["split_amount"] for a in attacks)
                twin = sum(a["split"]["twin_amount"] for a in attacks)
                entry["attacks"] = {
                    "split_owners": sum(a["split"]["owners"] for a in attacks),
                    "split_vs_twin": split / twin if twin else None,
                    "split_vs_twin_spread": _spread([split_ratio(runs[s][policy], month) for s in seeds]),
                    "stuffing_out_now": sum(b["out_now"] for a in attacks for b in a["stuffing"]),
                    "stuffing_out_old_rule": sum(b["out_old_rule"] for a in attacks for b in a["stuffing"]),
                }
            out[policy][month] = entry
    return out


def evaluate_targets(mean: dict, month: str) -> list[dict]:
    out = []
    for policy, cat, figure, op, bound in TARGETS:
        row = {"policy": policy, "category": cat, "figure": figure, "op": op, "month": int(month)}
        value = mean.get(policy, {}).get(month, {}).get(cat, {}).get(figure)
        other = None
        if isinstance(bound, tuple):
            other = mean.get(bound[0], {}).get(month, {}).get(cat, {}).get(figure)
            row["bound"] = f"{bound[0]}{bound[1]:+g}" if bound[1] else bound[0]
            row["other"] = other
            limit = None if other is None else other + bound[1]
        else:
            row["bound"] = limit = bound
        row["value"] = value
        if value is None or limit is None:
            row["result"] = "N/A"
        else:
            ok = value <= limit + 1e-12 if op == "<=" else value < limit
            row["result"] = "PASS" if ok else "FAIL"
        out.append(row)
    for policy in mean:
        att = mean[policy].get(month, {}).get("attacks")
        if att is None or policy_spec(policy).kind != "fair" or policy_spec(policy).off:
            continue
        v = att["split_vs_twin"]
        res = "N/A" if v is None else ("PASS" if v <= SPLIT_TARGET else "FAIL")
        out.append({"policy": policy, "category": "split", "figure": "split_vs_twin", "op": "<=",
                    "bound": SPLIT_TARGET, "month": int(month), "value": v, "result": res})  # fmt: skip
        n = att["stuffing_out_now"]
        out.append({"policy": policy, "category": "stuffing", "figure": "competitors_out", "op": "<=", "bound": 0,
                    "month": int(month), "value": n, "result": "PASS" if n == 0 else "FAIL"})  # fmt: skip
    return out


# ---------------------------------------------------------------- printing


def _pct(v, signed=False) -> str:
    if v is None:
        return "   n/a"
    return f"{v * 100:+6.1f}%" if signed else f"{v * 100:5.1f}%"


def _num(v) -> str:
    return "  n/a" if v is None else f"{v:5.3f}"


def _range(sp, pct=False, signed=False) -> str:
    if not sp:
        return "n/a"
    if pct:
        return f"{_pct(sp[0], signed).strip()}..{_pct(sp[1], signed).strip()}"
    return f"{sp[0]:.3f}..{sp[1]:.3f}"


def print_tables(mean: dict, months: list[str], seeds: list[int], reading: str, out=sys.stdout) -> None:
    cats = [*(c.slug for c in CATEGORIES), MEAN, WORST]
    seeds_txt = " ".join(map(str, seeds))
    last = months[-1]
    print(f"\n== [{reading}] per category, month {last}, mean over seeds {seeds_txt} ==", file=out)
    head = f"{'policy':<18} {'category':<10} {'Gini':>6} {'Jain':>6} {'zero':>6} {'cov.eff':>7} {'top10%':>6}"
    print(head + f" {'cost vs SQ':>10}", file=out)
    for policy in mean:
        for cat in cats:
            r = mean[policy][last][cat]
            print(
                f"{policy:<18} {cat:<10} {_num(r['gini']):>6} {_num(r['jain']):>6} {_pct(r['zero_share']):>6} "
                f"{_num(r['coverage_efficiency']):>7} {_pct(r['top10_share']):>6} "
                f"{_pct(r['cost_vs_status_quo'], True):>10}",
                file=out,
            )
        print(file=out)
    print(f"== [{reading}] summary by month, mean over seeds {seeds_txt} (min..max over seeds) ==", file=out)
    print(f"{'policy':<18} {'month':>5} {'Gini':>6} {'(seeds)':>13} {'zero':>6} {'(seeds)':>13} "
          f"{'worst zero (seeds)':>18} {'pooled cost':>11} {'(seeds)':>15} {'split/twin':>10} {'stuffed out':>11}",
          file=out)  # fmt: skip
    for policy in mean:
        for month in months:
            e = mean[policy][month]
            r, sp = e[MEAN], e["spread"]
            att = e.get("attacks") or {}
            sv = att.get("split_vs_twin")
            print(
                f"{policy:<18} {month:>5} {_num(r['gini']):>6} {_range(sp[MEAN]['gini']):>13} "
                f"{_pct(r['zero_share']):>6} {_range(sp[MEAN]['zero_share'], True):>13} "
                f"{_pct(e[WORST_OF_MEANS]['zero_share']):>6} ({_pct(e[WORST]['zero_share']).strip():>6}) "
                f"{_pct(e[POOLED]['cost_vs_status_quo'], True):>15} "
                f"{_range(sp[POOLED]['cost_vs_status_quo'], True, True):>15} "
                f"{'n/a' if sv is None else f'{sv:.2f}x':>10} "
                f"{att.get('stuffing_out_now', 0):>4}/{att.get('stuffing_out_old_rule', 0):<6}",
                file=out,
            )


def print_levers(mean: dict, month: str, reading: str, out=sys.stdout) -> None:
    base = mean.get(LEVER_BASE)
    offs = [p for p in mean if p.startswith(LEVER_BASE + "-no_")]
    if base is None or not offs:
        return
    print(f"\n== [{reading}] each lever on its own, {LEVER_BASE} with it off (same seeds), month {month} ==", file=out)
    print(f"{'lever off':<28} {'Gini':>6} {'zero':>6} {'worst zero':>10} {'pooled cost':>11}  lever", file=out)
    for policy in [LEVER_BASE, *offs]:
        e = mean[policy][month]
        lever = policy.split("-no_", 1)[1] if "-no_" in policy else ""
        print(
            f"{policy:<28} {_num(e[MEAN]['gini']):>6} {_pct(e[MEAN]['zero_share']):>6} "
            f"{_pct(e[WORST_OF_MEANS]['zero_share']):>10} {_pct(e[POOLED]['cost_vs_status_quo'], True):>11}  "
            f"{LEVER_TEXT.get(lever, 'all levers on')}",
            file=out,
        )


def print_targets(targets: list[dict], size: str, reading: str, out=sys.stdout) -> None:
    note = "" if size == "full" else f" (a {size} world: the targets of docs/FAIRNESS.md are for the full world)"
    print(f"\n== [{reading}] targets, month {targets[0]['month']}, mean over seeds{note} ==", file=out)
    for t in targets:
        if "other" in t:
            cmp = f"{t['bound']} ({_fmt(t['figure'], t.get('other'))})"
        else:
            cmp = _fmt(t["figure"], t["bound"])
        print(f"{t['result']:<5} {t['policy']:<8} {t['category']:<8} {t['figure']:<19} "
              f"{_fmt(t['figure'], t['value'])} {t['op']} {cmp}", file=out)  # fmt: skip


def _fmt(figure: str, v) -> str:
    if v is None:
        return "n/a"
    if figure == "cost_vs_status_quo":
        return f"{v * 100:+.1f}%"
    if figure == "zero_share":
        return f"{v * 100:.1f}%"
    if figure == "split_vs_twin":
        return f"{v:.3f}x"
    if isinstance(v, int):
        return str(v)
    return f"{v:.3f}"


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.fairness_sim", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", help="default: 1 2 3 4 5 (full), 1 (smoke)")
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument(
        "--policies", nargs="+", help=f"default: {' '.join(ALL_POLICIES)} (smoke: {' '.join(SMOKE_POLICIES)})"
    )
    ap.add_argument("--serving", nargs="+", choices=SERVING_READINGS, default=list(SERVING_READINGS),
                    help="serving readings (default: both)")  # fmt: skip
    ap.add_argument("--levers", action="store_true", help=f"also {LEVER_BASE} with each lever off: {', '.join(LEVERS)}")
    ap.add_argument("--database-url", default="", help="postgres://USER@HOST:PORT/NAME, or a folder for SQLite files")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument(
        "--runs-dir",
        help="keep each finished run's result here (READING-SEED-POLICY-SIZE.json) and reuse the ones found (made "
        "under the same POLICY_VERSION): a long "
        "run can be resumed, or extended with more policies, giving the same output",
    )
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    if args.seeds is None:
        args.seeds = [1, 2, 3, 4, 5] if args.size == "full" else [1]
    if args.policies is None:
        args.policies = list(ALL_POLICIES if args.size == "full" else SMOKE_POLICIES)
    if args.levers:
        more = [f"{LEVER_BASE}-no_{lever}" for lever in LEVERS]
        args.policies += [p for p in more if p not in args.policies]
    for p in args.policies:
        try:
            policy_spec(p)
        except ValueError as e:
            ap.error(str(e))
    if len(set(args.policies)) != len(args.policies) or len(set(args.seeds)) != len(args.seeds):
        ap.error("seeds and policies must not repeat")
    if len(set(args.serving)) != len(args.serving):
        ap.error("serving readings must not repeat")
    if args.database_url.startswith("sqlite://"):
        args.database_url = os.path.dirname(args.database_url[len("sqlite://") :]) or "."
    return args


def _sqlite_dir(database: str) -> str | None:
    return None if database.startswith("postgres") else (database or None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = SIZES[args.size]
    started = time.perf_counter()
    # in the order given (the figures do not depend on it): put first what must finish, e.g. in a long batch
    order = list(args.policies)
    scratch = tempfile.TemporaryDirectory(prefix="pasar-fsim-template-", dir=_sqlite_dir(args.database_url))
    template = ""
    if not args.database_url.startswith("postgres"):
        template = os.path.join(scratch.name, "migrated.sqlite3")
        asyncio.run(migrate_template(f"sqlite://{template}"))
    jobs = [
        (reading, seed, policy, args.size, args.database_url, template)
        for policy in order
        for reading in args.serving
        for seed in args.seeds
    ]
    runs: dict[str, dict[int, dict[str, dict]]] = {r: {s: {} for s in args.seeds} for r in args.serving}
    timings: dict[tuple[str, int, str], dict] = {}

    def kept(reading: str, seed: int, policy: str) -> str | None:
        if not args.runs_dir:
            return None
        return os.path.join(args.runs_dir, f"{reading}-{seed}-{policy}-{args.size}.json")

    if args.runs_dir:
        os.makedirs(args.runs_dir, exist_ok=True)
        todo = []
        for job in jobs:
            path = kept(*job[:3])
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    result = json.load(fh)
                if result.get("policy_version") != POLICY.version:  # made under another list: run it again
                    print(f"{path}: made under {result.get('policy_version')}, run again", file=sys.stderr)
                    todo.append(job)
                    continue
                runs[job[0]][job[1]][job[2]] = result
                timings[job[:3]] = result.pop("timing")
            else:
                todo.append(job)
        jobs = todo
    ctx = multiprocessing.get_context("spawn")
    try:
        with ctx.Pool(max(1, min(args.workers, len(jobs) or 1)), maxtasksperchild=1) as pool:
            for reading, seed, policy, result in pool.imap_unordered(_task, jobs, chunksize=1):
                runs[reading][seed][policy] = result
                path = kept(reading, seed, policy)
                if path:
                    with open(path + ".tmp", "w", encoding="utf-8") as fh:
                        json.dump(result, fh)
                    os.replace(path + ".tmp", path)
                timings[(reading, seed, policy)] = t = result.pop("timing")
                print(
                    f"[{time.perf_counter() - started:7.1f}s] {reading:<9} seed {seed} {policy:<18} done in "
                    f"{t['seconds']:6.1f}s (ranking {t['rank_calls']} calls, {t['rank_seconds']:.1f}s; "
                    f"checks {result['checks']})",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        scratch.cleanup()
        if args.database_url.startswith("postgres"):  # a failed run's worker was stopped before its own cleanup
            for reading, seed, policy, *_ in jobs:
                name, _, admin = _pg_names(args.database_url, seed, policy, reading)
                asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}"'))
    months = [str(m) for m in size.figure_months]
    readings: dict[str, dict] = {}
    checks_ok = True
    for reading in args.serving:
        rr = {s: {p: runs[reading][s][p] for p in args.policies} for s in args.seeds}
        with_cost(rr)
        mean = mean_over_seeds(rr, args.policies, months)
        targets = evaluate_targets(mean, months[-1])
        checks_ok = checks_ok and all(
            not r["checks"]["stats_rows_differing"]
            and r["checks"]["stats_max_relative_error_ok"]
            and not r["checks"]["monthly_rows_differing"]
            and not r["checks"].get("market_mismatches")
            for by_policy in rr.values()
            for r in by_policy.values()
        )
        readings[reading] = {"runs": {str(s): rr[s] for s in args.seeds}, "mean": mean, "targets": targets}
        print_tables(mean, months, args.seeds, reading)
        print_levers(mean, months[-1], reading)
        print_targets(targets, args.size, reading)
    doc = {
        "size": args.size,
        "world": {
            "size": {k: getattr(size, k) for k in ("umkm_scale", "opd", "kecamatan", "months", "figure_months")},
            "categories": [c.__dict__ for c in CATEGORIES],
            "assumptions": ASSUMPTIONS,
            "levers": LEVER_TEXT,
        },
        "seeds": args.seeds,
        "policies": args.policies,
        "serving": args.serving,
        "readings": readings,
        "checks_ok": checks_ok,
    }
    elapsed = time.perf_counter() - started
    run_sum = sum(t["seconds"] for t in timings.values())
    print(
        f"\ntiming: {elapsed:.1f}s wall, {run_sum:.1f}s summed over {len(timings)} runs "
        f"({len(timings) - len(jobs)} reused), {args.workers} workers"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(_round(doc), fh, indent=1, sort_keys=False)
            fh.write("\n")
    if not checks_ok:
        print("consistency checks FAILED (maintained statistics drifted from the order lines)", file=sys.stderr)
    return 0 if checks_ok else 1


if __name__ == "__main__":
    sys.exit(main())
