"""The day secrets behind the keyed order inside a bucket (docs/FAIRNESS.md, "Order").

Each Asia/Jakarta day has one secret, 32 random bytes from `secrets`, created by the first build of that day's list
and stored in `fairness_day_secret`. It stays unknown to everyone on its day (the ranking rows carry the key, but the
API shows no key of today's or a future list) and is published from the next day on (`fairnessDaySecret`), so that
anyone can recompute a past list. Ground floor: imports models only.
"""

from __future__ import annotations

import datetime as dt
import secrets

from models.fairness import FairnessDaySecret


async def day_secret(day: dt.date) -> str:
    """The day's secret, created on first use (an insert that ignores a concurrent one, then the stored row)."""
    await FairnessDaySecret.bulk_create(
        [FairnessDaySecret(day=day, secret=secrets.token_hex(32))], ignore_conflicts=True
    )
    return (await FairnessDaySecret.get(day=day)).secret


async def published_secret(day: dt.date, today: dt.date) -> str | None:
    """A past day's secret, for anyone to audit its list; None for today and later, or a day without a list."""
    if day >= today:
        return None
    row = await FairnessDaySecret.get_or_none(day=day)
    return row.secret if row is not None else None
