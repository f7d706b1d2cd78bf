"""The under-sold ranking's maintained statistics: decayed sales per UMKM and category, and per category.

The ranking reads these tables, never the order lines. Sales reach them in `record_sale`, called from the one place
where a sale starts or stops counting (resolvers/sales.py), inside the same transaction; `rebuild_stats` recomputes
them from the order lines and reports drift (`pasar fairness rebuild [--check]`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models.fairness import CategoryOrderQuantity, CategorySales, UmkmCategorySales
from models.orders import COUNTED_SQL, OPEN_SQL, OrderItem
from models.query import as_datetime, begin_writing, fetch_all
from resolvers.fairness_policy import growth
from resolvers.invalidation import invalidate


async def record_open(
    umkm_id: int, by_category: dict[int, int], at: dt.datetime, sign: int = 1, order_id: int | None = None
) -> None:
    """An order placed (+1, weighted at its ordering time `at`) or closed — delivered, rejected, cancelled (-1, the
    same `at`, and the closing `order_id`): its rupiah count provisionally as received while it is open
    (docs/FAIRNESS.md, "Open orders"). Invalidates nothing: the caller moves the seller's row (ordering) or
    invalidates (closing without a sale). `last_open_at` is the seller's latest ordering among its orders still
    open: placing sets it, closing takes it back to the latest other open order, so a cancelled order leaves no
    trace in the "least recently awarded" order; a delivered one is awarded through `last_sale_at`."""
    g = growth(at)
    for category_id, amount in sorted(by_category.items()):
        w = sign * amount * g
        await UmkmCategorySales.bulk_create(
            [UmkmCategorySales(umkm_id=umkm_id, category_id=category_id)], ignore_conflicts=True
        )
        row = UmkmCategorySales.filter(umkm_id=umkm_id, category_id=category_id)
        await row.update(open_weighted=F("open_weighted") + w)
        if sign > 0:
            await row.filter(Q(last_open_at__isnull=True) | Q(last_open_at__lt=at)).update(last_open_at=at)
        else:
            await row.update(last_open_at=await _latest_open(umkm_id, category_id, order_id))
        await CategorySales.bulk_create([CategorySales(category_id=category_id)], ignore_conflicts=True)
        await CategorySales.filter(category_id=category_id).update(open_weighted=F("open_weighted") + w)


async def _latest_open(umkm_id: int, category_id: int, closing: int | None) -> dt.datetime | None:
    """The latest ordering among the seller's other open orders with a line in the category (a write-time read)."""
    rows = await fetch_all(
        'SELECT MAX(o."created_at") AS at FROM "order" o WHERE o."umkm_id" = ? AND o."id" <> ? '
        f'AND o."status" IN ({OPEN_SQL}) AND EXISTS (SELECT 1 FROM "order_item" i '
        'WHERE i."order_id" = o."id" AND i."category_id" = ?)',
        [umkm_id, closing or 0, category_id],
    )
    return as_datetime(rows[0]["at"]) if rows and rows[0]["at"] is not None else None


async def record_sale(
    umkm_id: int, by_category: dict[int, int], at: dt.datetime, sign: int = 1, *, lists_moved: bool = False
) -> None:
    """Add one order's rupiah per category to the decayed statistics (an upsert that adds, safe when concurrent).
    `lists_moved`: the order already moved the lists when it was placed (it was counted open), no rebuild needed."""
    # A sale moves every share in its categories; one that stops counting may also move an old month's omzet floor.
    if not lists_moved or sign < 0:
        await invalidate(list(by_category) if sign > 0 else None)
    g = growth(at)
    for category_id, amount in sorted(by_category.items()):
        w = sign * amount * g
        await UmkmCategorySales.bulk_create(
            [UmkmCategorySales(umkm_id=umkm_id, category_id=category_id)], ignore_conflicts=True
        )
        last = {"last_sale_at": at} if sign > 0 else {}
        await UmkmCategorySales.filter(umkm_id=umkm_id, category_id=category_id).update(
            weighted=F("weighted") + w, amount=F("amount") + sign * amount, sales=F("sales") + sign, **last
        )
        await CategorySales.bulk_create([CategorySales(category_id=category_id)], ignore_conflicts=True)
        await CategorySales.filter(category_id=category_id).update(
            weighted=F("weighted") + w, amount=F("amount") + sign * amount
        )


def quantity_class(quantity: int) -> int:
    """k with 2^k <= quantity < 2^(k+1): the class a counted order line is kept in."""
    return max(int(quantity), 1).bit_length() - 1


async def record_quantities(order_id: int, sign: int = 1) -> None:
    """Count an order's lines in their categories' quantity classes (the median order quantity, `typical_quantity`)."""
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for category_id, quantity in await OrderItem.filter(order_id=order_id).values_list("category_id", "quantity"):
        counts[(category_id, quantity_class(quantity))] += 1
    for (category_id, k), n in sorted(counts.items()):
        await CategoryOrderQuantity.bulk_create(
            [CategoryOrderQuantity(category_id=category_id, quantity_class=k)], ignore_conflicts=True
        )
        await CategoryOrderQuantity.filter(category_id=category_id, quantity_class=k).update(
            lines=F("lines") + sign * n
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
    per, cat, _last, _classes = await _recompute_all()
    return per, cat


async def _recompute_all() -> tuple[dict, dict, dict[tuple[int, int], dt.datetime], dict[tuple[int, int], int]]:
    """The statistics, the latest sale per (UMKM, category) and the quantity classes, from the order lines."""
    rows = await fetch_all(
        'SELECT o."umkm_id" AS umkm_id, i."category_id" AS category_id, i."subtotal" AS subtotal, '
        'o."delivered_at" AS delivered_at, o."id" AS order_id, i."quantity" AS quantity '
        'FROM "order_item" i JOIN "order" o ON o."id" = i."order_id" '
        f'WHERE o."status" IN ({COUNTED_SQL}) AND o."delivered_at" IS NOT NULL'
    )
    per: dict[tuple[int, int], list] = defaultdict(lambda: [0.0, 0, set()])
    cat: dict[int, list] = defaultdict(lambda: [0.0, 0])
    last: dict[tuple[int, int], dt.datetime] = {}
    classes: dict[tuple[int, int], int] = defaultdict(int)
    for r in rows:
        at = as_datetime(r["delivered_at"])
        key = (r["umkm_id"], r["category_id"])
        last[key] = max(last.get(key, at), at)
        classes[(r["category_id"], quantity_class(int(r["quantity"])))] += 1
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
        last,
        dict(classes),
    )


async def recompute_open() -> tuple[dict[tuple[int, int], tuple[float, dt.datetime]], dict[int, float]]:
    """The open orders' provisional weights (and latest ordering time) per (UMKM, category) and per category."""
    rows = await fetch_all(
        'SELECT o."umkm_id" AS umkm_id, i."category_id" AS category_id, i."subtotal" AS subtotal, '
        'o."created_at" AS created_at FROM "order_item" i JOIN "order" o ON o."id" = i."order_id" '
        f'WHERE o."status" IN ({OPEN_SQL})'
    )
    per: dict[tuple[int, int], list] = {}
    cat: dict[int, float] = defaultdict(float)
    for r in rows:
        at = as_datetime(r["created_at"])
        w = int(r["subtotal"]) * growth(at)
        k = (r["umkm_id"], r["category_id"])
        old = per.get(k, [0.0, at])
        per[k] = [old[0] + w, max(old[1], at)]
        cat[r["category_id"]] += w
    return {k: (v[0], v[1]) for k, v in per.items()}, dict(cat)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


async def rebuild_stats(fix: bool = True, tolerance: float = 1e-6) -> StatsDrift:
    """Compare the maintained statistics with the order lines (relative tolerance); with `fix`, replace them."""
    async with in_transaction() as conn:
        if fix:
            await begin_writing(conn)  # SQLite: wait for the writers, not fail on the upgrade after reading
        fresh, fresh_cat, last, classes = await _recompute_all()
        open_per, open_cat = await recompute_open()
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
            await invalidate()
            await UmkmCategorySales.all().delete()
            await CategorySales.all().delete()
            keys = set(fresh) | set(open_per)
            await UmkmCategorySales.bulk_create(
                [
                    UmkmCategorySales(
                        umkm_id=u,
                        category_id=c,
                        weighted=fresh.get((u, c), (0.0, 0, 0))[0],
                        amount=fresh.get((u, c), (0.0, 0, 0))[1],
                        sales=fresh.get((u, c), (0.0, 0, 0))[2],
                        open_weighted=open_per.get((u, c), (0.0, None))[0],
                        last_sale_at=last.get((u, c)),
                        last_open_at=open_per.get((u, c), (0.0, None))[1],
                    )
                    for (u, c) in sorted(keys)
                ],
                batch_size=1000,
            )
            await CategoryOrderQuantity.all().delete()
            await CategoryOrderQuantity.bulk_create(
                [CategoryOrderQuantity(category_id=c, quantity_class=k, lines=n) for (c, k), n in classes.items()],
                batch_size=1000,
            )
            await CategorySales.bulk_create(
                [
                    CategorySales(
                        category_id=c,
                        weighted=fresh_cat.get(c, (0.0, 0))[0],
                        amount=fresh_cat.get(c, (0.0, 0))[1],
                        open_weighted=open_cat.get(c, 0.0),
                    )
                    for c in sorted(set(fresh_cat) | set(open_cat))
                ],
                batch_size=1000,
            )
    return StatsDrift(
        rows_checked=len(set(fresh) | set(stored)) + len(set(fresh_cat) | set(stored_cat)),
        rows_differing=len(differing),
        max_relative_error=worst,
        examples=differing[:10],
    )


# ---------------------------------------------------------------- the ranking
