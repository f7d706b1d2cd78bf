"""Equity figures: the plain Python reference on hand-checked vectors, and the one-statement SQL against the
reference on fixed and seeded random vectors (runs on SQLite and, with PASAR_TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

import math
import random

import pytest

from models.base import UmkmStatus
from models.query import dialect
from resolvers.equity import FIGURES, equity_for_vector, equity_reference, equity_sql

REL = 1e-9
ABS = 1e-12


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def assert_same(sql: dict, ref: dict) -> None:
    assert set(sql) == set(ref)
    assert sql["n"] == ref["n"]
    assert close(sql["total"], ref["total"]), ("total", sql["total"], ref["total"])
    for key in FIGURES:
        assert close(sql[key], ref[key]), (key, sql[key], ref[key])
    if ref["lorenz"] is None:
        assert sql["lorenz"] is None
    else:
        assert len(sql["lorenz"]) == len(ref["lorenz"]) == 11
        for j, (a, b) in enumerate(zip(sql["lorenz"], ref["lorenz"], strict=True)):
            assert close(a, b), ("lorenz", j, a, b)


# ---------------------------------------------------------------- the fixed vectors of docs/FAIRNESS.md


async def test_gini_of_one_seller_among_four():
    ref = equity_reference([0, 0, 0, 1])
    assert ref["gini"] == pytest.approx(0.75, abs=1e-15)
    assert (await equity_for_vector([0, 0, 0, 1]))["gini"] == pytest.approx(0.75, abs=1e-12)


async def test_jain_of_two_sellers_among_four():
    ref = equity_reference([1, 1, 0, 0])
    assert ref["jain"] == pytest.approx(0.5, abs=1e-15)
    assert (await equity_for_vector([1, 1, 0, 0]))["jain"] == pytest.approx(0.5, abs=1e-12)


async def test_theil_of_one_seller_among_four():
    ref = equity_reference([0, 0, 0, 4])
    assert ref["theil"] == pytest.approx(math.log(4), abs=1e-15)
    assert (await equity_for_vector([0, 0, 0, 4]))["theil"] == pytest.approx(math.log(4), abs=1e-12)


# ---------------------------------------------------------------- the reference, figure by figure, by hand


def test_reference_by_hand_one_seller_among_four():
    r = equity_reference([0, 0, 0, 1], purchases=2)
    assert r["n"] == 4 and r["total"] == 1
    assert r["jain"] == pytest.approx(0.25)
    assert r["zero_share"] == 0.75
    assert r["top10_share"] == 1.0  # ceil(4/10) = 1 member
    assert r["coverage_efficiency"] == pytest.approx(0.25 / 0.5)  # 2 purchases could reach at most half
    assert r["unmet_fair_share"] == pytest.approx(0.75)  # three members miss their 1/4
    # poorest 80% = 3.2 members: the 3 zeros and 0.2 of the seller's 1
    assert r["lorenz"] == pytest.approx([0, 0, 0, 0, 0, 0, 0, 0, 0.2, 0.6, 1.0])


def test_reference_top_ten_percent_rule():
    # k = ceil(n/10): n = 10 → 1 member, n = 11 → 2 members, n = 20 → 2, n = 21 → 3
    for n, k in ((1, 1), (10, 1), (11, 2), (20, 2), (21, 3)):
        x = list(range(1, n + 1))
        assert equity_reference(x)["top10_share"] == pytest.approx(sum(x[n - k :]) / sum(x)), n


def test_reference_lorenz_interpolation():
    # n = 3, x = 1, 2, 3 (S = 6): points (0,0), (1/3, 1/6), (2/3, 1/2), (1, 1), linear in between
    r = equity_reference([3, 1, 2])
    expected = []
    for j in range(11):
        p = j / 10
        if p <= 1 / 3:
            expected.append(p * 3 * 1 / 6)
        elif p <= 2 / 3:
            expected.append((1 + (p * 3 - 1) * 2) / 6)
        else:
            expected.append((3 + (p * 3 - 2) * 3) / 6)
    assert r["lorenz"] == pytest.approx(expected, abs=1e-15)


def test_reference_single_member_and_equal_values():
    for x in ([7], [5, 5, 5, 5], [1e12] * 9):
        r = equity_reference(x)
        assert r["gini"] == pytest.approx(0, abs=1e-12)
        assert r["jain"] == pytest.approx(1)
        assert r["theil"] == pytest.approx(0, abs=1e-12)
        assert r["unmet_fair_share"] == pytest.approx(0, abs=1e-12)
        assert r["lorenz"] == pytest.approx([j / 10 for j in range(11)])


def test_reference_against_independent_formulas():
    rng = random.Random(7)
    for _ in range(50):
        n = rng.randint(1, 40)
        x = [rng.choice([0, 0, rng.paretovariate(1.2) * 1e6]) for _ in range(n)]
        if not any(x):
            continue
        r = equity_reference(x)
        s, mu = sum(x), sum(x) / n
        mad_gini = sum(abs(a - b) for a in x for b in x) / (2 * n * n * mu)
        assert r["gini"] == pytest.approx(mad_gini, rel=1e-9, abs=1e-12)
        theil = sum(v / s * math.log(v / s) for v in x if v > 0) + math.log(n)  # ln n − entropy of shares
        assert r["theil"] == pytest.approx(theil, rel=1e-9, abs=1e-12)
        assert r["unmet_fair_share"] == pytest.approx(sum(abs(v - mu) for v in x) / (2 * s), rel=1e-9, abs=1e-12)


def test_reference_no_sales_and_no_members():
    r = equity_reference([0, 0, 0], purchases=5)
    assert r["n"] == 3 and r["total"] == 0
    for key in ("gini", "jain", "theil", "top10_share", "unmet_fair_share", "lorenz"):
        assert r[key] is None, key
    assert r["zero_share"] == 1.0 and r["coverage_efficiency"] == 0.0
    assert equity_reference([0, 0], fair=[1, 3])["unmet_fair_share"] == 1.0  # every fair share unmet
    e = equity_reference([], purchases=3)
    assert e["n"] == 0 and all(e[k] is None for k in (*FIGURES, "lorenz"))
    assert equity_reference([1, 2], purchases=None)["coverage_efficiency"] is None
    assert equity_reference([1, 2], purchases=0)["coverage_efficiency"] is None
    with pytest.raises(ValueError):
        equity_reference([1, -1])


# ---------------------------------------------------------------- SQL equals the reference


def _vectors() -> list[tuple[str, list[float], list[float] | None, int | None]]:
    rng = random.Random(20240501)
    cases: list[tuple[str, list[float], list[float] | None, int | None]] = [
        ("gini-fixed", [0, 0, 0, 1], None, 2),
        ("jain-fixed", [1, 1, 0, 0], None, 4),
        ("theil-fixed", [0, 0, 0, 4], None, None),
        ("empty", [], None, 3),
        ("all zeros", [0] * 6, None, 10),
        ("all zeros, fair", [0] * 4, [1, 2, 3, 4], None),
        ("single member", [42_000], None, 1),
        ("single zero", [0], None, 1),
        ("ties", [5, 5, 5, 5], None, 2),
        ("ties and zeros", [0, 3, 3, 0, 3, 7, 7, 0], None, 3),
        ("n = 10", list(range(10)), None, 20),
        ("n = 11", list(range(11)), None, 5),
        ("n = 21", [float(i % 4) for i in range(21)], None, 21),
        ("big rupiah", [rng.randint(0, 10**12) for _ in range(37)], None, 12),
        ("big rupiah, one giant", [1e12] + [rng.randint(0, 10**6) for _ in range(60)], None, 30),
        ("all 1e12", [1e12] * 13, None, 13),
        ("fractions", [0.1, 0.2, 0.3, 1 / 3, 2 / 3], None, 2),
    ]
    for k in range(10):
        n = rng.randint(1, 300)
        zero_p = rng.random()
        x = [
            0 if rng.random() < zero_p else round(rng.paretovariate(1.16) * 25_000 * rng.randint(1, 60))
            for _ in range(n)
        ]
        fair = [rng.uniform(0, 2e6) for _ in range(n)] if k % 3 == 0 else None
        purchases = rng.choice([None, 0, rng.randint(1, 2 * n)])
        cases.append((f"seeded {k} (n={n})", x, fair, purchases))
    return cases


VECTORS = _vectors()


@pytest.mark.parametrize(("x", "fair", "purchases"), [c[1:] for c in VECTORS], ids=[c[0] for c in VECTORS])
async def test_sql_equals_reference(x, fair, purchases):
    ref = equity_reference(x, fair, purchases)
    sql = await equity_for_vector(x, fair, purchases)
    assert_same(sql, ref)
    if ref["lorenz"] is not None:
        assert sql["lorenz"][0] == 0
        assert sql["lorenz"][-1] == pytest.approx(1, rel=1e-12)
        assert all(a <= b + 1e-12 for a, b in zip(sql["lorenz"], sql["lorenz"][1:], strict=False))


async def test_sql_no_sales_gives_nulls_not_errors():
    r = await equity_for_vector([0, 0, 0], purchases=5)
    assert r["total"] == 0 and r["zero_share"] == 1.0 and r["coverage_efficiency"] == 0.0
    for key in ("gini", "jain", "theil", "top10_share", "unmet_fair_share", "lorenz"):
        assert r[key] is None, key


async def test_sql_over_tables(world):
    """A realistic sub-select: value per verified UMKM from its batik products, zeros included via LEFT JOIN."""
    await world.umkm_for(world.users["other_owner"], "Belum Jualan")  # verified, nothing listed: a zero
    values_sql = (
        "SELECT u.id AS umkm_id, COALESCE(SUM(p.price), 0) AS x FROM umkm u "
        "LEFT JOIN product p ON p.umkm_id = u.id AND p.category_id = ? "
        "WHERE u.status = ? GROUP BY u.id"
    )
    r = await equity_sql(values_sql, [world.batik.id, UmkmStatus.VERIFIED.value], purchases=4)
    assert_same(r, equity_reference([150_000, 200_000, 0], purchases=4))
    with_fair = (
        "SELECT COALESCE(SUM(p.price), 0) AS x, 100000 AS f FROM umkm u "
        "LEFT JOIN product p ON p.umkm_id = u.id WHERE u.status = ? GROUP BY u.id"
    )
    r = await equity_sql(with_fair, [UmkmStatus.VERIFIED.value], with_fair=True)
    assert_same(r, equity_reference([150_000, 200_000, 0], fair=[100_000] * 3))


async def test_sql_without_sqlite_math_functions():
    """An SQLite built without LN(): the fallback gives the connection a Python LN with the same results."""
    if dialect() != "sqlite":
        pytest.skip("SQLite only")
    from resolvers.equity import _register_sqlite_math

    await _register_sqlite_math()
    x = [0, 0, 0, 4, 1, 9, 250_000]
    assert_same(await equity_for_vector(x), equity_reference(x))
