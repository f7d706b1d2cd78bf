"""Pemerataan: the under-sold ranking with its reasons, and its maintained statistics (FAIRNESS.md).

The ranking reads maintained tables (decayed sales per UMKM and category, per category), products, UMKM and omzet
reports; never the order tables. Sales reach those tables in `record_sale`, called from the one place where a sale
starts counting (resolvers/sales.py), inside the same transaction.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.base import Scale, UmkmStatus
from models.fairness import CategorySales, UmkmCategorySales
from models.orders import COUNTED_STATUSES, OrderItem
from models.query import fetch_all
from models.registry import Opd
from resolvers.common import Ctx, DomainError
from resolvers.fairness_policy import (
    POLICY,
    Policy,
    active_fraction,
    bucket_of,
    decay_to,
    growth,
    need,
    rotation_key,
)
from resolvers.registry import category_subtree

JAKARTA = ZoneInfo("Asia/Jakarta")


# ---------------------------------------------------------------- maintained statistics


async def record_sale(umkm_id: int, by_category: dict[int, int], at: dt.datetime, sign: int = 1) -> None:
    """Add one order's rupiah per category to the decayed statistics (an upsert that adds, safe when concurrent)."""
    from resolvers.fairness_snapshot import invalidate

    # A sale moves every share in its categories; one that stops counting may also move an old month's omzet floor.
    await invalidate(list(by_category) if sign > 0 else None)
    g = growth(at)
    for category_id, amount in sorted(by_category.items()):
        w = sign * amount * g
        await UmkmCategorySales.bulk_create(
            [UmkmCategorySales(umkm_id=umkm_id, category_id=category_id)], ignore_conflicts=True
        )
        await UmkmCategorySales.filter(umkm_id=umkm_id, category_id=category_id).update(
            weighted=F("weighted") + w, amount=F("amount") + sign * amount, sales=F("sales") + sign
        )
        await CategorySales.bulk_create([CategorySales(category_id=category_id)], ignore_conflicts=True)
        await CategorySales.filter(category_id=category_id).update(
            weighted=F("weighted") + w, amount=F("amount") + sign * amount
        )


async def order_amounts_by_category(order_id: int) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for category_id, subtotal in await OrderItem.filter(order_id=order_id).values_list("category_id", "subtotal"):
        out[category_id] += subtotal
    return dict(out)


@dataclass
class StatsDrift:
    rows_checked: int
    rows_differing: int
    max_relative_error: float
    examples: list[tuple] = field(default_factory=list)


async def recompute_stats() -> tuple[dict[tuple[int, int], tuple[float, int, int]], dict[int, tuple[float, int]]]:
    """The statistics from the order lines (a batch job: streams the counted lines once)."""
    statuses = ", ".join(f"'{s.value}'" for s in COUNTED_STATUSES)
    rows = await fetch_all(
        'SELECT o."umkm_id" AS umkm_id, i."category_id" AS category_id, i."subtotal" AS subtotal, '
        'o."delivered_at" AS delivered_at, o."id" AS order_id '
        'FROM "order_item" i JOIN "order" o ON o."id" = i."order_id" '
        f'WHERE o."status" IN ({statuses}) AND o."delivered_at" IS NOT NULL'
    )
    per: dict[tuple[int, int], list] = defaultdict(lambda: [0.0, 0, set()])
    cat: dict[int, list] = defaultdict(lambda: [0.0, 0])
    for r in rows:
        at = r["delivered_at"]
        if isinstance(at, str):
            at = dt.datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        w = int(r["subtotal"]) * growth(at)
        k = (r["umkm_id"], r["category_id"])
        per[k][0] += w
        per[k][1] += int(r["subtotal"])
        per[k][2].add(r["order_id"])
        cat[r["category_id"]][0] += w
        cat[r["category_id"]][1] += int(r["subtotal"])
    return (
        {k: (v[0], v[1], len(v[2])) for k, v in per.items()},
        {k: (v[0], v[1]) for k, v in cat.items()},
    )


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


async def rebuild_stats(fix: bool = True, tolerance: float = 1e-6) -> StatsDrift:
    """Compare the maintained statistics with the order lines (relative tolerance); with `fix`, replace them."""
    async with in_transaction():
        fresh, fresh_cat = await recompute_stats()
        stored = {(r.umkm_id, r.category_id): (r.weighted, r.amount, r.sales) for r in await UmkmCategorySales.all()}
        stored_cat = {r.category_id: (r.weighted, r.amount) for r in await CategorySales.all()}
        differing, worst = [], 0.0
        for k in sorted(set(fresh) | set(stored)):
            a, b = stored.get(k, (0.0, 0, 0)), fresh.get(k, (0.0, 0, 0))
            err = _rel(a[0], b[0])
            worst = max(worst, err)
            if err > tolerance or a[1:] != b[1:]:
                differing.append(("umkm", *k, a[1], b[1]))
        for k in sorted(set(fresh_cat) | set(stored_cat)):
            a, b = stored_cat.get(k, (0.0, 0)), fresh_cat.get(k, (0.0, 0))
            err = _rel(a[0], b[0])
            worst = max(worst, err)
            if err > tolerance or a[1] != b[1]:
                differing.append(("category", k, a[1], b[1]))
        if fix:
            from resolvers.fairness_snapshot import invalidate

            await invalidate()
            await UmkmCategorySales.all().delete()
            await CategorySales.all().delete()
            await UmkmCategorySales.bulk_create(
                [
                    UmkmCategorySales(umkm_id=u, category_id=c, weighted=w, amount=a, sales=n)
                    for (u, c), (w, a, n) in fresh.items()
                ],
                batch_size=1000,
            )
            await CategorySales.bulk_create(
                [CategorySales(category_id=c, weighted=w, amount=a) for c, (w, a) in fresh_cat.items()], batch_size=1000
            )
    return StatsDrift(
        rows_checked=len(set(fresh) | set(stored)) + len(set(fresh_cat) | set(stored_cat)),
        rows_differing=len(differing),
        max_relative_error=worst,
        examples=differing[:10],
    )


# ---------------------------------------------------------------- the ranking


@dataclass
class Score:
    deficit: float
    target_share: float
    received_share: float
    received: float
    active_fraction: float
    need: float
    omzet: float | None
    omzet_source: str  # REPORTED (median of the reports), NONE
    bucket: int
    rotation: int
    policy_version: str


@dataclass
class RankedUmkm:
    rank: int
    umkm_id: int
    score: Score
    reasons: list[str]
    cheapest_product_id: int
    cheapest_price: int
    position: int = 0  # place on the whole list, before the buyer's filters


@dataclass
class Ranking:
    category_id: int
    as_of: dt.datetime
    eligible: int  # |E_c|, before the buyer's filters
    median_price: float | None
    rows: list[RankedUmkm]
    excluded: dict[int, list[str]] = field(default_factory=dict)  # buyer-side exclusions, by UMKM


def _in(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids) or "NULL"


def complete_months(as_of: dt.datetime, n: int) -> list[str]:
    d = as_of.astimezone(JAKARTA)
    y, m = d.year, d.month
    out = []
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(f"{y:04d}-{m:02d}")
    return out


def price_band(median: float, policy: Policy = POLICY) -> tuple[int, int]:
    """[β_lo, β_hi] × median in whole rupiah (prices are integers, so the bounds round inwards)."""
    import math

    return math.ceil(policy.band_low * median - 1e-9), math.floor(policy.band_high * median + 1e-9)


def eligible_sql(cats: list[int], policy: Policy = POLICY) -> tuple[str, list]:
    """The statement behind `eligible_with_median` (`?` placeholders) and its parameters."""
    lo10, hi10 = round(policy.band_low * 10), round(policy.band_high * 10)
    return (
        f"""WITH p AS (
                SELECT pr."umkm_id" AS umkm_id, pr."id" AS product_id, pr."price" AS price, pr."stock" AS stock,
                       pr."made_to_order" AS made_to_order, u."verified_at" AS verified_at
                FROM "product" pr JOIN "umkm" u ON u."id" = pr."umkm_id"
                WHERE pr."category_id" IN ({_in(cats)}) AND pr."active" AND u."status" = ? AND u."scale" <> ?
            ),
            r AS (SELECT price, ROW_NUMBER() OVER (ORDER BY price) AS rn, COUNT(*) OVER () AS n FROM p),
            m AS (SELECT AVG(price) AS median FROM r WHERE rn IN ((n + 1) / 2, (n + 2) / 2)),
            e AS (
                SELECT p.umkm_id, p.product_id, p.price, p.verified_at,
                       ROW_NUMBER() OVER (PARTITION BY p.umkm_id ORDER BY p.price, p.product_id) AS rn
                FROM p CROSS JOIN m
                WHERE (p.stock > 0 OR p.made_to_order)
                  AND 10 * p.price >= {lo10} * m.median AND 10 * p.price <= {hi10} * m.median
            )
            SELECT m.median AS median, e.umkm_id AS umkm_id, e.product_id AS product_id, e.price AS price,
                   e.verified_at AS verified_at
            FROM m LEFT JOIN e ON e.rn = 1""",
        [UmkmStatus.VERIFIED.value, Scale.BESAR.value],
    )


async def eligible_with_median(cats: list[int], policy: Policy = POLICY) -> tuple[float | None, list[dict]]:
    """The category's median unit price and E_c in one statement: the products are read once."""
    rows = await fetch_all(*eligible_sql(cats, policy))
    if not rows or rows[0]["median"] is None:
        return None, []
    return float(rows[0]["median"]), [r for r in rows if r["umkm_id"] is not None]


async def received(cats: list[int], umkm_ids: list[int]) -> tuple[dict[int, float], float]:
    per = {
        r["umkm_id"]: float(r["w"])
        for r in await fetch_all(
            f'SELECT "umkm_id" AS umkm_id, SUM("weighted") AS w FROM "umkm_category_sales" '
            f'WHERE "category_id" IN ({_in(cats)}) GROUP BY "umkm_id"'
        )
    }
    total = await fetch_all(f'SELECT SUM("weighted") AS w FROM "category_sales" WHERE "category_id" IN ({_in(cats)})')
    return per, float(total[0]["w"] or 0.0)


async def reported_omzet(months: list[str], umkm_ids: list[int] | None = None) -> dict[int, list[int]]:
    """Each UMKM's reported totals for the months, each floored at that month's platform sales (only the given
    UMKM when `umkm_ids` is passed: the ranking reads its eligible sellers, not the whole registry)."""
    marks = ", ".join("?" for _ in months)
    only = f' AND r."umkm_id" IN ({_in(umkm_ids)})' if umkm_ids is not None else ""
    rows = await fetch_all(
        f"""SELECT r."umkm_id" AS umkm_id, r."total_amount" AS total, s."amount" AS platform
            FROM "omzet_report" r
            LEFT JOIN "umkm_monthly_sales" s ON s."umkm_id" = r."umkm_id" AND s."period" = r."period"
            WHERE r."period" IN ({marks}){only}""",
        months,
    )
    out: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        out[r["umkm_id"]].append(max(int(r["total"]), int(r["platform"] or 0)))
    return out


def _as_datetime(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def compute_ranking(
    category_id: int, cats: list[int], as_of: dt.datetime, policy: Policy = POLICY, received_from=None
) -> Ranking:
    """The whole ranking of a category (`cats`: it and its descendants) at `as_of`, before any buyer's filters;
    `rank` is the position. Requests read it from a snapshot (resolvers/fairness_snapshot.py). `received_from`
    replaces the maintained statistics (the benchmark computes them from the order lines to compare)."""
    med, rows = await eligible_with_median(cats, policy)
    if med is None:
        return Ranking(category_id, as_of, 0, None, [])
    ids = [r["umkm_id"] for r in rows]
    per, total_w = await (received_from or received)(cats, ids)
    omzet = await reported_omzet(complete_months(as_of, policy.need_months), ids)
    n = len(rows)
    total = decay_to(total_w, as_of, policy)
    comp = []
    for r in rows:
        uid = r["umkm_id"]
        verified = _as_datetime(r["verified_at"]) or as_of
        a = active_fraction((as_of - verified).total_seconds() / 86_400.0, policy)
        reports = omzet.get(uid)
        o = float(statistics.median(reports)) if reports else None
        nu = need(o, policy)
        comp.append((uid, a, nu, o, decay_to(per.get(uid, 0.0), as_of, policy)))
    mean_w = sum(a * (1 + policy.need_weight * nu) for _, a, nu, _, _ in comp) / n if n else 1.0
    day = as_of.astimezone(JAKARTA).date()
    ranked = []
    for r, (uid, a, nu, o, rec) in zip(rows, comp, strict=True):
        s = a * (1 + policy.need_weight * nu) / mean_w if mean_w > 0 else 1.0
        rho = rec / (total / n) if total > 0 else 0.0
        d = s - rho
        score = Score(
            deficit=d,
            target_share=s,
            received_share=rho,
            received=rec,
            active_fraction=a,
            need=nu,
            omzet=o,
            omzet_source="REPORTED" if o is not None else "NONE",
            bucket=bucket_of(d, policy),
            rotation=rotation_key(uid, category_id, day),
            policy_version=policy.version,
        )
        reasons = ["PRICE_IN_BAND"]
        sold = "BELOW_FAIR_SHARE" if d > 0 else "AT_OR_ABOVE_FAIR_SHARE"
        reasons.append("NEVER_SOLD" if per.get(uid, 0.0) == 0.0 else sold)
        reasons.append("NO_OMZET_REPORT" if o is None else ("LOW_REPORTED_OMZET" if nu > 0 else "OMZET_REPORTED"))
        if a < 0.5:
            reasons.append("NEWCOMER")
        ranked.append(RankedUmkm(0, uid, score, reasons, r["product_id"], int(r["price"])))
    ranked.sort(key=lambda x: (-x.score.bucket, x.score.rotation, x.umkm_id))
    for i, row in enumerate(ranked, start=1):
        row.rank = row.position = i
    return Ranking(category_id, as_of, n, med, ranked)


async def rank_category(
    category_id: int,
    as_of: dt.datetime,
    *,
    opd: Opd | None = None,
    quantity: int | None = None,
    policy: Policy = POLICY,
) -> Ranking:
    """The ranking computed now (no snapshot), then the buyer's filters in Python: the reference the snapshot's
    pages are tested against, and what the simulation calls at any moment of its year."""
    cats = await category_subtree(category_id)
    if not cats:
        raise DomainError("NOT_FOUND", "No such category.", "categoryId")
    ranking = await compute_ranking(category_id, cats, as_of, policy)
    await _buyer_filters(ranking, cats, opd, quantity, policy)
    for i, row in enumerate(ranking.rows, start=1):
        row.rank = i
    return ranking


def serves_sql(umkm: str, opd: Opd) -> tuple[str, list]:
    """SQL condition: the UMKM `u` (its id in column `umkm`) delivers to the OPD's kecamatan (own kecamatan,
    declared ones, or city-wide). The one definition for the computed ranking and the snapshot's pages."""
    return (
        f'(u."serves_city_wide" OR u."kecamatan_id" = ? OR EXISTS (SELECT 1 FROM "umkm_served_kecamatan" sk '
        f'WHERE sk."umkm_id" = {umkm} AND sk."kecamatan_id" = ?))',
        [opd.kecamatan_id, opd.kecamatan_id],
    )


def able_sql(umkm: str, cats: list[int], median: float | None, as_of: dt.datetime, quantity: int, policy: Policy):
    """SQL condition: the UMKM (its id in column `umkm`) has a product in the category, priced within the band, with
    stock for the quantity or, made to order, capacity left in the month of `as_of`."""
    lo, hi = price_band(median or 0, policy)
    return (
        f"""EXISTS (SELECT 1 FROM "product" pr
            LEFT JOIN "capacity_use" cu ON cu."product_id" = pr."id" AND cu."period" = ?
            WHERE pr."umkm_id" = {umkm} AND pr."category_id" IN ({_in(cats)}) AND pr."active"
              AND pr."price" >= ? AND pr."price" <= ?
              AND ((NOT pr."made_to_order" AND pr."stock" >= ?)
                   OR (pr."made_to_order" AND COALESCE(pr."monthly_capacity", 0) - COALESCE(cu."used", 0) >= ?)))""",
        [as_of.astimezone(JAKARTA).strftime("%Y-%m"), lo, hi, quantity, quantity],
    )


async def _buyer_filters(
    ranking: Ranking, cats: list[int], opd: Opd | None, quantity: int | None, policy: Policy
) -> None:
    """Per request: keep UMKM that serve the OPD's kecamatan and have stock or capacity for the quantity."""
    if opd is None and not quantity:
        return
    keep = {r.umkm_id for r in ranking.rows}
    checks = []
    if opd is not None:
        checks.append(("KECAMATAN_NOT_SERVED", serves_sql('u."id"', opd)))
    if quantity:
        checks.append(
            ("CAPACITY_SHORT", able_sql('u."id"', cats, ranking.median_price, ranking.as_of, quantity, policy))
        )
    for reason, (cond, params) in checks:
        sql = f'SELECT u."id" AS id FROM "umkm" u WHERE u."id" IN ({_in(sorted(keep))}) AND {cond}'
        passing = {r["id"] for r in await fetch_all(sql, params)}
        for uid in keep - passing:
            ranking.excluded.setdefault(uid, []).append(reason)
        keep &= passing
    for row in ranking.rows:
        if row.umkm_id in keep:
            if opd is not None:
                row.reasons.append("SERVES_OPD_KECAMATAN")
            if quantity:
                row.reasons.append("CAPACITY_OK")
    ranking.rows = [r for r in ranking.rows if r.umkm_id in keep]


def now_or(ctx: Ctx, as_of: dt.date | None) -> dt.datetime:
    """The moment a list is computed for: noon (Asia/Jakarta) of `asOf`, or of today by the clock. The list is a
    daily one: decay, active fraction and rotation are those of that noon all day long."""
    if as_of is None:
        as_of = ctx.clock.now().astimezone(JAKARTA).date()
    return dt.datetime.combine(as_of, dt.time(12), JAKARTA).astimezone(dt.UTC)


async def _buyer(ctx: Ctx, opd_id: int | None, quantity: int | None) -> Opd | None:
    if quantity is not None and quantity < 1:
        raise DomainError("TOO_SMALL", "quantity must be at least 1.", "quantity")
    if opd_id is None:
        return None
    opd = await Opd.get_or_none(id=opd_id)
    if opd is None:
        raise DomainError("NOT_FOUND", "No such OPD.", "opdId")
    return opd


async def under_sold(
    ctx: Ctx,
    category_id: int,
    opd_id: int | None,
    quantity: int | None,
    as_of: dt.date | None,
    after: tuple[int, int] | None = None,
    first: int = 20,
):
    """One page of the buyer's list (a `fairness_snapshot.Page`), read from the category's ranking snapshot."""
    from resolvers import fairness_snapshot

    opd = await _buyer(ctx, opd_id, quantity)
    return await fairness_snapshot.page(category_id, now_or(ctx, as_of), opd, quantity, after, first)


EXCLUSION_REASONS = (
    "NOT_VERIFIED",
    "SUSPENDED",
    "SCALE_BESAR",
    "NO_PRODUCT_IN_CATEGORY",
    "NO_STOCK",
    "PRICE_OUT_OF_BAND",
    "KECAMATAN_NOT_SERVED",
    "CAPACITY_SHORT",
)


async def explain(
    ctx: Ctx, umkm_id: int, category_id: int, opd_id: int | None, quantity: int | None, as_of: dt.date | None
) -> tuple[RankedUmkm | None, list[str]]:
    """Where a UMKM stands for a category and buyer: its row, or every reason it is left out."""
    from models.catalog import Product
    from models.registry import Umkm
    from resolvers import fairness_snapshot

    opd = await _buyer(ctx, opd_id, quantity)
    snap, row, buyer_side = await fairness_snapshot.standing(category_id, now_or(ctx, as_of), umkm_id, opd, quantity)
    if row is not None:
        return row, []
    umkm = await Umkm.get_or_none(id=umkm_id)
    if umkm is None:
        raise DomainError("NOT_FOUND", "No such UMKM.", "umkmId")
    why: list[str] = []
    if umkm.status is UmkmStatus.SUSPENDED:
        why.append("SUSPENDED")
    elif umkm.status is not UmkmStatus.VERIFIED:
        why.append("NOT_VERIFIED")
    if umkm.scale is Scale.BESAR:
        why.append("SCALE_BESAR")
    products = await Product.filter(umkm_id=umkm_id, category_id__in=await fairness_snapshot.subtree(snap), active=True)
    if not products:
        why.append("NO_PRODUCT_IN_CATEGORY")
    else:
        if not any(p.made_to_order or p.stock > 0 for p in products):
            why.append("NO_STOCK")
        lo, hi = price_band(snap.median_price or 0)
        if not any(lo <= p.price <= hi for p in products):
            why.append("PRICE_OUT_OF_BAND")
    why += buyer_side
    return None, why
