"""Bulk split by water-filling (docs/FAIRNESS.md, "Bulk split"): a pure function, no database, no I/O.

A bulk order of ``Q`` units is spread over candidate UMKM so that the lowest *levels* rise first (leximin). A
candidate's level is ``(R_i + p_i x_i) / w_i``: decayed rupiah received in the category plus the rupiah of this order,
per unit of target weight ``w_i = a_i(1 + γN_i)``.

Units and events
----------------
Think of candidate ``i``'s units one by one: unit ``k`` (``k = 0 .. c_i - 1``) *starts* at level
``s(i, k) = (R_i + p_i k) / w_i`` and lifts the level by ``p_i / w_i``. Plain integer water-filling gives the next
unit to whoever starts lowest, i.e. it takes the ``Q`` units with the smallest keys
``(s(i, k), -D_i, umkm_id, k)`` -- ties go to the larger deficit, then to the lower id. That is the integer version of
the continuous solution ``x_i(λ) = clip((λ w_i - R_i) / p_i, 0, c_i)``: every candidate that receives something ends
within one unit of the common water level.

The minimum lot ``m`` makes a candidate's first ``m`` units one indivisible *entry* event, keyed by its ``m``-th unit
``s(i, m - 1)``: a candidate joins the plan once the water has risen to the level at which a full lot is its fair
share. Events are taken in key order while they fit in the target; an entry that no longer fits (fewer than ``m``
units left) is skipped for good, and the last few units go to the suppliers already in the plan, still lowest level
first.

This is the "drop allocations below ``m`` and solve again" rule of docs/FAIRNESS.md, computed in one pass: the
result is a plan in which every supplier has at least ``m`` units and the suppliers form an ordinary water-filling among
themselves, and a candidate is never dropped early for a lot that would be large enough at the final level.

How it is computed (O(n log n))
-------------------------------
1. The continuous water level ``λ`` comes from a sweep over the sorted breakpoints (entry level, level at capacity).
2. The integer plan at ``λ`` is counted exactly: it contains every event whose start level is below ``λ``.
3. A heap then adds the next events (or removes the last ones) until the sum is exact. Each candidate has at most
   one event in the heap at a time. The number of heap steps is about the number of suppliers, independent of ``Q``.

Note on rounding: docs/FAIRNESS.md says "round by largest remainder". Rounding the fractional parts of ``x_i(λ)`` can
break the water-level property when unit prices per weight ``p_i / w_i`` differ (a cheap supplier may be rounded up
while an expensive one is rounded down far below the water). Rounding *on the level* -- the leftover units go to the
lowest start levels -- is the same as largest remainder when all ``p_i / w_i`` are equal, and keeps the property in
every case. Ties keep the rule of docs/FAIRNESS.md: larger deficit, then lower ``umkm_id``.

Edge cases (the rules chosen)
-----------------------------
- ``quantity <= 0`` → ``[]``.
- Only candidates with ``capacity >= min_lot`` take part. ``max_suppliers=K`` keeps the first ``K`` of *those*, in
  the order of the given list (the caller passes them in ranking order). With no cap the result does not depend on
  the order of the list.
- ``Q* = min(Q, Σ c_i)`` over the candidates taking part. If ``Q* < min_lot`` no lot can be formed → ``[]``.
- The exact sum has priority over spreading: if the plan above falls short (the candidates in the plan are full and
  no other lot fits in what is left), the supplier set is repaired. First the next candidate in entry order joins
  while ``(#suppliers + 1) * m <= target``; after that the smallest-capacity supplier is replaced by the
  largest-capacity candidate outside. The result is then water-filled with everyone at least ``m``
  (``SplitPlan.repaired`` is true). In that case a supplier kept at exactly ``m`` units may sit above the water.
- If no choice of ``x_i ∈ {0} ∪ [m, c_i]`` sums to ``Q*`` exactly (e.g. ``Q* = 25``, ``m = 20``, two candidates with
  ``c = 20``), the plan allocates the largest reachable total ``<= Q*``. With ``k = min(n, ⌊Q*/m⌋)`` suppliers at most,
  that is ``min(Q*, sum of the k largest capacities)``.
- Invalid input (duplicate ids, ``weight <= 0``, ``price < 1``, negative capacity or received, non-finite numbers,
  ``min_lot < 1``, negative ``max_suppliers``) raises ``ValueError``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

__all__ = ["Allocation", "Candidate", "SplitPlan", "plan_split", "water_fill"]


@dataclass(frozen=True)
class Candidate:
    umkm_id: int
    received: float  # R_i, decayed rupiah already received in the category (>= 0)
    weight: float  # w_i = a_i(1+γN_i) > 0
    price: int  # p_i, unit price in whole rupiah (> 0) of the product it would supply
    capacity: int  # c_i, units it can supply (>= 0)
    deficit: float = 0.0  # D_i, only for tie-breaking (larger first)


@dataclass(frozen=True)
class Allocation:
    umkm_id: int
    quantity: int
    level_before: float  # R_i / w_i
    level_after: float  # (R_i + p_i x_i) / w_i


@dataclass(frozen=True)
class SplitPlan:
    """The allocations plus what an auditor needs to check them."""

    allocations: tuple[Allocation, ...]  # quantity > 0 only, sorted by umkm_id
    requested: int  # Q* = min(Q, Σ c_i) over the candidates taking part (0 when nothing can be planned)
    total: int  # Σ x_i: equals `requested` unless no choice of lots can reach it exactly
    considered: tuple[int, ...]  # ids taking part: capacity >= min_lot, within max_suppliers, sorted
    water_level: float | None  # highest start level of any allocated unit, max over x_j > 0 of s(j, x_j - 1)
    repaired: bool  # the exact-sum repair of the supplier set ran (see the module docstring)


def water_fill(
    candidates: list[Candidate], quantity: int, min_lot: int = 20, max_suppliers: int | None = None
) -> list[Allocation]:
    """Split `quantity` units over `candidates`; see the module docstring for the rules."""
    return list(plan_split(candidates, quantity, min_lot, max_suppliers).allocations)


def plan_split(
    candidates: Sequence[Candidate], quantity: int, min_lot: int = 20, max_suppliers: int | None = None
) -> SplitPlan:
    """Like `water_fill`, with the figures behind the plan."""
    _validate(candidates, quantity, min_lot, max_suppliers)
    m = min_lot
    pool = [c for c in candidates if c.capacity >= m]
    if max_suppliers is not None:
        pool = pool[:max_suppliers]
    considered = tuple(sorted(c.umkm_id for c in pool))
    if quantity <= 0 or not pool:
        return SplitPlan((), 0, 0, considered, None, False)
    requested = min(quantity, sum(c.capacity for c in pool))
    if requested < m:
        return SplitPlan((), requested, 0, considered, None, False)
    # The largest total <= Q* reachable with lots in [m, c_i]: at most ⌊Q*/m⌋ suppliers, the largest capacities best.
    most = min(len(pool), requested // m)
    target = min(requested, sum(sorted((c.capacity for c in pool), reverse=True)[:most]))

    cands = sorted(pool, key=lambda c: c.umkm_id)  # the internal order never depends on the caller's order
    x, short = _fill_with_lots(cands, target, m)
    repaired = short > 0
    if repaired:
        x = _repair(cands, x, target, m)
    allocations = tuple(
        Allocation(c.umkm_id, x[i], _level(c, 0), _level(c, x[i])) for i, c in enumerate(cands) if x[i] > 0
    )
    tops = [_level(c, x[i] - 1) for i, c in enumerate(cands) if x[i] > 0]
    return SplitPlan(allocations, requested, sum(x), considered, max(tops) if tops else None, repaired)


# --- the solver --------------------------------------------------------------------------------------------------


def _level(c: Candidate, k: int) -> float:
    """s(i, k): the level before unit k (0-based), or the level after k units. The one formula used everywhere."""
    return (c.received + c.price * k) / c.weight


def _key(c: Candidate, k: int) -> tuple[float, float, int, int]:
    """The order in which units are handed out: lowest start level, then larger deficit, then lower id."""
    return (_level(c, k), -c.deficit, c.umkm_id, k)


def _count_below(c: Candidate, lam: float) -> int:
    """#{k in [0, c_i): s(i, k) < lam}, exact for the float formula of `_level` (which is monotone in k)."""
    cap = c.capacity
    est = (lam * c.weight - c.received) / c.price
    if not est > 0:  # also catches nan
        n = 0
    elif est >= cap:
        n = cap
    else:
        n = math.ceil(est)
    while n > 0 and _level(c, n - 1) >= lam:
        n -= 1
    while n < cap and _level(c, n) < lam:
        n += 1
    return n


def _water_level(cands: Sequence[Candidate], target: int, m: int) -> float:
    """Continuous water level λ with Σ_{i: s(i, m-1) < λ} clip((λ w_i - R_i) / p_i, 0, c_i) ≈ target.

    A sweep over sorted breakpoints: at the entry level s(i, m-1) candidate i jumps to m - 1 units and starts rising
    with slope w_i/p_i; at s(i, c_i) it is full. Only a starting point for the exact integer fix-up, so float drift in
    the running sum is harmless.
    """
    points: list[tuple[float, int, int]] = []
    for i, c in enumerate(cands):
        points.append((_level(c, m - 1), 0, i))  # entry
        points.append((_level(c, c.capacity), 1, i))  # full
    points.sort()
    value = 0.0
    slope = 0.0
    at = points[0][0]
    for lvl, kind, i in points:
        if lvl > at:
            if slope > 0 and value + slope * (lvl - at) >= target:
                return at + (target - value) / slope
            value += slope * (lvl - at)
            at = lvl
        c = cands[i]
        if kind == 0:
            value += m - 1
            slope += c.weight / c.price
        else:
            slope -= c.weight / c.price
        if value >= target:
            return at
    return at


def _fill_with_lots(cands: Sequence[Candidate], target: int, m: int) -> tuple[list[int], int]:
    """Take events in key order while they fit (module docstring). Returns (x, units still missing)."""
    n = len(cands)
    lam = _water_level(cands, target, m)
    x = [0] * n
    for i, c in enumerate(cands):
        k = _count_below(c, lam)
        x[i] = k if k >= m else 0
    total = sum(x)

    if total > target:
        # Remove the last events (highest keys) until the total fits: what is left is the longest prefix of the
        # event order that fits. The last unit of a supplier at exactly m is its entry event (all m units).
        heap: list[tuple[tuple[float, float, int, int], int]] = []
        for i, c in enumerate(cands):
            if x[i]:
                lvl, nd, uid, k = _key(c, x[i] - 1)
                heap.append(((-lvl, -nd, -uid, -k), i))
        heapq.heapify(heap)
        while total > target:
            _, i = heapq.heappop(heap)
            if x[i] > m:
                x[i] -= 1
                total -= 1
                lvl, nd, uid, k = _key(cands[i], x[i] - 1)
                heapq.heappush(heap, ((-lvl, -nd, -uid, -k), i))
            else:
                total -= x[i]
                x[i] = 0
        if total == target:
            return x, 0
        # An entry was the first event that did not fit: fewer than m units remain, so from here on only the
        # suppliers already in the plan can take units (next section, with no entries in the heap).
        up = [(_key(c, x[i]), i) for i, c in enumerate(cands) if 0 < x[i] < c.capacity]
    else:
        up = []
        for i, c in enumerate(cands):
            if x[i] == 0:
                up.append((_key(c, m - 1), i))  # its entry event
            elif x[i] < c.capacity:
                up.append((_key(c, x[i]), i))  # its next unit
    heapq.heapify(up)
    while total < target and up:
        _, i = heapq.heappop(up)
        c = cands[i]
        if x[i] == 0:
            if total + m > target:
                continue  # a lot no longer fits, and never will again: this candidate is left out
            x[i] = m
            total += m
        else:
            x[i] += 1
            total += 1
        if x[i] < c.capacity:
            heapq.heappush(up, (_key(c, x[i]), i))
    return x, target - total


def _repair(cands: Sequence[Candidate], x: list[int], target: int, m: int) -> list[int]:
    """The exact sum first: choose a supplier set S with |S|·m <= target <= Σ_S c_i, then water-fill it with x_i >= m.

    Starts from the suppliers of the greedy plan (all full when this runs). While short: add the next candidate in
    entry order if one more lot fits, else swap the smallest-capacity supplier (ties: the later entry) for the
    largest-capacity outsider (ties: the earlier entry). Each swap raises Σ_S c_i; it ends because `target` is
    reachable (at most ⌊target/m⌋ suppliers, largest capacities).
    """
    n = len(cands)
    rank = sorted(range(n), key=lambda i: _key(cands[i], m - 1))  # entry order
    pos = [0] * n
    for r, i in enumerate(rank):
        pos[i] = r
    chosen = [x[i] > 0 for i in range(n)]
    size = sum(chosen)
    cap = sum(cands[i].capacity for i in range(n) if chosen[i])
    by_entry = [i for i in rank if not chosen[i]]
    by_capacity = sorted(by_entry, key=lambda i: (-cands[i].capacity, pos[i]))
    smallest = [(cands[i].capacity, -pos[i], i) for i in range(n) if chosen[i]]
    heapq.heapify(smallest)
    a = b = 0
    while cap < target:
        if (size + 1) * m <= target:
            while chosen[by_entry[a]]:
                a += 1
            y = by_entry[a]
            size += 1
        else:
            while chosen[by_capacity[b]]:
                b += 1
            y = by_capacity[b]
            z_cap, _, z = heapq.heappop(smallest)
            if cands[y].capacity <= z_cap:  # cannot happen when target is reachable (see plan_split)
                raise AssertionError("bulk split: no supplier set reaches the target")
            chosen[z] = False
            cap -= z_cap
        chosen[y] = True
        cap += cands[y].capacity
        heapq.heappush(smallest, (cands[y].capacity, -pos[y], y))
    members = [i for i in range(n) if chosen[i]]
    out = [0] * n
    for i in members:
        out[i] = m
    # Everyone starts with a lot of m; the rest is plain water-filling (lot 1) on the units above the lot.
    rest = [i for i in members if cands[i].capacity > m]
    above = [
        replace(cands[i], received=cands[i].received + m * cands[i].price, capacity=cands[i].capacity - m) for i in rest
    ]
    remaining = target - m * len(members)
    if remaining > 0:
        extra, short = _fill_with_lots(above, remaining, 1)
        if short:  # cannot happen: Σ_S c_i >= target
            raise AssertionError("bulk split: repaired supplier set cannot take the target")
        for j, i in enumerate(rest):
            out[i] += extra[j]
    return out


def _validate(candidates: Iterable[Candidate], quantity: int, min_lot: int, max_suppliers: int | None) -> None:
    def integer(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if not integer(quantity):
        raise ValueError("quantity must be an integer")
    if not integer(min_lot) or min_lot < 1:
        raise ValueError("min_lot must be an integer >= 1")
    if max_suppliers is not None and (not integer(max_suppliers) or max_suppliers < 0):
        raise ValueError("max_suppliers must be None or an integer >= 0")
    seen: set[int] = set()
    for c in candidates:
        if c.umkm_id in seen:
            raise ValueError(f"duplicate candidate {c.umkm_id}")
        seen.add(c.umkm_id)
        if not integer(c.price) or c.price < 1:
            raise ValueError(f"candidate {c.umkm_id}: price must be an integer >= 1")
        if not integer(c.capacity) or c.capacity < 0:
            raise ValueError(f"candidate {c.umkm_id}: capacity must be an integer >= 0")
        if not (math.isfinite(c.weight) and c.weight > 0):
            raise ValueError(f"candidate {c.umkm_id}: weight must be finite and > 0")
        if not (math.isfinite(c.received) and c.received >= 0):
            raise ValueError(f"candidate {c.umkm_id}: received must be finite and >= 0")
        if not math.isfinite(c.deficit):
            raise ValueError(f"candidate {c.umkm_id}: deficit must be finite")
