"""Equity figures (docs/FAIRNESS.md, "Equity figures"): a plain Python reference and the same figures in one SQL
statement.

Input: one value x_i >= 0 per member of the eligible set (zeros included), optionally a fair share F_i per member.
Output (both implementations, same keys):

- ``n``: members; ``total``: S = Σx.
- ``gini``: 2Σ i·x_(i)/(nS) − (n+1)/n, x sorted ascending, i from 1.
- ``jain``: S²/(nΣx²).
- ``theil``: (1/n)Σ(x_i/μ)ln(x_i/μ), μ = S/n, with 0·ln 0 = 0.
- ``zero_share``: share of members with x_i == 0.
- ``top10_share``: share of S held by the k = ceil(n/10) largest values (n = 1…10 → the single largest value;
  ties do not matter, tied values are equal).
- ``coverage_efficiency``: (1 − zero_share) / min(1, purchases/n); purchases = purchases (orders) in the period.
- ``unmet_fair_share``: Σmax(0, F_i − x_i)/ΣF_i; without fair shares F_i = S/n (then it is the Hoover index).
- ``lorenz``: 11 points, the share of S held by the poorest 0%, 10%, …, 100% of members. Interpolation: the
  piecewise-linear Lorenz curve through (i/n, C_i/S), C_i the sum of the i smallest values (C_0 = 0). For
  p = j/10 let t = j·n/10 and i = ceil(t); then L(p) = (C_(i−1) + (t − (i−1))·x_(i)) / S, and L(0) = 0.

A figure is None exactly when its denominator is zero: n == 0 makes every figure None; S == 0 (no sales) makes
gini, jain, theil, top10_share, lorenz and the equal-share unmet_fair_share None, while zero_share (= 1) stays
defined, as do coverage_efficiency (0 when purchases > 0) and an unmet_fair_share against explicit fair shares
with ΣF > 0. coverage_efficiency is None when purchases is None or 0.
"""

from __future__ import annotations

import math
from typing import Any

from tortoise import connections

from models.query import dialect, fetch_all

DECILES = range(11)
FIGURES = ("gini", "jain", "theil", "zero_share", "top10_share", "coverage_efficiency", "unmet_fair_share")


def _coverage(zero_share: float | None, n: int, purchases: int | None) -> float | None:
    if zero_share is None or purchases is None or purchases <= 0 or n == 0:
        return None
    return (1.0 - zero_share) / min(1.0, purchases / n)


def _empty(n: int = 0, total: float = 0.0) -> dict[str, Any]:
    return {"n": n, "total": total, **dict.fromkeys(FIGURES), "lorenz": None}


def equity_reference(x: list[float], fair: list[float] | None = None, purchases: int | None = None) -> dict:
    """The equity figures in plain Python (the reference the SQL is checked against)."""
    n = len(x)
    if fair is not None and len(fair) != n:
        raise ValueError("fair must have one share per member")
    if any(v < 0 for v in x):
        raise ValueError("values must be non-negative")
    if n == 0:
        return _empty()
    xs = sorted(float(v) for v in x)
    s = math.fsum(xs)
    out = _empty(n, s)
    zero_share = sum(1 for v in xs if v == 0) / n
    out["zero_share"] = zero_share
    out["coverage_efficiency"] = _coverage(zero_share, n, purchases)
    if fair is not None:
        sf = math.fsum(float(f) for f in fair)
        unmet = math.fsum(max(0.0, float(f) - float(v)) for f, v in zip(fair, x, strict=True))
        out["unmet_fair_share"] = unmet / sf if sf > 0 else None
    if s <= 0:
        return out
    mu = s / n
    if fair is None:
        out["unmet_fair_share"] = math.fsum(max(0.0, mu - v) for v in xs) / s
    out["gini"] = 2 * math.fsum(i * v for i, v in enumerate(xs, start=1)) / (n * s) - (n + 1) / n
    out["jain"] = s * s / (n * math.fsum(v * v for v in xs))
    out["theil"] = math.fsum((v / mu) * math.log(v / mu) for v in xs if v > 0) / n
    k = -(-n // 10)  # ceil(n/10)
    out["top10_share"] = math.fsum(xs[n - k :]) / s
    cum = [0.0]
    for v in xs:
        cum.append(cum[-1] + v)
    lorenz = []
    for j in DECILES:
        i = -(-j * n // 10)  # ceil(j·n/10): the member whose segment holds t = j·n/10
        lorenz.append(0.0 if i == 0 else (cum[i - 1] + (j * n / 10 - (i - 1)) * xs[i - 1]) / s)
    out["lorenz"] = lorenz
    return out


def _sql(values_sql: str, with_fair: bool) -> str:
    """The one statement over the caller's sub-select (one row per member: `x`, and `f` when `with_fair`)."""
    f_col = ", CAST(src.f AS DOUBLE PRECISION) AS f" if with_fair else ""
    f_aggs = (
        ", SUM(f) AS sf, SUM(CASE WHEN f > x THEN f - x ELSE 0 END) AS unmet"
        if with_fair
        else ", SUM(CASE WHEN mu > x THEN mu - x ELSE 0 END) AS unmet"
    )
    unmet = "unmet / NULLIF(sf, 0)" if with_fair else "CASE WHEN s > 0 THEN unmet / s END"  # ΣF = S with equal shares
    # Lorenz point j: the row i with 10(i−1) < j·n <= 10i contributes C_(i−1) + (j·n/10 − (i−1))·x_(i); none for j = 0
    deciles = ", ".join(
        f"SUM(CASE WHEN 10 * (rn - 1) < {j} * cnt AND {j} * cnt <= 10 * rn "
        f"THEN cprev + (CAST({j} * cnt AS DOUBLE PRECISION) / 10 - (rn - 1)) * x END) AS c{j}"
        for j in DECILES
    )
    lorenz = ", ".join(f"CASE WHEN s > 0 THEN COALESCE(c{j}, 0) / s END AS l{j}" for j in DECILES)
    return f"""
WITH v AS (
    SELECT CAST(src.x AS DOUBLE PRECISION) AS x{f_col} FROM ({values_sql}) AS src
), w AS (
    SELECT v.*,
        ROW_NUMBER() OVER (ORDER BY x) AS rn,
        COUNT(*) OVER () AS cnt,
        SUM(x) OVER () / COUNT(*) OVER () AS mu,
        COALESCE(SUM(x) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS cprev
    FROM v
), a AS (
    SELECT COUNT(*) AS n,
        CAST(COUNT(*) AS DOUBLE PRECISION) AS nf,
        COALESCE(SUM(x), 0) AS s,
        SUM(x * x) AS s2,
        SUM(rn * x) AS srx,
        SUM(CASE WHEN x = 0 THEN 1 ELSE 0 END) AS zeros,
        SUM(CASE WHEN x > 0 THEN (x / mu) * LN(x / mu) ELSE 0 END) AS th,
        SUM(CASE WHEN rn > cnt - (cnt + 9) / 10 THEN x ELSE 0 END) AS top{f_aggs},
        {deciles}
    FROM w
)
SELECT n, s AS total,
    CASE WHEN s > 0 THEN 2 * srx / (nf * s) - (nf + 1) / nf END AS gini,
    CASE WHEN s > 0 THEN s * s / (nf * s2) END AS jain,
    CASE WHEN s > 0 THEN th / nf END AS theil,
    CASE WHEN n > 0 THEN zeros / nf END AS zero_share,
    CASE WHEN s > 0 THEN top / s END AS top10_share,
    {unmet} AS unmet_fair_share,
    {lorenz}
FROM a
"""


async def _register_sqlite_math() -> None:
    """SQLite built without math functions: give the connection LN() from Python (results are the same)."""

    def ln(v: float | None) -> float | None:
        return math.log(v) if v is not None and v > 0 else None

    async with connections.get("default").acquire_connection() as conn:
        await conn.create_function("ln", 1, ln, deterministic=True)


async def equity_sql(values_sql: str, params: list, purchases: int | None = None, *, with_fair: bool = False) -> dict:
    """The equity figures in one SQL statement (window functions) on SQLite or PostgreSQL.

    `values_sql` is a sub-select with `?` placeholders (bound from `params`) yielding one row per member with a
    numeric column `x` (zeros included) and, when `with_fair`, a non-null fair share `f`; without it F_i = S/n.
    `purchases` (orders in the period) only feeds coverage_efficiency. Same dict as `equity_reference`.
    """
    sql = _sql(values_sql, with_fair)
    try:
        rows = await fetch_all(sql, list(params))
    except Exception as exc:
        if dialect() != "sqlite" or "no such function" not in str(exc).lower():
            raise
        await _register_sqlite_math()
        rows = await fetch_all(sql, list(params))
    r = rows[0]
    n = int(r["n"])
    if n == 0:
        return _empty()
    out = _empty(n, float(r["total"]))
    for key in ("gini", "jain", "theil", "zero_share", "top10_share", "unmet_fair_share"):
        out[key] = None if r[key] is None else float(r[key])
    out["coverage_efficiency"] = _coverage(out["zero_share"], n, purchases)
    if r["l0"] is not None:
        out["lorenz"] = [float(r[f"l{j}"]) for j in DECILES]
    return out


async def equity_for_vector(x: list[float], fair: list[float] | None = None, purchases: int | None = None) -> dict:
    """`equity_sql` over a parameterised VALUES list holding `x` (and `fair`): compares SQL with the reference."""
    if fair is not None and len(fair) != len(x):
        raise ValueError("fair must have one share per member")
    with_fair = fair is not None
    if not x:
        cols = "CAST(NULL AS DOUBLE PRECISION) AS x" + (", CAST(NULL AS DOUBLE PRECISION) AS f" if with_fair else "")
        return await equity_sql(f"SELECT {cols} WHERE 1 = 0", [], purchases, with_fair=with_fair)
    one = "CAST(? AS DOUBLE PRECISION)"
    row = f"({one}, {one})" if with_fair else f"({one})"
    cols = "column1 AS x, column2 AS f" if with_fair else "column1 AS x"
    params: list[float] = []
    for i, v in enumerate(x):
        params.append(float(v))
        if with_fair:
            params.append(float(fair[i]))
    values_sql = f"SELECT {cols} FROM (VALUES {', '.join([row] * len(x))}) AS t"
    return await equity_sql(values_sql, params, purchases, with_fair=with_fair)
