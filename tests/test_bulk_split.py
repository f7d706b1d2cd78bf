"""The bulk split (resolvers/bulk_split.py): hand-computed examples, then properties over random cases.

Pure functions: these tests need no database (the autouse fixtures of conftest.py still run; they are harmless).

The water-level property, precisely. Let ``s(i, k) = (R_i + p_i k) / w_i`` and let the plan's water level ``μ`` be the
highest start level of any allocated unit, ``max over x_j > 0 of s(j, x_j - 1)``. A candidate ``i`` is *kept* when
  - it supplies (``x_i > 0``), or
  - it supplies nothing and ``R_i / w_i >= μ``: even plain water-filling, without a minimum lot, would give it nothing.
The other zero-quantity candidates (``R_i / w_i < μ``) were *dropped by the minimum lot*: they would have had units
at the final water level, but fewer than ``m`` of them or a lot that no longer fitted; their level may stay far below
the water, so the property is not claimed for them. For every kept ``i`` with ``x_i < c_i`` and every ``j`` with
``x_j > 0``: ``level_j_after <= level_i_after + p_j / w_j`` (one unit of ``j`` at most above ``i``), up to a relative
float tolerance of 1e-9. When the plan had to be repaired to reach the exact sum (``SplitPlan.repaired``), a supplier
kept at exactly ``m`` units may sit above the water, so the property is then checked for ``x_j > m`` only.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.bulk_split import Allocation, Candidate, plan_split, water_fill

C = Candidate


def q(allocs: list[Allocation]) -> dict[int, int]:
    return {a.umkm_id: a.quantity for a in allocs}


# --- hand-computed examples ---------------------------------------------------------------------------------------


def test_equal_weights_zero_received_split_equally():
    cands = [C(1, 0.0, 1.0, 10, 100), C(2, 0.0, 1.0, 10, 100), C(3, 0.0, 1.0, 10, 100)]
    assert q(water_fill(cands, 90)) == {1: 30, 2: 30, 3: 30}
    # 100 = 33 + 33 + 33 + 1: the odd unit goes to the lower id ...
    assert q(water_fill(cands, 100)) == {1: 34, 2: 33, 3: 33}
    # ... unless another has the larger deficit
    cands[2] = C(3, 0.0, 1.0, 10, 100, deficit=0.9)
    assert q(water_fill(cands, 100)) == {1: 33, 2: 33, 3: 34}


def test_levels_are_reported():
    (a,) = water_fill([C(7, 500.0, 2.0, 100, 50)], 30)
    assert a == Allocation(7, 30, 250.0, (500.0 + 100 * 30) / 2.0)


def test_split_follows_weights():
    # same price, weights 1 : 3, nothing received: levels rise together when x is proportional to w
    cands = [C(1, 0.0, 1.0, 1, 500), C(2, 0.0, 3.0, 1, 500)]
    assert q(water_fill(cands, 200)) == {1: 50, 2: 150}


def test_supplier_already_ahead_gets_less_or_nothing():
    # p = w = 1, so a level is rupiah. 1 and 2 first climb to 3's level 30 (60 units), then all three share 30.
    cands = [C(1, 0.0, 1.0, 1, 1000), C(2, 0.0, 1.0, 1, 1000), C(3, 30.0, 1.0, 1, 1000)]
    assert q(water_fill(cands, 90, min_lot=1)) == {1: 40, 2: 40, 3: 10}
    # far ahead: the water (45) never reaches it
    cands[2] = C(3, 100.0, 1.0, 1, 1000)
    assert q(water_fill(cands, 90, min_lot=1)) == {1: 45, 2: 45}


def test_capacity_binding():
    cands = [C(1, 0.0, 1.0, 1, 20), C(2, 0.0, 1.0, 1, 200)]
    allocs = water_fill(cands, 100)
    assert q(allocs) == {1: 20, 2: 80}
    assert allocs[0].level_after < allocs[1].level_after  # 1 is full below the water
    # asking for more than all capacity together: everyone full
    assert q(water_fill(cands, 10_000)) == {1: 20, 2: 200}


def test_min_lot_drops_a_tiny_allocation_and_solves_again():
    # without a minimum lot: 1 and 2 climb to 40 (80 units), the last 20 are shared 7 / 7 / 6
    cands = [C(1, 0.0, 1.0, 1, 1000), C(2, 0.0, 1.0, 1, 1000), C(3, 40.0, 1.0, 1, 1000)]
    assert q(water_fill(cands, 100, min_lot=1)) == {1: 47, 2: 47, 3: 6}
    # with m = 20, 3's 6 units are dropped and the 100 are solved again between 1 and 2
    assert q(water_fill(cands, 100, min_lot=20)) == {1: 50, 2: 50}
    # with more to share the water passes 59, where 3's lot of 20 starts: all three supply
    assert q(water_fill(cands, 160, min_lot=20)) == {1: 67, 2: 67, 3: 26}


def test_cheap_lot_for_a_newcomer_with_tiny_weight_is_not_forced():
    # 1 has sold nothing but its weight is tiny (just verified): one lot of 20 would lift it to level 2,000,
    # above 2's 1,050 after taking all 50 units. It is dropped by the minimum lot.
    cands = [C(1, 0.0, 0.01, 1, 100), C(2, 1000.0, 1.0, 1, 100)]
    plan = plan_split(cands, 50)
    assert q(list(plan.allocations)) == {2: 50}
    assert not plan.repaired


def test_exact_sum_beats_spreading():
    # Q* = 25, m = 20, two equal candidates: 13 + 12 would break the lot, so one supplier takes all 25
    cands = [C(1, 0.0, 1.0, 1, 100), C(2, 0.0, 1.0, 1, 100)]
    assert q(water_fill(cands, 25)) == {1: 25}
    cands[1] = C(2, 0.0, 1.0, 1, 100, deficit=1.0)
    assert q(water_fill(cands, 25)) == {2: 25}


def test_exact_sum_repairs_the_supplier_set():
    # 1 is lowest but can supply only 20; 2 must then take a lot too, and 20 + 20 > 30.
    # The only exact plan is 2 alone with 30.
    cands = [C(1, 0.0, 1.0, 1, 20), C(2, 50.0, 1.0, 1, 100)]
    plan = plan_split(cands, 30)
    assert q(list(plan.allocations)) == {2: 30}
    assert plan.repaired and plan.total == plan.requested == 30
    # room for two lots: both supply, everyone at least m
    plan = plan_split(cands, 45)
    assert q(list(plan.allocations)) == {1: 20, 2: 25}


def test_exact_sum_impossible_allocates_the_most_reachable():
    # Q* = min(25, 40) = 25, but lots are 20..20 each: 25 and 40 are out of reach, 20 is the most
    cands = [C(1, 0.0, 1.0, 1, 20), C(2, 5.0, 1.0, 1, 20)]
    plan = plan_split(cands, 25)
    assert q(list(plan.allocations)) == {1: 20}
    assert plan.requested == 25 and plan.total == 20


def test_nothing_to_plan():
    cands = [C(1, 0.0, 1.0, 1, 100), C(2, 0.0, 1.0, 1, 100)]
    assert water_fill(cands, 0) == []
    assert water_fill(cands, -5) == []
    assert water_fill([], 100) == []
    assert water_fill(cands, 19) == []  # Q* < m: not even one lot
    assert water_fill([C(1, 0.0, 1.0, 1, 19), C(2, 0.0, 1.0, 1, 19)], 30) == []  # Q* = 30 but nobody has c >= m
    assert water_fill([C(1, 0.0, 1.0, 1, 19), C(2, 0.0, 1.0, 1, 20)], 30) == [Allocation(2, 20, 0.0, 20.0)]
    assert water_fill(cands, 100, max_suppliers=0) == []


def test_max_suppliers_takes_the_first_k_by_the_given_order():
    # 9 cannot take a lot (capacity 10 < m) and does not use a place; then the first two in list order
    cands = [C(9, 0.0, 1.0, 1, 10), C(5, 300.0, 1.0, 1, 100), C(3, 200.0, 1.0, 1, 100), C(1, 0.0, 1.0, 1, 100)]
    plan = plan_split(cands, 100, max_suppliers=2)
    assert plan.considered == (3, 5)
    assert q(list(plan.allocations)) == {3: 100}  # 3 climbs from 200 to 300, where 5 would start
    assert q(water_fill(cands, 100)) == {1: 100}


def test_input_order_does_not_matter_without_a_cap():
    cands = [C(i, float(i % 7) * 30, 1.0 + (i % 3) / 2, 10 + i % 5, 40 + i) for i in range(1, 30)]
    expected = water_fill(cands, 500)
    assert sum(a.quantity for a in expected) == 500
    assert water_fill(list(reversed(cands)), 500) == expected
    assert water_fill(cands[10:] + cands[:10], 500) == expected


@pytest.mark.parametrize(
    "bad",
    [
        dict(candidates=[C(1, 0.0, 1.0, 1, 50), C(1, 0.0, 1.0, 1, 50)]),
        dict(candidates=[C(1, 0.0, 0.0, 1, 50)]),
        dict(candidates=[C(1, 0.0, float("nan"), 1, 50)]),
        dict(candidates=[C(1, -1.0, 1.0, 1, 50)]),
        dict(candidates=[C(1, 0.0, 1.0, 0, 50)]),
        dict(candidates=[C(1, 0.0, 1.0, 1, -1)]),
        dict(min_lot=0),
        dict(max_suppliers=-1),
    ],
)
def test_invalid_input(bad):
    args = dict(candidates=[C(1, 0.0, 1.0, 1, 50)], quantity=30, min_lot=20, max_suppliers=None) | bad
    with pytest.raises(ValueError):
        plan_split(**args)


# --- properties over random cases ----------------------------------------------------------------------------------


def level(c: Candidate, k: int) -> float:
    return (c.received + c.price * k) / c.weight


def pool_of(cands: list[Candidate], m: int, k: int | None) -> list[Candidate]:
    pool = [c for c in cands if c.capacity >= m]
    return pool if k is None else pool[:k]


def most_reachable(pool: list[Candidate], quantity: int, m: int) -> int:
    """The largest total <= Q* = min(Q, Σc) with every x_i in {0} ∪ [m, c_i]: a subset-sum over a bitset."""
    if quantity <= 0 or not pool:
        return 0
    limit = min(quantity, sum(c.capacity for c in pool))
    mask = (1 << (limit + 1)) - 1
    reach = 1
    for c in pool:
        add = 0
        for x in range(m, min(c.capacity, limit) + 1):
            add |= reach << x
        reach = (reach | add) & mask
    return reach.bit_length() - 1


def reference(pool: list[Candidate], target: int, m: int) -> tuple[dict[int, int], bool]:
    """The plan rule written out slowly: every event listed and sorted, taken while it fits.

    Events: a candidate's entry (its first m units at once, keyed by the start level of its m-th unit) and its
    single units after that; keys (level, -deficit, id, unit). Returns (plan, fell short of the target).
    """
    events = []
    for c in pool:
        events.append(((level(c, m - 1), -c.deficit, c.umkm_id, m - 1), c.umkm_id, m))
        events.extend(((level(c, k), -c.deficit, c.umkm_id, k), c.umkm_id, 1) for k in range(m, c.capacity))
    events.sort()
    x: dict[int, int] = {}
    total = 0
    for _, uid, units in events:
        if total == target:
            break
        if units == m and uid not in x:
            if total + m <= target:
                x[uid] = m
                total += m
        elif uid in x:
            x[uid] += 1
            total += 1
    return x, total < target


def check_plan(cands: list[Candidate], quantity: int, m: int, k: int | None) -> None:
    plan = plan_split(cands, quantity, m, k)
    allocs = list(plan.allocations)
    by_id = {c.umkm_id: c for c in cands}
    pool = pool_of(cands, m, k)
    x = {c.umkm_id: 0 for c in pool} | q(allocs)

    # shape: positive quantities, sorted by id, only candidates that take part, levels as defined
    assert [a.umkm_id for a in allocs] == sorted(a.umkm_id for a in allocs)
    assert set(q(allocs)) <= {c.umkm_id for c in pool}
    assert plan.considered == tuple(sorted(c.umkm_id for c in pool))
    for a in allocs:
        c = by_id[a.umkm_id]
        assert a.level_before == level(c, 0)
        assert a.level_after == level(c, a.quantity)

    # bounds: 0 <= x_i <= c_i and every non-zero x_i >= m
    for uid, xi in x.items():
        assert 0 <= xi <= by_id[uid].capacity
        assert xi == 0 or xi >= m

    # exact sum: Q* = min(Q, Σc) whenever lots can make it, else the largest reachable total below it
    requested = min(quantity, sum(c.capacity for c in pool)) if quantity > 0 and pool else 0
    assert plan.total == sum(x.values()) == most_reachable(pool, quantity, m)
    if requested >= m:
        assert plan.requested == requested
    if plan.total < requested:  # documented rule: then no choice of lots reaches Q* exactly
        assert most_reachable(pool, quantity, m) < requested

    # the plan rule, against the slow reference (the repair only runs when the greedy rule falls short)
    if plan.total:
        ref, short = reference(pool, plan.total, m)
        assert plan.repaired == short
        if not short:
            assert q(allocs) == ref

    # the water level, for kept candidates (module docstring)
    if allocs:
        mu = max(level(by_id[uid], xi - 1) for uid, xi in x.items() if xi > 0)
        assert plan.water_level == mu
        kept = [uid for uid, xi in x.items() if xi > 0 or level(by_id[uid], 0) >= mu]
        for j in (uid for uid in kept if x[uid] > 0):
            if plan.repaired and x[j] == m:
                continue
            cj = by_id[j]
            lj = level(cj, x[j])
            for i in kept:
                ci = by_id[i]
                if x[i] < ci.capacity:
                    li = level(ci, x[i])
                    bound = li + cj.price / cj.weight
                    assert lj <= bound + 1e-9 * max(1.0, abs(bound)), (j, i, x, plan)

    # determinism
    assert plan_split(cands, quantity, m, k) == plan


received = st.one_of(st.sampled_from([0.0, 0.0, 10.0, 100.0, 250.0, 1000.0]), st.floats(0, 5000))
weights = st.one_of(st.sampled_from([1.0, 0.5, 1.5, 0.01]), st.floats(0.01, 2.0))
prices = st.one_of(st.sampled_from([1, 2, 5, 10]), st.integers(1, 300))
deficits = st.one_of(st.sampled_from([0.0, 0.5, 1.0, -0.25]), st.floats(-2, 2))


@st.composite
def cases(draw, max_n: int = 12, max_capacity: int = 80, max_quantity: int = 500):
    ids = draw(st.lists(st.integers(1, 200), unique=True, max_size=max_n))
    cands = [
        C(uid, draw(received), draw(weights), draw(prices), draw(st.integers(0, max_capacity)), draw(deficits))
        for uid in ids
    ]
    quantity = draw(st.one_of(st.integers(-3, 30), st.integers(0, max_quantity)))
    m = draw(st.one_of(st.sampled_from([1, 2, 5, 20]), st.integers(1, 30)))
    k = draw(st.one_of(st.none(), st.integers(0, max_n)))
    return cands, quantity, m, k


# conftest's autouse fixtures empty a database around each test; they do not touch these pure checks
PROPERTY = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(cases(), st.data())
def test_properties(case, data):
    cands, quantity, m, k = case
    check_plan(cands, quantity, m, k)
    # without a cap the order of the list does not matter
    shuffled = data.draw(st.permutations(cands))
    assert plan_split(shuffled, quantity, m) == plan_split(cands, quantity, m)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases(max_n=40, max_capacity=300, max_quantity=4000))
def test_properties_larger(case):
    check_plan(*case)
