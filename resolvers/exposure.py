"""The exposure log: what each buyer was shown on the under-sold list, the server's own record behind list credit
(docs/FAIRNESS.md, "List credit"). Ground floor: imports models only.

One row per (buyer, UMKM, category, Asia/Jakarta day), written as one upsert per page read by an OPD buyer or an
employee for their own OPD; the first showing of the day is kept. An order earns list credit (`Order.sourceRank`)
when the buyer was shown its seller, with the product ordered, among the recommended first rows that day; each
showing credits one order. Rows older than `exposure_keep_days` are purged by the server's refresh loop.
"""

from __future__ import annotations

import datetime as dt

from models.fairness import FairnessExposure
from models.query import dialect, fetch_all
from resolvers.fairness_policy import POLICY, Policy

COLUMNS = ("day", "buyer_id", "opd_id", "category_id", "umkm_id", "product_id", "rank")


async def record(day: dt.date, buyer_id: int, opd_id: int, category_id: int, rows: list) -> None:
    """One statement: the page's rows (`RankedUmkm`), each kept only if the buyer was not shown that UMKM in that
    category already today."""
    if not rows:
        return
    d = day if dialect() == "postgres" else day.isoformat()
    marks = ", ".join("(" + ", ".join("?" for _ in COLUMNS) + ")" for _ in rows)
    params = [v for r in rows for v in (d, buyer_id, opd_id, category_id, r.umkm_id, r.cheapest_product_id, r.rank)]
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    await fetch_all(
        f'INSERT INTO "fairness_exposure" ({cols}) VALUES {marks} '
        'ON CONFLICT ("buyer_id", "umkm_id", "category_id", "day") DO NOTHING',
        params,
    )


async def shown(day: dt.date, buyer_id: int, product_ids: list[int], policy: Policy = POLICY) -> dict[int, tuple]:
    """For a basket: per UMKM, the unused showing today of one of these products among the recommended rows
    (exposure id, rank), the best rank first."""
    rows = (
        await FairnessExposure.filter(
            day=day, buyer_id=buyer_id, product_id__in=product_ids, order_id=None, rank__lte=policy.recommended
        )
        .order_by("rank", "id")
        .values_list("id", "umkm_id", "rank")
    )
    out: dict[int, tuple] = {}
    for eid, umkm_id, rank in rows:
        out.setdefault(umkm_id, (eid, rank))
    return out


async def claim(exposure_id: int, order_id: int) -> bool:
    """Credit one order with a showing, once (a conditional update: of two racing orders one wins)."""
    return bool(await FairnessExposure.filter(id=exposure_id, order_id=None).update(order_id=order_id))


async def purge(today: dt.date, policy: Policy = POLICY) -> int:
    """Delete the showings older than the retention."""
    return await FairnessExposure.filter(day__lt=today - dt.timedelta(days=policy.exposure_keep_days)).delete()
