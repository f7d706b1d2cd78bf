"""Nothing leaks: who sees individual and personal figures, and when an aggregate of them may be shown.

The one statement of the rule (docs/PRIVACY.md); every feature that shows omzet, a ranking score or personal orders
cites it and calls it here instead of deciding again:

- **Individual omzet** and everything computed from it (the ranking's need, target share, deficit and bucket, the
  omzet reason codes, a bulk plan's levels) go to the UMKM's owner, admins and analysts only (`sees_omzet_of`,
  `ranked_for`).
- **Aggregates of omzet** are sums of published base cells, one month by one kecamatan, primary category or scale
  (`published_reports`): a cell is withheld below `MIN_REPORTERS` reporters or when its two largest reports exceed
  `DOMINANCE` of it; a report is left out of every grouping when any of its cells is withheld, so every grouping of a
  month sums the same reports and no difference of answers reaches a withheld one. A median needs
  `MEDIAN_MIN_REPORTERS` and is rounded to `MEDIAN_ROUNDING` (`median_of`).
- **Personal orders** (an employee's own purchases) are seen one by one by the employee, the seller and admins;
  aggregates that include them are shown for groups of at least `MIN_EMPLOYEES` distinct employees
  (`staff_figures`), and figures over any period a caller picks leave them out except for admins
  (`counts_personal_orders`).
- **Public rankings and checks** show VERIFIED UMKM only, except to admins and analysts (`sees_every_umkm`).

Imports: models and resolvers.common only, so every resolver may use it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import Any

from models.base import Role
from resolvers.common import Principal

MIN_REPORTERS = 5  # an omzet cell with fewer reporters is withheld
DOMINANCE = 0.85  # … and so is one whose two largest reports exceed this share of its total
MEDIAN_MIN_REPORTERS = 10  # a median of omzet needs this many distinct reporters
MEDIAN_ROUNDING = 100_000  # … and is rounded to this many rupiah
MIN_EMPLOYEES = 5  # an aggregate that includes personal orders needs this many distinct employees

# Reason codes of a ranking row that are functions of the UMKM's reported omzet: the omzet codes themselves, and
# below/above the fair share, which is the sign of the deficit (the target share depends on the need).
OMZET_REASONS = frozenset(
    {"LOW_REPORTED_OMZET", "OMZET_REPORTED", "NO_OMZET_REPORT", "BELOW_FAIR_SHARE", "AT_OR_ABOVE_FAIR_SHARE"}
)


# ---------------------------------------------------------------- individual omzet


def sees_omzet_of(p: Principal, umkm_id: int) -> bool:
    """The UMKM's owner, admins and analysts see its omzet and every figure computed from it."""
    return p.sees_everything or (p.role is Role.UMKM_OWNER and p.owns_umkm(umkm_id))


def ranked_for(p: Principal, row: Any) -> Any:
    """A ranking row (`resolvers.ranking.RankedUmkm`) as the caller may see it: for anyone but the UMKM's owner,
    admins and analysts, the score's omzet, need, target share, deficit, omzet source and bucket are None and the
    reason codes that follow from the omzet are removed. What stays (received, received share, active fraction,
    rotation key, the other reasons) does not depend on the omzet; the rank does, at the bucket's grain."""
    if sees_omzet_of(p, row.umkm_id):
        return row
    score = replace(row.score, deficit=None, target_share=None, need=None, omzet=None, omzet_source=None, bucket=None)
    return replace(row, score=score, reasons=[r for r in row.reasons if r not in OMZET_REASONS])


# ---------------------------------------------------------------- aggregates of omzet


def cell_publishable(values: Sequence[int]) -> bool:
    """A cell (one report per UMKM) may be shown: enough reporters, and the two largest not dominating it."""
    if len(values) < MIN_REPORTERS:
        return False
    total = sum(values)
    top_two = sum(sorted(values, reverse=True)[:2])
    return total <= 0 or top_two <= DOMINANCE * total


def published_reports(values: Sequence[int], grids: Sequence[Callable[[int], Hashable]]) -> set[int]:
    """The reports of one month that every grouping may show, as indexes into `values` (one report per UMKM).

    `grids` maps a report's index to its cell in each grouping (kecamatan, primary category, scale). Repeated until
    nothing changes: a cell that fails `cell_publishable` is withheld and its reports leave the published set (so
    they leave their cells in the other groupings too, which are checked again); and where one published cell lies
    inside a cell of another grouping, the difference of the two, which subtraction would give, must pass the same
    test or its reports leave as well.
    """
    full: list[dict[Hashable, set[int]]] = []
    for key in grids:
        cells: dict[Hashable, set[int]] = {}
        for i in range(len(values)):
            cells.setdefault(key(i), set()).add(i)
        full.append(cells)
    alive = set(range(len(values)))
    changed = True
    while changed:
        changed = False
        live: list[list[set[int]]] = []
        for cells in full:
            kept = []
            for members in cells.values():
                cell = members & alive
                if not cell:
                    continue
                if cell_publishable([values[i] for i in cell]):
                    kept.append(cell)
                else:
                    alive -= cell
                    changed = True
            live.append(kept)
        if changed:
            continue
        for a, small_cells in enumerate(live):
            for b, large_cells in enumerate(live):
                if a == b:
                    continue
                for small in small_cells:
                    for large in large_cells:
                        rest = large - small
                        if rest and len(small) < len(large) and small <= large:
                            if not cell_publishable([values[i] for i in rest]):
                                alive -= rest
                                changed = True
    return alive


def median_of(values: Sequence[int], reporters: int) -> int | None:
    """The median of published reports, when they come from enough distinct reporters, rounded."""
    if reporters < MEDIAN_MIN_REPORTERS or not values:
        return None
    return math.floor(statistics.median(values) / MEDIAN_ROUNDING + 0.5) * MEDIAN_ROUNDING


# ---------------------------------------------------------------- personal orders


def counts_personal_orders(p: Principal) -> bool:
    """Figures over a period the caller picks (sales rankings, equity) include personal orders for admins only: the
    difference of two periods could isolate one employee's purchase, whatever the size of each answer's group."""
    return p.is_admin


def staff_figures(p: Principal, employees: int, purchases: int, spend: int) -> tuple[int | None, int | None]:
    """An OPD's staff purchases over a year (count, rupiah): shown when at least `MIN_EMPLOYEES` distinct employees
    bought, or to admins; else (None, None)."""
    if p.is_admin or employees >= MIN_EMPLOYEES:
        return purchases, spend
    return None, None


# ---------------------------------------------------------------- UMKM in public outputs


def sees_every_umkm(p: Principal) -> bool:
    """Admins and analysts see pending, rejected and suspended UMKM in rankings and checks; others VERIFIED only."""
    return p.sees_everything
