"""Shared model pieces: timestamps and the enums every layer speaks."""

from __future__ import annotations

from enum import Enum
from zoneinfo import ZoneInfo

from tortoise import fields
from tortoise.models import Model

JAKARTA = ZoneInfo("Asia/Jakarta")  # where the city lives: months, days and noon are Jakarta's (UTC+7, no DST)


class TimestampedModel(Model):
    """A row that knows when it was created and last changed (UTC)."""

    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class Role(str, Enum):
    ADMIN = "ADMIN"
    OPD_BUYER = "OPD_BUYER"
    OPD_TREASURER = "OPD_TREASURER"
    EMPLOYEE = "EMPLOYEE"
    UMKM_OWNER = "UMKM_OWNER"
    ANALYST = "ANALYST"


OPD_ROLES = frozenset({Role.OPD_BUYER, Role.OPD_TREASURER, Role.EMPLOYEE})


class UmkmStatus(str, Enum):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"
    SUSPENDED = "SUSPENDED"


class Scale(str, Enum):
    MIKRO = "MIKRO"
    KECIL = "KECIL"
    MENENGAH = "MENENGAH"
    BESAR = "BESAR"


class ScaleSource(str, Enum):
    DECLARED = "DECLARED"
    REPORTED = "REPORTED"
    ESTIMATED = "ESTIMATED"


class OpdKind(str, Enum):
    DINAS = "DINAS"
    BADAN = "BADAN"
    SEKRETARIAT = "SEKRETARIAT"
    KECAMATAN = "KECAMATAN"
    KELURAHAN = "KELURAHAN"
    RSUD = "RSUD"
    SEKOLAH = "SEKOLAH"
    LAINNYA = "LAINNYA"
