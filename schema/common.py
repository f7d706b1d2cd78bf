"""Small pieces shared by the domain schema modules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import strawberry

from models import base

JAKARTA = ZoneInfo("Asia/Jakarta")


def jakarta(value: dt.datetime | None) -> dt.datetime | None:
    """Stored in UTC, shown in Asia/Jakarta (WIB, +07:00)."""
    return value.astimezone(JAKARTA) if value is not None else None


Role = strawberry.enum(base.Role, description="What a user does on the platform (docs/DOMAIN.md).")
UmkmStatus = strawberry.enum(base.UmkmStatus, description="Verification status; only VERIFIED UMKM sell.")
Scale = strawberry.enum(base.Scale, description="Size class by PP 7/2021 on annual sales.")
ScaleSource = strawberry.enum(base.ScaleSource, description="Where the size class comes from.")
OpdKind = strawberry.enum(base.OpdKind, description="What kind of government body an OPD is.")
