"""Who sells and who never does: equity figures, sales rankings, OPD spending (read-only aggregates in SQL).

What each caller may see follows resolvers/privacy.py (docs/PRIVACY.md): personal orders count in the figures over a
chosen period for admins only, staff purchases per OPD need five distinct employees, and the sales ranking lists
VERIFIED UMKM only except to admins and analysts.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from models.base import JAKARTA, Scale, UmkmStatus
from models.orders import COUNTED_SQL, OrderKind
from models.query import as_datetime, fetch_all, int_list, sql_time
from models.registry import Category, Opd, Umkm
from resolvers import privacy, ranking
from resolvers.categories import category_roots, category_subtree
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


def population_sql(cats: list[int]) -> str:
    """The UMKM a period's equity figures are over (parameters: the period's start and end instants, twice, then the
    sales sub-select's two): those that sold in it, and those that were sellers during it — verified before its end
    and not out of VERIFIED before its start (VERIFIED now, or a status change at or after the start), of a scale
    other than BESAR, with a product in the category listed during it (created before the end, and active now or
    changed — archived — at or after the start)."""
    return f"""SELECT u."id" AS umkm_id, u."verified_at" AS verified_at FROM "umkm" u
        WHERE u."scale" <> '{Scale.BESAR.value}' AND u."verified_at" IS NOT NULL AND u."verified_at" < ?
          AND (u."status" = '{UmkmStatus.VERIFIED.value}' OR EXISTS (
                SELECT 1 FROM "umkm_status_change" sc WHERE sc."umkm_id" = u."id" AND sc."created_at" >= ?))
          AND EXISTS (SELECT 1 FROM "product" p WHERE p."umkm_id" = u."id" AND p."category_id" IN ({int_list(cats)})
                      AND p."created_at" < ? AND (p."active" OR p."updated_at" >= ?))"""


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


async def equity_by_category(ctx: Ctx, start: dt.date, end: dt.date) -> list[tuple[Category, EquityReport]]:
    """`equity_report` for every top-level category (by name): the city's overview in one call.

    The same members, sales and figures as `equity_report`, read differently: the period's order lines are read
    once for all categories (one statement grouped by top-level category and UMKM, instead of three per category),
    and each category's figures come from its per-UMKM sums by `equity_reference`, the definition the SQL of
    `equity_sql` is tested against. On the `S` data set this is what keeps the dashboard's first view short."""
    lo, hi = day_bounds(start, end)
    tops = await Category.filter(parent_id=None).order_by("name", "id")
    roots = await category_roots()
    if not tops:
        return []
    root_of = " ".join(f"WHEN {int(c)} THEN {int(r)}" for c, r in roots.items())
    rows = await fetch_all(
        f"""SELECT CASE i."category_id" {root_of} END AS root, o."umkm_id" AS umkm_id,
                   SUM(i."subtotal") AS amount, COUNT(DISTINCT o."id") AS orders
            FROM "order_item" i JOIN "order" o ON o."id" = i."order_id"
            WHERE o."status" IN ({COUNTED_SQL}) AND o."delivered_at" >= ? AND o."delivered_at" < ?{_kinds_sql(ctx)}
            GROUP BY CASE i."category_id" {root_of} END, o."umkm_id\"""",
        [sql_time(lo), sql_time(hi)],
    )
    sales: dict[int, dict[int, int]] = {}
    purchases: dict[int, int] = {}
    actor = await actors_of()  # members and sales per business actor (a cluster), not per UMKM row
    for r in rows:
        by = sales.setdefault(r["root"], {})
        a = actor.get(r["umkm_id"], r["umkm_id"])
        by[a] = by.get(a, 0) + int(r["amount"])
        purchases[r["root"]] = purchases.get(r["root"], 0) + int(r["orders"])  # an order has one seller
    # The population of the period per category (`population_sql`, one statement each) plus whoever sold in it;
    # their need weights once for all (a weight belongs to the UMKM, not to the category).
    period = [sql_time(hi), sql_time(lo), sql_time(hi), sql_time(lo)]
    members: dict[int, set[int]] = {}
    verified: dict[int, object] = {}
    for c in tops:
        population = await fetch_all(population_sql([k for k, r in roots.items() if r == c.id]), period)
        verified.update((r["umkm_id"], r["verified_at"]) for r in population)
        members[c.id] = {r["umkm_id"] for r in population} | set(sales.get(c.id, {}))
    unseen = sorted({u for m in members.values() for u in m} - set(verified))
    if unseen:
        for u in await Umkm.filter(id__in=unseen).values("id", "verified_at"):
            verified[u["id"]] = u["verified_at"]
    each = await _weights([{"umkm_id": u, "verified_at": v} for u, v in sorted(verified.items())], _weighed_at(ctx, hi))
    out = []
    for c in tops:
        sold = sales.get(c.id, {})
        weights = _actor_weights([{"umkm_id": u, "actor": actor.get(u, u)} for u in members[c.id]], each)
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


async def umkm_sales_ranking(
    ctx: Ctx, category_id: int, start: dt.date, end: dt.date, most: bool
) -> list[SalesRankRow]:
    """MOST: who the OPD buy from often (by rupiah); LEAST: who sold least or never (never-sellers first,
    longest-verified first)."""
    cats = await _cats(category_id)
    lo, hi = day_bounds(start, end)
    sales = f"""SELECT o."umkm_id" AS umkm_id, SUM(i."subtotal") AS amount, COUNT(DISTINCT o."id") AS orders,
                       COUNT(DISTINCT o."opd_id") AS opds
                FROM "order_item" i JOIN "order" o ON o."id" = i."order_id"
                WHERE i."category_id" IN ({int_list(cats)}) AND o."status" IN ({COUNTED_SQL})
                  AND o."delivered_at" >= ? AND o."delivered_at" < ?{_kinds_sql(ctx)}
                GROUP BY o."umkm_id\""""
    shown = "" if privacy.sees_every_umkm(ctx.principal) else f"""WHERE u."status" = '{UmkmStatus.VERIFIED.value}'"""
    if most:
        rows = await fetch_all(
            f"""SELECT s.umkm_id, s.amount, s.orders, s.opds, u."verified_at" AS verified_at
                FROM ({sales}) s JOIN "umkm" u ON u."id" = s.umkm_id {shown}
                ORDER BY s.amount DESC, s.umkm_id""",
            [sql_time(lo), sql_time(hi)],
        )
    else:
        rows = await fetch_all(
            f"""SELECT u."id" AS umkm_id, COALESCE(s.amount, 0) AS amount, COALESCE(s.orders, 0) AS orders,
                       COALESCE(s.opds, 0) AS opds, u."verified_at" AS verified_at
                FROM "umkm" u LEFT JOIN ({sales}) s ON s.umkm_id = u."id"
                WHERE u."status" = 'VERIFIED' AND u."id" IN (
                    SELECT DISTINCT p."umkm_id" FROM "product" p
                    WHERE p."category_id" IN ({int_list(cats)}) AND p."active")
                ORDER BY COALESCE(s.amount, 0), u."verified_at", u."id\"""",
            [sql_time(lo), sql_time(hi)],
        )
    now = ctx.clock.now()
    out = []
    for r in rows:
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
    return out


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
    # median days to pay per OPD, by window functions over paid OPD orders
    days = await fetch_all(
        f"""WITH d AS (
                SELECT o."opd_id" AS opd_id, p."paid_on" AS paid_on, o."delivered_at" AS delivered_at
                FROM "order" o JOIN "payment" p ON p."order_id" = o."id"
                WHERE o."kind" = '{OrderKind.OPD.value}' AND o."delivered_at" >= ? AND o."delivered_at" < ?
            )
            SELECT opd_id, paid_on, delivered_at FROM d""",
        params,
    )
    per_days: dict[int, list[int]] = {}
    for r in days:
        delivered = as_datetime(r["delivered_at"]).astimezone(JAKARTA).date()
        paid = r["paid_on"] if isinstance(r["paid_on"], dt.date) else dt.date.fromisoformat(str(r["paid_on"])[:10])
        per_days.setdefault(r["opd_id"], []).append((paid - delivered).days)
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
        d = per_days.get(opd.id)
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
                median_days_to_pay=float(statistics.median(d)) if d else None,
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
