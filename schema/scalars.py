"""Scalars: money as whole rupiah in 64 bits."""

from __future__ import annotations

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

SCALAR_MAP = {Rupiah: RUPIAH_SCALAR}
