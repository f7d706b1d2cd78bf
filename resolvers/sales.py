"""The one place where a sale starts counting (docs/DOMAIN.md, "when a sale counts").

An order counts as a sale from the moment it is DELIVERED, dated by the server's delivery time, per item's
category, in the Asia/Jakarta month or day. `sale_counted` runs inside the transaction that makes the order
DELIVERED, so a rollback undoes both; maintained statistics (the monthly omzet rollup, later fairness statistics)
are updated here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.base import JAKARTA
from models.omzet import UmkmMonthlySales
from models.orders import COUNTED_SQL, Order
from models.query import begin_writing, fetch_all, jakarta_month_sql
from resolvers.fairness_stats import order_amounts_by_category, record_open, record_quantities, record_sale


def sale_period(delivered_at: dt.datetime) -> str:
    """The Asia/Jakarta month (YYYY-MM) a sale counts in."""
    return delivered_at.astimezone(JAKARTA).strftime("%Y-%m")


async def add_monthly_sales(umkm_id: int, period: str, amount: int, orders: int) -> None:
    """Upsert that adds to one UMKM's month (insert-if-missing, then a relative update: safe under concurrency)."""
    await UmkmMonthlySales.bulk_create(
        [UmkmMonthlySales(umkm_id=umkm_id, period=period, amount=0, orders=0)], ignore_conflicts=True
    )
    await UmkmMonthlySales.filter(umkm_id=umkm_id, period=period).update(
        amount=F("amount") + amount, orders=F("orders") + orders
    )


async def sale_counted(order: Order, delivered_at: dt.datetime, *, was_open: bool = False) -> None:
    """Called once per order, in the delivering transaction. `was_open`: the order counted provisionally while open
    (placed through `placeOrder`): that count ends here, and the lists already moved when it was placed."""
    await add_monthly_sales(order.umkm_id, sale_period(delivered_at), order.total, 1)
    amounts = await order_amounts_by_category(order.id)
    await record_sale(order.umkm_id, amounts, delivered_at, lists_moved=was_open)
    if was_open:
        await record_open(order.umkm_id, amounts, order.created_at, -1, order.id)
    await record_quantities(order.id)


# ---------------------------------------------------------------- rebuild with a drift check


@dataclass
class Drift:
    rows_checked: int
    rows_differing: int
    examples: list[tuple[int, str, int, int]]  # umkm, period, stored, recomputed


async def recompute_monthly_sales() -> dict[tuple[int, str], tuple[int, int]]:
    """Platform sales per (UMKM, Jakarta month) straight from the orders, in one GROUP BY."""
    month = jakarta_month_sql('"delivered_at"')
    rows = await fetch_all(
        f'SELECT "umkm_id" AS umkm_id, {month} AS period, SUM("total") AS amount, COUNT(*) AS n '
        f'FROM "order" WHERE "status" IN ({COUNTED_SQL}) AND "delivered_at" IS NOT NULL GROUP BY "umkm_id", {month}'
    )
    return {(r["umkm_id"], r["period"]): (int(r["amount"]), int(r["n"])) for r in rows}


async def rebuild_monthly_sales(fix: bool = True) -> Drift:
    """Compare the rollup with the orders; with `fix`, replace it by the recomputed figures (one transaction)."""
    async with in_transaction() as conn:
        if fix:
            await begin_writing(conn)  # SQLite: wait for the writers, not fail on the upgrade after reading
        fresh = await recompute_monthly_sales()
        stored = {(r.umkm_id, r.period): (r.amount, r.orders) for r in await UmkmMonthlySales.all()}
        keys = set(fresh) | set(stored)
        differing = [k for k in sorted(keys) if fresh.get(k, (0, 0)) != stored.get(k, (0, 0))]
        if fix and differing:
            await UmkmMonthlySales.all().delete()
            await UmkmMonthlySales.bulk_create(
                [UmkmMonthlySales(umkm_id=u, period=p, amount=a, orders=n) for (u, p), (a, n) in fresh.items()],
                batch_size=1000,
            )
    return Drift(
        rows_checked=len(keys),
        rows_differing=len(differing),
        examples=[(u, p, stored.get((u, p), (0, 0))[0], fresh.get((u, p), (0, 0))[0]) for u, p in differing[:10]],
    )
