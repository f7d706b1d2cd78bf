"""The one place where a sale starts counting (DOMAIN.md, "when a sale counts").

An order counts as a sale from the moment it is DELIVERED, dated by the server's delivery time, per item's
category, in the Asia/Jakarta month or day. Later issues extend `sale_counted` (omzet rollups, fairness statistics);
it always runs inside the transaction that makes the order DELIVERED, so a rollback undoes both.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from models.orders import Order

JAKARTA = ZoneInfo("Asia/Jakarta")


def sale_period(delivered_at: dt.datetime) -> str:
    """The Asia/Jakarta month (YYYY-MM) a sale counts in."""
    return delivered_at.astimezone(JAKARTA).strftime("%Y-%m")


def sale_day(delivered_at: dt.datetime) -> dt.date:
    return delivered_at.astimezone(JAKARTA).date()


async def sale_counted(order: Order, delivered_at: dt.datetime) -> None:
    """Called once per order, in the delivering transaction. Maintained statistics hook in here."""
    # Nothing is maintained yet: every report reads delivered orders directly (COUNTED_STATUSES, delivered_at).
    return None
