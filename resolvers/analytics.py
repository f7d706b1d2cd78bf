"""Who sells and who never does: equity figures, sales rankings, OPD spending (read-only aggregates in SQL).

What each caller may see follows resolvers/privacy.py (docs/PRIVACY.md): personal orders count in the figures over a
chosen period for admins only, staff purchases per OPD need five distinct employees, and the sales ranking lists
VERIFIED UMKM only except to admins and analysts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models.base import JAKARTA, Scale, UmkmStatus
from models.orders import COUNTED_SQL, OrderKind
from models.query import as_datetime, days_since_jakarta_day_sql, fetch_all, int_list, sql_time
from models.registry import Category, Opd, Umkm
from resolvers import privacy, ranking
from resolvers.categories import categories_with_roots, category_roots, category_subtree
from resolvers.common import Ctx, DomainError
from resolvers.equity import equity_reference, equity_sql
from resolvers.fairness_policy import active_fraction, need

SMALL_BUSINESS_SHARE = 0.40  # Perpres 12/2021 art. 65


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00 WIB, end+1 00:00 WIB) in UTC."""
    if end < start:
        raise DomainError("INVALID_RANGE", "`from` is after `to`.", "from")
    lo = dt.datetime.combine(start, dt.time(), JAKARTA).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), JAKARTA).astimezone(dt.UTC)
    return lo, hi


async def _cats(category_id: int) -> list[int]:
    cats = await category_subtree(category_id)
    if not cats:
        raise DomainError("NOT_FOUND", "No such category.", "categoryId")
    return cats


def _kinds_sql(ctx: Ctx) -> str:
    """The order kinds a figure over a chosen period counts for the caller: personal orders for admins only."""
    if privacy.counts_personal_orders(ctx.principal):
        return ""
    return f""" AND o."kind" = '{OrderKind.OPD.value}'"""


def _sales_sql(cats: list[int], kinds: str = "") -> str:
    """Counted sales per UMKM in the categories between two instants (two `?`); `kinds` from `_kinds_sql`."""
    return f"""SELECT o."umkm_id" AS umkm_id, SUM(i."subtotal") AS amount, COUNT(DISTINCT o."id") AS orders
               FROM "order_item" i JOIN "order" o ON o."id" = i."order_id"
               WHERE i."category_id" IN ({int_list(cats)}) AND o."status" IN ({COUNTED_SQL})
                 AND o."delivered_at" >= ? AND o."delivered_at" < ?{kinds}
               GROUP BY o."umkm_id\""""


def _actor_sales_sql(cats: list[int], kinds: str = "") -> str:
    """`_sales_sql` per business actor (docs/FAIRNESS.md, "One share per business actor"): the sales of a cluster's
    members summed under the cluster's id (its lowest UMKM id), a UMKM of no cluster under its own."""
    return f"""SELECT COALESCE(u."cluster_id", s1.umkm_id) AS umkm_id, SUM(s1.amount) AS amount,
                      SUM(s1.orders) AS orders
               FROM ({_sales_sql(cats, kinds)}) s1 JOIN "umkm" u ON u."id" = s1.umkm_id
               GROUP BY COALESCE(u."cluster_id", s1.umkm_id)"""


async def actors_of(umkm_ids: set[int] | None = None) -> dict[int, int]:
    """The cluster id of every clustered UMKM (of these, when given); a UMKM not in the map is its own actor."""
    qs = Umkm.filter(cluster_id__isnull=False)
    if umkm_ids is not None:
        qs = qs.filter(id__in=sorted(umkm_ids))
    return dict(await qs.values_list("id", "cluster_id"))


def _actor_weights(members: list[dict], weights: dict[int, float]) -> dict[int, float]:
    """An actor's fair-share weight: the largest of its members' (as the ranking weighs a cluster)."""
    out: dict[int, float] = {}
    for r in members:
        out[r["actor"]] = max(out.get(r["actor"], 0.0), weights.get(r["umkm_id"], 0.0))
    return out


@dataclass
class EquityReport:
    category_id: int
    start: dt.date
    end: dt.date
    members: int
    sellers: int
    purchases: int
    figures: dict


def _seller_during_sql() -> str:
    """Conditions on `u` (an UMKM) for a seller during a period (parameters: its end, its start): verified before its
    end and not out of VERIFIED before its start (VERIFIED now, or a status change at or after the start), of a scale
    other than BESAR. The status history is read as one set (`IN`), not per UMKM: PostgreSQL plans the correlated form
    as a sub-plan per row, whose estimated cost set off its JIT compiler (~0.8 s a statement on `S`)."""
    return f"""u."scale" <> '{Scale.BESAR.value}' AND u."verified_at" IS NOT NULL AND u."verified_at" < ?
          AND (u."status" = '{UmkmStatus.VERIFIED.value}' OR u."id" IN (
                SELECT sc."umkm_id" FROM "umkm_status_change" sc WHERE sc."created_at" >= ?))"""


# Conditions on `p` (a product) listed during a period (parameters: its end, its start): created before the end, and
# active now or changed (archived) at or after the start.
LISTED_DURING_SQL = """p."created_at" < ? AND (p."active" OR p."updated_at" >= ?)"""


def population_sql(cats: list[int]) -> str:
    """The UMKM a period's equity figures are over (parameters: the period's end and start instants, twice): those
    that were sellers during it (`_seller_during_sql`) with a product in the category listed during it
    (`LISTED_DURING_SQL`). `equity_report` adds those that sold in it."""
    return f"""SELECT u."id" AS umkm_id, u."verified_at" AS verified_at FROM "umkm" u
        WHERE {_seller_during_sql()}
          AND EXISTS (SELECT 1 FROM "product" p WHERE p."umkm_id" = u."id" AND p."category_id" IN ({int_list(cats)})
                      AND {LISTED_DURING_SQL})"""


def _weighed_at(ctx: Ctx, hi: dt.datetime) -> dt.datetime:
    """When the fair-share weights of a period are taken: its end, or for a period that has not ended, the list
    moment of today (noon Asia/Jakarta) — the same figures all day, as the list, whenever they are asked."""
    return min(hi, ranking.list_moment(ctx.clock.now().astimezone(JAKARTA).date()))


async def _weights(rows: list[dict], end: dt.datetime) -> dict[int, float]:
    """Each member's fair-share weight at the period's end, as the ranking weighs it: a_i(1 + γN_i)."""
    policy = ranking.POLICY
    ids = [r["umkm_id"] for r in rows]
    omzet = await ranking.reported_omzet(ranking.complete_months(end, policy.need_months), ids)
    out = {}
    for r in rows:
        verified = as_datetime(r["verified_at"]) or end
        a = active_fraction((end - verified).total_seconds() / 86_400.0, policy)
        out[r["umkm_id"]] = a * (1 + policy.need_weight * need(ranking.omzet_used(omzet.get(r["umkm_id"]), policy)))
    return out


async def equity_report(ctx: Ctx, category_id: int, start: dt.date, end: dt.date) -> EquityReport:
    """Equity over the category's population of the period (`population_sql`) plus any UMKM that sold in it, zeros
    included; unmet fair share against need-weighted fair shares F_i = S × w_i / Σw."""
    cats = await _cats(category_id)
    lo, hi = day_bounds(start, end)
    sales = _actor_sales_sql(cats, _kinds_sql(ctx))  # members and sales are business actors, not UMKM rows
    period = [sql_time(hi), sql_time(lo), sql_time(hi), sql_time(lo)]
    members = await fetch_all(
        f"""SELECT m.umkm_id AS umkm_id, COALESCE(u."cluster_id", u."id") AS actor, u."verified_at" AS verified_at
            FROM (SELECT umkm_id FROM ({population_sql(cats)}) p0 UNION SELECT umkm_id FROM ({sales}) s0) m
            JOIN "umkm" u ON u."id" = m.umkm_id""",
        [*period, sql_time(lo), sql_time(hi)],
    )
    weights = _actor_weights(members, await _weights(members, _weighed_at(ctx, hi)))
    total_w = sum(weights.values())
    # the weights inline as literals (our own floats, never input): one VALUES row per member
    rows = ", ".join(f"({int(u)}, {w / total_w if total_w > 0 else 0.0!r})" for u, w in sorted(weights.items()))
    total = f"(SELECT COALESCE(SUM(amount), 0) FROM ({sales}) s2)"
    values = f"""SELECT COALESCE(s.amount, 0) AS x, wt.column2 * {total} AS f
                 FROM (VALUES {rows or "(0, 0.0)"}) wt
                 LEFT JOIN ({sales}) s ON s.umkm_id = wt.column1
                 WHERE wt.column1 <> 0"""
    counts = await fetch_all(
        f"SELECT COUNT(*) AS sellers, COALESCE(SUM(orders), 0) AS purchases FROM ({sales}) s",
        [sql_time(lo), sql_time(hi)],
    )
    purchases = int(counts[0]["purchases"] or 0)
    figures = await equity_sql(values, [sql_time(lo), sql_time(hi)] * 2, purchases=purchases, with_fair=True)
    return EquityReport(
        category_id=category_id,
        start=start,
        end=end,
        members=int(figures["n"]),
        sellers=int(counts[0]["sellers"]),
        purchases=purchases,
        figures=figures,
    )


def root_case_sql(roots: dict[int, int], column: str) -> str:
    """SQL for the top-level ancestor of the category in `column` (NULL for a category not in `roots`)."""
    whens = " ".join(f"WHEN {int(c)} THEN {int(r)}" for c, r in sorted(roots.items()))
    return f"CASE {column} {whens} END" if whens else "NULL"


def members_by_root_sql(roots: dict[int, int], kinds: str) -> str:
    """Every top-level category's equity members over a period with their counted sales, in one statement: per
    (top-level category, UMKM) the UMKM's `verified_at`, `amount` and `orders` (0 for members without sales).
    Members are the period's population of the category (`_seller_during_sql` with a product of the category or
    its descendants `LISTED_DURING_SQL`) plus every UMKM that sold in it. Parameters: the period's start and end
    (the sales), then its end, start, end, start (the population). An order's lines are summed per order first, so
    that `orders` is a plain count (an order has one seller) and both groupings are hash aggregates."""
    line_root, product_root = root_case_sql(roots, 'i."category_id"'), root_case_sql(roots, 'p."category_id"')
    return f"""WITH s AS (
            SELECT root, umkm_id, SUM(amount) AS amount, COUNT(*) AS orders FROM (
                SELECT {line_root} AS root, o."umkm_id" AS umkm_id, o."id" AS order_id, SUM(i."subtotal") AS amount
                FROM "order_item" i JOIN "order" o ON o."id" = i."order_id"
                WHERE o."status" IN ({COUNTED_SQL}) AND o."delivered_at" >= ? AND o."delivered_at" < ?{kinds}
                GROUP BY {line_root}, o."umkm_id", o."id") per_order
            GROUP BY root, umkm_id
        ), pop AS (
            SELECT DISTINCT {product_root} AS root, u."id" AS umkm_id
            FROM "umkm" u JOIN "product" p ON p."umkm_id" = u."id"
            WHERE {_seller_during_sql()} AND {LISTED_DURING_SQL}
        )
        SELECT m.root AS root, m.umkm_id AS umkm_id, u."verified_at" AS verified_at,
               COALESCE(s.amount, 0) AS amount, COALESCE(s.orders, 0) AS orders
        FROM (SELECT root, umkm_id FROM pop UNION SELECT root, umkm_id FROM s) m
        JOIN "umkm" u ON u."id" = m.umkm_id
        LEFT JOIN s ON s.root = m.root AND s.umkm_id = m.umkm_id
        WHERE m.root IS NOT NULL"""


async def equity_by_category(ctx: Ctx, start: dt.date, end: dt.date) -> list[tuple[Category, EquityReport]]:
    """`equity_report` for every top-level category (by name): the city's overview in one call.

    The same members, sales and figures as `equity_report`, read differently: four statements whatever the number
    of categories and UMKM — the category tree; every category's members with their sales (`members_by_root_sql`);
    the business actors (clusters) they belong to; the members' reported omzet (their need weights, once for all: a
    weight belongs to the UMKM, not the category). Each category's figures come from its per-actor sums by
    `equity_reference`, the definition the SQL of `equity_sql` is tested against."""
    lo, hi = day_bounds(start, end)
    categories, roots = await categories_with_roots()
    tops = [c for c in categories if c.parent_id is None]
    if not tops:
        return []
    rows = await fetch_all(
        members_by_root_sql(roots, _kinds_sql(ctx)),
        [sql_time(lo), sql_time(hi), sql_time(hi), sql_time(lo), sql_time(hi), sql_time(lo)],
    )
    sales: dict[int, dict[int, int]] = {}
    purchases: dict[int, int] = {}
    actor = await actors_of()  # sales and fair shares per business actor (a cluster), not per UMKM row
    members: dict[int, set[int]] = {}
    verified: dict[int, object] = {}
    for r in rows:
        root, umkm = r["root"], r["umkm_id"]
        members.setdefault(root, set()).add(umkm)
        verified[umkm] = r["verified_at"]
        orders = int(r["orders"])
        if orders:  # a counted order has lines: sellers are the members with orders
            by = sales.setdefault(root, {})
            a = actor.get(umkm, umkm)
            by[a] = by.get(a, 0) + int(r["amount"])
            purchases[root] = purchases.get(root, 0) + orders
    each = await _weights([{"umkm_id": u, "verified_at": v} for u, v in sorted(verified.items())], _weighed_at(ctx, hi))
    out = []
    for c in tops:
        sold = sales.get(c.id, {})
        weights = _actor_weights([{"umkm_id": u, "actor": actor.get(u, u)} for u in members.get(c.id, ())], each)
        ids = sorted(weights)
        total, total_w = sum(sold.values()), sum(weights.get(u, 0.0) for u in ids)
        fair = [total * weights.get(u, 0.0) / total_w if total_w > 0 else 0.0 for u in ids]
        figures = equity_reference([sold.get(u, 0) for u in ids], fair=fair, purchases=purchases.get(c.id, 0))
        report = EquityReport(c.id, start, end, len(ids), len(sold), purchases.get(c.id, 0), figures)
        out.append((c, report))
    return out


@dataclass
class SalesRankRow:
    umkm_id: int
    amount: int
    orders: int
    opds: int
    days_since_verification: int | None


def _ranking_sql(cats: list[int], kinds: str, shown: str, most: bool) -> str:
    """The ranking with each row's position (`pos`, from 1) and the number of rows (`total`), in one statement that
    returns the rows with `pos` in (?, ?] — or one row of NULLs and the total when none are (a page past the end).
    Parameters: the period's start and end, then the page's bounds."""
    # an order's lines summed per order first: `orders` is then a plain count and the grouping a hash aggregate
    sales = f"""SELECT umkm_id, SUM(amount) AS amount, COUNT(*) AS orders, COUNT(DISTINCT opd_id) AS opds FROM (
                    SELECT o."umkm_id" AS umkm_id, o."id" AS order_id, o."opd_id" AS opd_id, SUM(i."subtotal") AS amount
                    FROM "order_item" i JOIN "order" o ON o."id" = i."order_id"
                    WHERE i."category_id" IN ({int_list(cats)}) AND o."status" IN ({COUNTED_SQL})
                      AND o."delivered_at" >= ? AND o."delivered_at" < ?{kinds}
                    GROUP BY o."umkm_id", o."id", o."opd_id") per_order
                GROUP BY umkm_id"""
    if most:
        ranked = f"""SELECT s.umkm_id AS umkm_id, s.amount AS amount, s.orders AS orders, s.opds AS opds,
                            u."verified_at" AS verified_at, ROW_NUMBER() OVER (ORDER BY s.amount DESC, s.umkm_id) AS pos
                     FROM ({sales}) s JOIN "umkm" u ON u."id" = s.umkm_id {shown}"""
    else:
        ranked = f"""SELECT u."id" AS umkm_id, COALESCE(s.amount, 0) AS amount, COALESCE(s.orders, 0) AS orders,
                            COALESCE(s.opds, 0) AS opds, u."verified_at" AS verified_at,
                            ROW_NUMBER() OVER (ORDER BY COALESCE(s.amount, 0), u."verified_at", u."id") AS pos
                     FROM "umkm" u LEFT JOIN ({sales}) s ON s.umkm_id = u."id"
                     WHERE u."status" = '{UmkmStatus.VERIFIED.value}' AND u."id" IN (
                         SELECT p."umkm_id" FROM "product" p
                         WHERE p."category_id" IN ({int_list(cats)}) AND p."active")"""
    return f"""WITH r AS ({ranked})
        SELECT t.total AS total, page.umkm_id AS umkm_id, page.amount AS amount, page.orders AS orders,
               page.opds AS opds, page.verified_at AS verified_at
        FROM (SELECT COUNT(*) AS total FROM r) t
        LEFT JOIN (SELECT * FROM r WHERE r.pos > ? AND r.pos <= ?) page ON 1 = 1
        ORDER BY page.pos"""


async def sales_ranking_page(
    ctx: Ctx, category_id: int, start: dt.date, end: dt.date, most: bool, offset: int = 0, limit: int | None = None
) -> tuple[list[SalesRankRow], int]:
    """MOST: who the OPD buy from often (by rupiah); LEAST: who sold least or never (never-sellers first,
    longest-verified first). The rows from position `offset` + 1, at most `limit` of them (all without), and how
    many rows the whole ranking has: one statement after the category tree, whatever the page or the category."""
    cats = await _cats(category_id)
    lo, hi = day_bounds(start, end)
    shown = "" if privacy.sees_every_umkm(ctx.principal) else f"""WHERE u."status" = '{UmkmStatus.VERIFIED.value}'"""
    last = offset + limit if limit is not None else 2**62
    rows = await fetch_all(_ranking_sql(cats, _kinds_sql(ctx), shown, most), [sql_time(lo), sql_time(hi), offset, last])
    now = ctx.clock.now()
    out = []
    for r in rows:
        if r["umkm_id"] is None:  # past the end: the total alone
            continue
        v = as_datetime(r["verified_at"])
        out.append(
            SalesRankRow(
                umkm_id=r["umkm_id"],
                amount=int(r["amount"]),
                orders=int(r["orders"]),
                opds=int(r["opds"]),
                days_since_verification=(now - v).days if v else None,
            )
        )
    return out, int(rows[0]["total"]) if rows else 0


async def umkm_sales_ranking(
    ctx: Ctx, category_id: int, start: dt.date, end: dt.date, most: bool
) -> list[SalesRankRow]:
    """The whole ranking (`sales_ranking_page` without a limit): the download's rows."""
    rows, _ = await sales_ranking_page(ctx, category_id, start, end, most)
    return rows


@dataclass
class OpdSpending:
    opd: Opd
    year: int
    spend: int
    orders: int
    umkm_reached: int
    pagu: int | None
    pagu_share: float | None
    meets_small_business_rule: bool | None
    fairness_list_share: float | None
    median_days_to_pay: float | None
    unpaid_delivered: int
    staff_purchases: int | None  # None below privacy.MIN_EMPLOYEES distinct employees
    staff_spend: int | None


async def opd_spending(ctx: Ctx, year: int) -> list[OpdSpending]:
    """Per OPD for a year (by delivery, Asia/Jakarta): spend with UMKM, reach, share of pagu, fairness-list share,
    median days from delivery to payment, staff (personal) purchases."""
    if not 2000 <= year <= 2100:
        raise DomainError("INVALID_YEAR", "The year must be between 2000 and 2100.", "year")
    lo, hi = day_bounds(dt.date(year, 1, 1), dt.date(year, 12, 31))
    params = [sql_time(lo), sql_time(hi)]
    base = f"""FROM "order" o WHERE o."status" IN ({COUNTED_SQL}) AND o."delivered_at" >= ? AND o."delivered_at" < ?"""
    rows = await fetch_all(
        f"""SELECT o."opd_id" AS opd_id,
                   SUM(CASE WHEN o."kind" = '{OrderKind.OPD.value}' THEN o."total" ELSE 0 END) AS spend,
                   SUM(CASE WHEN o."kind" = '{OrderKind.OPD.value}' THEN 1 ELSE 0 END) AS orders,
                   COUNT(DISTINCT CASE WHEN o."kind" = '{OrderKind.OPD.value}' THEN o."umkm_id" END) AS reached,
                   SUM(CASE WHEN o."kind" = '{OrderKind.OPD.value}' AND o."source_rank" IS NOT NULL
                            THEN o."total" ELSE 0 END) AS listed,
                   SUM(CASE WHEN o."kind" = '{OrderKind.PERSONAL.value}' THEN 1 ELSE 0 END) AS staff_orders,
                   SUM(CASE WHEN o."kind" = '{OrderKind.PERSONAL.value}' THEN o."total" ELSE 0 END) AS staff_spend,
                   COUNT(DISTINCT CASE WHEN o."kind" = '{OrderKind.PERSONAL.value}' THEN o."buyer_id" END)
                       AS staff_buyers,
                   SUM(CASE WHEN o."kind" = '{OrderKind.OPD.value}' AND o."paid_at" IS NULL THEN 1 ELSE 0 END) AS unpaid
            {base} GROUP BY o."opd_id\"""",
        params,
    )
    # the median days from delivery (its Asia/Jakarta day) to payment per OPD, over its paid OPD orders: the middle
    # row, or the mean of the two middle rows, of each OPD's days in order (window functions, both engines)
    medians = await fetch_all(
        f"""WITH d AS (
                SELECT o."opd_id" AS opd_id, {days_since_jakarta_day_sql('p."paid_on"', 'o."delivered_at"')} AS days
                FROM "order" o JOIN "payment" p ON p."order_id" = o."id"
                WHERE o."kind" = '{OrderKind.OPD.value}' AND o."delivered_at" >= ? AND o."delivered_at" < ?
            ), r AS (
                SELECT opd_id, days, ROW_NUMBER() OVER (PARTITION BY opd_id ORDER BY days) AS rn,
                       COUNT(*) OVER (PARTITION BY opd_id) AS cnt
                FROM d
            )
            SELECT opd_id, AVG(days) AS median FROM r WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2) GROUP BY opd_id""",
        params,
    )
    median_days = {r["opd_id"]: float(r["median"]) for r in medians}
    budgets = {
        r["opd_id"]: int(r["amount"])
        for r in await fetch_all(
            'SELECT "opd_id" AS opd_id, "amount" AS amount FROM "opd_budget" WHERE "year" = ?', [year]
        )
    }
    by_opd = {r["opd_id"]: r for r in rows}
    out = []
    for opd in await Opd.all().order_by("code"):
        r = by_opd.get(opd.id, {})
        spend = int(r.get("spend") or 0)
        pagu = budgets.get(opd.id)
        share = spend / pagu if pagu else None
        staff = (int(r.get(k) or 0) for k in ("staff_buyers", "staff_orders", "staff_spend"))
        staff_purchases, staff_spend = privacy.staff_figures(ctx.principal, *staff)
        out.append(
            OpdSpending(
                opd=opd,
                year=year,
                spend=spend,
                orders=int(r.get("orders") or 0),
                umkm_reached=int(r.get("reached") or 0),
                pagu=pagu,
                pagu_share=share,
                meets_small_business_rule=None if share is None else share >= SMALL_BUSINESS_SHARE,
                fairness_list_share=(int(r.get("listed") or 0) / spend) if spend else None,
                median_days_to_pay=median_days.get(opd.id),
                unpaid_delivered=int(r.get("unpaid") or 0),
                staff_purchases=staff_purchases,
                staff_spend=staff_spend,
            )
        )
    return out


@dataclass
class PurchaseCategory:
    """What the GraphQL `PurchaseCategory` type reads (`Opd.purchaseCategories` returns these rows)."""

    opd_id: int
    category_id: int
    spend: int
    order_count: int


async def purchase_categories(opd_id: int) -> list[PurchaseCategory]:
    """The top-level categories an OPD has bought in (counted sales), by spend."""
    rows = await fetch_all(
        f"""SELECT i."category_id" AS category_id, SUM(i."subtotal") AS spend, COUNT(DISTINCT o."id") AS orders
            FROM "order_item" i JOIN "order" o ON o."id" = i."order_id"
            WHERE o."opd_id" = ? AND o."kind" = '{OrderKind.OPD.value}' AND o."status" IN ({COUNTED_SQL})
            GROUP BY i."category_id\"""",
        [opd_id],
    )
    roots = await category_roots()
    spend: dict[int, list[int]] = {}
    for r in rows:
        root = roots.get(r["category_id"], r["category_id"])
        acc = spend.setdefault(root, [0, 0])
        acc[0] += int(r["spend"])
        acc[1] += int(r["orders"])
    return [PurchaseCategory(opd_id, c, s, n) for c, (s, n) in sorted(spend.items(), key=lambda kv: (-kv[1][0], kv[0]))]
