"""The fairness policy's parameters, in one place and versioned (docs/FAIRNESS.md, "Definitions").

Change a value, change POLICY_VERSION: every ranking row and stored plan carries the version it was made with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    version: str = "pemerataan-2026.11-4"
    half_life_days: float = 180.0  # H
    ramp_half_life_days: float = 30.0  # H_a: a newcomer's target share reaches full weight with this half-life
    bucket: float = 0.25  # δ
    need_weight: float = 0.5  # γ
    omzet_low: int = 1_000_000  # L, rupiah per month
    omzet_high: int = 100_000_000  # U
    band_low: float = 0.6  # β_lo × median unit price
    band_high: float = 1.3  # β_hi
    min_lot: int = 20  # m
    need_months: int = 3  # complete months whose reports give Ô_i
    need_min_reports: int = 2  # of those months, at least this many reported on time, else no need
    hold_grace_hours: int = 72  # open orders reserved this recently still count as the seller's stock
    recommended: int = 3  # the list's first rows marked as the recommended choice
    recommended_price_ratio: float = 1.2  # rank 1 is the default unless dearer than this × the cheapest of those
    exposure_keep_days: int = 400  # the exposure log is purged after this many days


POLICY = Policy()
POLICY_VERSION = POLICY.version

# Decay is stored relative to a fixed epoch: weight(t) = 2^((t - EPOCH)/H). Values stay far inside float64's range
# for centuries (2^((2100-2024)·365/180) ≈ 2^154).
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
SECONDS_PER_DAY = 86_400.0


def growth(t: dt.datetime, policy: Policy = POLICY) -> float:
    """2^((t - epoch)/H): the factor a sale at t is stored with."""
    return 2.0 ** ((t - EPOCH).total_seconds() / SECONDS_PER_DAY / policy.half_life_days)


def decay_to(weighted: float, as_of: dt.datetime, policy: Policy = POLICY) -> float:
    """The decayed rupiah at `as_of` of a stored weighted sum."""
    return weighted / growth(as_of, policy)


def active_fraction(days_since_verification: float, policy: Policy = POLICY) -> float:
    """a_i = 1 - 2^(-(days + 1)/H_a): a newcomer earns its share gradually (half-life `ramp_half_life_days`)."""
    return 1.0 - 2.0 ** (-(max(days_since_verification, 0.0) + 1.0) / policy.ramp_half_life_days)


def need(omzet: float | None, policy: Policy = POLICY) -> float:
    """N_i = clip((ln U - ln max(Ô, L)) / (ln U - ln L), 0, 1); no report means 0 (not reporting never helps)."""
    if omzet is None:
        return 0.0
    lo, hi = math.log(policy.omzet_low), math.log(policy.omzet_high)
    return min(1.0, max(0.0, (hi - math.log(max(omzet, policy.omzet_low))) / (hi - lo)))


def rotation_key(secret: str, category_id: int, umkm_id: int) -> int:
    """The keyed daily order inside a bucket: the first 31 bits of HMAC-SHA256(day secret, "category:umkm"). Nobody
    can predict it before the day's secret is published (the day after); anyone can check it afterwards."""
    mac = hmac.new(bytes.fromhex(secret), f"{category_id}:{umkm_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(mac[:4], "big") & 0x7FFF_FFFF


def bucket_of(deficit: float, policy: Policy = POLICY) -> int:
    return math.floor(round(deficit, 9) / policy.bucket)
