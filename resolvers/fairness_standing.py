"""A seller's own standing on the under-sold lists (`myFairness`; `umkmFairness` for admins): per top-level category it
sells in, its fair share and what it received this year in rupiah, its deficit and today's rank, and what would make
it eligible, in plain Indonesian or English (docs/FAIRNESS.md, "A seller's standing").

Above resolvers/fairness.py on the floor plan: it asks `explain` where the UMKM stands on today's list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from models.base import JAKARTA
from models.catalog import Product
from models.orders import COUNTED_SQL
from models.query import fetch_all, int_list, sql_time
from models.registry import Umkm
from resolvers import fairness, fairness_snapshot
from resolvers.categories import category_roots, category_subtree
from resolvers.common import AccessError, Ctx, DomainError
from resolvers.ranking import price_band

MAX_ROWS = 200  # UMKM × top-level categories, the field's declared maximum

TEXT = {
    "rank": ("Peringkat Anda hari ini: {rank} dari {n} penjual.", "Your rank today: {rank} of {n} sellers."),
    "owed": (
        "Bagian wajar Anda tahun ini Rp{fair:,}; Anda sudah menerima Rp{received:,}.",
        "Your fair share this year is Rp{fair:,}; you have received Rp{received:,}.",
    ),
    "ahead": (
        "Anda sudah menerima lebih dari bagian wajar Anda; penjual lain didahulukan dulu.",
        "You have received more than your fair share; other sellers come first for now.",
    ),
    "NOT_VERIFIED": ("Usaha Anda belum terverifikasi.", "Your business is not verified yet."),
    "SUSPENDED": ("Usaha Anda sedang ditangguhkan.", "Your business is suspended."),
    "SCALE_BESAR": (
        "Usaha skala besar tidak masuk daftar pemerataan.",
        "Large businesses are not on the under-sold list.",
    ),
    "NO_PRODUCT_IN_CATEGORY": ("Anda belum punya produk aktif di kategori ini.", "You have no active product here."),
    "NO_STOCK": (
        "Tambahkan stok (atau kapasitas bulanan untuk produk pesanan).",
        "Add stock (or monthly capacity for a made-to-order product).",
    ),
    "PRICE_OUT_OF_BAND": (
        "Pasang harga antara Rp{low:,} dan Rp{high:,} per satuan agar masuk daftar.",
        "Price a product between Rp{low:,} and Rp{high:,} per unit to be listed.",
    ),
    "CAPACITY_SHORT": (
        "Siapkan minimal {quantity} unit stok (atau kapasitas bulan ini) untuk satu produk dalam rentang harga.",
        "Keep at least {quantity} units in stock (or capacity this month) of one product in the price band.",
    ),
    "SHOWN_THROUGH_OTHER_UMKM": (
        "Usaha Anda tampil di daftar ini lewat UMKM Anda yang lain: satu baris per pelaku usaha.",
        "Your business is shown on this list through another of your UMKM: one row per business actor.",
    ),
    "kecamatan": (
        "Anda hanya tampil untuk OPD di kecamatan yang Anda layani; tambahkan kecamatan layanan untuk menjangkau "
        "lebih banyak OPD.",
        "You are shown only to OPD in the kecamatan you serve; add served kecamatan to reach more OPD.",
    ),
}


def language(asked: str | None, accept_language: str | None) -> str:
    """`id` (the default) or `en`: the `lang` argument, else the first language of the Accept-Language header."""
    raw = (asked or accept_language or "id").strip().lower()
    return "en" if raw.startswith("en") else "id"


def say(key: str, lang: str, **values) -> str:
    return TEXT[key][lang == "en"].format(**values)


@dataclass
class SellerStanding:
    umkm_id: int
    category_id: int
    eligible: bool
    rank: int | None
    listed: int
    deficit: float | None
    received_this_year: int
    fair_share_this_year: int | None
    band_low: int | None
    band_high: int | None
    stock_needed: int
    reasons: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


async def my_fairness(ctx: Ctx, lang: str) -> list[SellerStanding]:
    """The signed-in owner's UMKM."""
    return await _standings(ctx, sorted(ctx.principal.umkm_ids), lang)


async def umkm_fairness(ctx: Ctx, umkm_id: int, lang: str) -> list[SellerStanding]:
    """Any UMKM's, for admins."""
    if not ctx.principal.is_admin:
        raise AccessError("Only admins may read another seller's standing.")
    if not await Umkm.exists(id=umkm_id):
        raise DomainError("NOT_FOUND", "No such UMKM.", "umkmId")
    return await _standings(ctx, [umkm_id], lang)


async def _year_sales(umkm_ids: list[int], since: dt.datetime) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
    """Counted rupiah this year per (UMKM, leaf category) for these UMKM, and per leaf category for everyone."""
    base = (
        'FROM "order_item" i JOIN "order" o ON o."id" = i."order_id" '
        f'WHERE o."status" IN ({COUNTED_SQL}) AND o."delivered_at" >= ?'
    )
    own = await fetch_all(
        f'SELECT o."umkm_id" AS u, i."category_id" AS c, SUM(i."subtotal") AS x {base} '
        f'AND o."umkm_id" IN ({int_list(umkm_ids)}) GROUP BY o."umkm_id", i."category_id"',
        [sql_time(since)],
    )
    every = await fetch_all(
        f'SELECT i."category_id" AS c, SUM(i."subtotal") AS x {base} GROUP BY i."category_id"', [sql_time(since)]
    )
    return {(r["u"], r["c"]): int(r["x"]) for r in own}, {r["c"]: int(r["x"]) for r in every}


async def _standings(ctx: Ctx, umkm_ids: list[int], lang: str) -> list[SellerStanding]:
    if not umkm_ids:
        return []
    roots = await category_roots()
    pairs = sorted(
        {
            (u, roots.get(c, c))
            for u, c in await Product.filter(umkm_id__in=umkm_ids).values_list("umkm_id", "category_id")
        }
    )[:MAX_ROWS]
    now = ctx.clock.now()
    year_start = dt.datetime(now.astimezone(JAKARTA).year, 1, 1, tzinfo=JAKARTA).astimezone(dt.UTC)
    own, every = await _year_sales(umkm_ids, year_start)
    city_wide = dict(await Umkm.filter(id__in=umkm_ids).values_list("id", "serves_city_wide"))
    out = []
    for umkm_id, category_id in pairs:
        cats = await category_subtree(category_id)
        received = sum(own.get((umkm_id, c), 0) for c in cats)
        total = sum(every.get(c, 0) for c in cats)
        row, why = await fairness.explain(ctx, umkm_id, category_id, None, None, None)
        snap = await fairness_snapshot.snapshot(category_id, fairness.now_or(ctx, None))
        low, high = price_band(snap.median_price) if snap.median_price is not None else (None, None)
        s = SellerStanding(
            umkm_id=umkm_id,
            category_id=category_id,
            eligible=row is not None,
            rank=row.rank if row is not None else None,
            listed=snap.eligible,
            deficit=row.score.deficit if row is not None else None,
            received_this_year=received,
            fair_share_this_year=None,
            band_low=low,
            band_high=high,
            stock_needed=snap.typical_quantity,
            reasons=why,
        )
        if row is not None:
            s.fair_share_this_year = round(total * (row.score.target_share or 0.0) / max(snap.actors, 1))
            s.messages.append(say("rank", lang, rank=row.rank, n=snap.eligible))
            s.messages.append(say("owed", lang, fair=s.fair_share_this_year, received=received))
            if (row.score.deficit or 0.0) <= 0:
                s.messages.append(say("ahead", lang))
        for reason in why:
            values = {"low": low or 0, "high": high or 0, "quantity": snap.typical_quantity}
            s.messages.append(say(reason, lang, **values))
        if not city_wide.get(umkm_id):
            s.messages.append(say("kecamatan", lang))
        out.append(s)
    return out
