"""Scalars: money as whole rupiah in 64 bits; dates within the years the platform can mean."""

from __future__ import annotations

import datetime as dt
from typing import NewType

import strawberry

INT64_MAX = 2**63 - 1


def _parse_rupiah(value: object) -> int:
    # bool is an int in Python; a float, even 3.0, is not whole rupiah by contract.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Rupiah must be a whole number of rupiah (a JSON integer).")
    if not -INT64_MAX <= value <= INT64_MAX:
        raise ValueError("Rupiah is out of the 64-bit range.")
    return value


Rupiah = NewType("Rupiah", int)

RUPIAH_SCALAR = strawberry.scalar(
    name="Rupiah",
    description="Whole rupiah as a JSON integer (64-bit; pagu and yearly omzet exceed GraphQL's 32-bit Int).",
    serialize=int,
    parse_value=_parse_rupiah,
)

FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)


def _parse_date(value: object) -> dt.date:
    """An ISO date between 2000-01-01 and 2100-12-31: a far date is a typo or a probe, and day arithmetic at
    9999-12-31 overflows."""
    if not isinstance(value, str):
        raise ValueError("A date is a string like 2026-12-20.")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:20]!r} is not a date like 2026-12-20.") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(f"Dates are between {FIRST_DATE} and {LAST_DATE}.")
    return day


DATE_SCALAR = strawberry.scalar(
    name="Date",
    description="Date (isoformat)",
    serialize=dt.date.isoformat,
    parse_value=_parse_date,
)

SCALAR_MAP = {Rupiah: RUPIAH_SCALAR, dt.date: DATE_SCALAR}
