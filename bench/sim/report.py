"""The simulation's results as Markdown tables (README.md and bench/README.md print them as they are).

`python -m bench.sim.report RESULT.json [--month 12]` reads what `bench.fairness_sim --json` wrote and prints, per
serving reading, one row per policy (Gini, zero-sales share, worst category, Jain, pooled cost, the split owners'
gain, each with its per-seed min–max), the targets the run evaluated and, when the run had `--levers`, one row per
lever turned off. Pure: it
reads the file and prints; the figures are the ones the simulation computed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench.sim.market import LEVER_TEXT

NAMES = {
    "fair100": "fair, 100% follow",
    "fair90": "fair, 90% follow",
    "fair70": "fair, 70% follow",
    "roster": "roster (least recently awarded, no choice)",
    "rotation": "strict rotation",
    "random": "random",
    "status_quo": "status quo",
}
ORDER = ("fair100", "fair90", "fair70", "roster", "rotation", "random", "status_quo")


def pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x * 100:+.1f}%" if signed else f"{x * 100:.1f}%"


def num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def span(pair: list | None, fmt) -> str:
    return "" if not pair else f" ({fmt(pair[0])}–{fmt(pair[1])})"


def ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}×"


def policy_table(mean: dict[str, Any], month: str) -> list[str]:
    head = (
        "| policy | Gini | zero-sales | worst category zero-sales (mean of each seed's worst) | Jain "
        "| pooled cost vs status quo | split owner ÷ one-NIB twin |"
    )
    lines = [head, "|---|---|---|---|---|---|---|"]
    known = [p for p in ORDER if p in mean] + sorted(p for p in mean if p not in ORDER and "-no_" not in p)
    for policy in known:
        e = mean[policy][month]
        m, w, sp = e["mean"], e["worst"], e["spread"]
        att = e.get("attacks") or {}
        worst = e["worst_of_means"]["zero_share"]
        seeds_worst = sp["worst"].get("zero_share")
        seeds_range = f"{pct(seeds_worst[0])}–{pct(seeds_worst[1])}" if seeds_worst else "n/a"
        lines.append(
            f"| {NAMES.get(policy, policy)} "
            f"| {num(m['gini'])}{span(sp['mean'].get('gini'), num)} "
            f"| {pct(m['zero_share'])}{span(sp['mean'].get('zero_share'), pct)} "
            f"| {pct(worst)} ({pct(w['zero_share'])}; seeds {seeds_range}) "
            f"| {num(m['jain'])} "
            f"| {pct(e['pooled']['cost_vs_status_quo'], True)}"
            f"{span(sp['pooled'].get('cost_vs_status_quo'), lambda x: pct(x, True))} "
            f"| {ratio(att.get('split_vs_twin'))}{span(att.get('split_vs_twin_spread'), lambda x: f'{x:.2f}')} |"
        )
    return lines


def lever_table(mean: dict[str, Any], month: str, base: str = "fair70") -> list[str]:
    offs = sorted(p for p in mean if p.startswith(base + "-no_"))
    if base not in mean or not offs:
        return []
    lines = ["| lever turned off | Gini | zero-sales | worst category zero-sales | pooled cost vs status quo |"]
    lines.append("|---|---|---|---|---|")
    for policy in [base, *offs]:
        e = mean[policy][month]
        lever = policy.split("-no_", 1)[1] if policy != base else ""
        label = f"`{lever}` ({LEVER_TEXT.get(lever, lever)})" if lever else "none (every lever on)"
        lines.append(
            f"| {label} | {num(e['mean']['gini'])} | {pct(e['mean']['zero_share'])} "
            f"| {pct(e['worst_of_means']['zero_share'])} | {pct(e['pooled']['cost_vs_status_quo'], True)} |"
        )
    return lines


FIGURE_TEXT = {
    ("mean", "gini"): "Gini",
    ("mean", "zero_share"): "zero-sales",
    ("worst_of_means", "zero_share"): "worst category zero-sales",
    ("pooled", "cost_vs_status_quo"): "pooled cost",
    ("split", "split_vs_twin"): "split owner ÷ twin",
    ("stuffing", "competitors_out"): "stuffing: competitors out of the band",
}


def _value(figure: str, x: Any) -> str:
    if x is None or isinstance(x, str):
        return "n/a" if x is None else x
    if figure == "zero_share":
        return pct(x)
    if figure == "cost_vs_status_quo":
        return pct(x, True)
    if figure == "split_vs_twin":
        return ratio(x)
    return str(x) if isinstance(x, int) else num(x)


def target_table(targets: list[dict[str, Any]]) -> list[str]:
    lines = ["| target | value | result |", "|---|---|---|"]
    for t in targets:
        figure = t["figure"]
        what = FIGURE_TEXT.get((t["category"], figure), f"{t['category']} {figure}")
        bound = t["bound"]
        if isinstance(bound, str):  # relative to another policy's figure, e.g. roster+0.01
            bound = f"{bound} ({_value(figure, t.get('other'))})"
        else:
            bound = _value(figure, bound)
        lines.append(f"| {t['policy']} {what} {t['op']} {bound} | {_value(figure, t['value'])} | {t['result']} |")
    return lines


def render(result: dict[str, Any], month: str) -> str:
    out = [f"Seeds {' '.join(str(s) for s in result['seeds'])}, month {month}, size {result['size']}."]
    for reading, data in result["readings"].items():
        out += ["", f"`{reading}` reading:", "", *policy_table(data["mean"], month)]
        targets = [t for t in data.get("targets", []) if str(t["month"]) == month and t["result"] != "N/A"]
        if targets:
            out += ["", f"Targets, `{reading}` reading:", "", *target_table(targets)]
        levers = lever_table(data["mean"], month)
        if levers:
            out += ["", f"`{reading}` reading, each lever on its own (fair 70%, same seeds):", "", *levers]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.sim.report", description=__doc__.splitlines()[0])
    ap.add_argument("result", help="the JSON file written by bench.fairness_sim --json")
    ap.add_argument("--month", default="12")
    args = ap.parse_args(argv)
    with open(args.result, encoding="utf-8") as f:
        result = json.load(f)
    sys.stdout.write(render(result, args.month))
    return 0


if __name__ == "__main__":
    sys.exit(main())
