"""Pemerataan: the buyer's under-sold list and where one UMKM stands on it (docs/FAIRNESS.md).

The list is a daily one, read from a stored snapshot of the ranking (resolvers/fairness_snapshot.py), which the
ranking computation (resolvers/ranking.py) fills; only today's is stored, another day's (`asOf`, analysts and admins
only: `day_asked`) is computed for the request and kept nowhere. Imports run one way: fairness -> fairness_snapshot
-> ranking -> categories. Every row leaves here through `privacy.ranked_for` (docs/PRIVACY.md): the figures computed
from a UMKM's omzet go to its owner, admins and analysts only, and a UMKM the caller may not see is not found.
"""

from __future__ import annotations

import datetime as dt

from models.base import JAKARTA, Role, Scale, UmkmStatus
from models.catalog import Product
from models.registry import Opd, Umkm
from resolvers import exposure, fairness_snapshot, privacy
from resolvers.common import AccessError, BadUserInput, Ctx, DomainError
from resolvers.fairness_policy import POLICY, Policy
from resolvers.fairness_secrets import published_secret
from resolvers.ranking import RankedUmkm, held_since, list_moment, price_band

MAX_PAST_DAYS = 366  # how far back `asOf` may look


def now_or(ctx: Ctx, as_of: dt.date | None) -> dt.datetime:
    """The moment a list is computed for: `list_moment` of `asOf`, or of today by the clock."""
    if as_of is None:
        as_of = ctx.clock.now().astimezone(JAKARTA).date()
    return list_moment(as_of)


def day_asked(ctx: Ctx, as_of: dt.date | None) -> tuple[dt.datetime, bool]:
    """Who may ask for which day (the one rule): today for every caller of the list; another day (`asOf`) for
    analysts and admins only, within the past `MAX_PAST_DAYS` days, never in the future. Returns the moment and
    whether it is today's: only today's list is stored (a snapshot); another day's is computed and not kept, so that
    reading old days writes nothing."""
    today = ctx.clock.now().astimezone(JAKARTA).date()
    if as_of is None or as_of == today:
        return now_or(ctx, today), True
    if not ctx.principal.sees_everything:
        raise AccessError("Only analysts and admins may ask for another day than today (asOf).")
    if as_of > today:
        raise BadUserInput("asOf must not be after today ({today}).", today=today.isoformat())
    if as_of < today - dt.timedelta(days=MAX_PAST_DAYS):
        raise BadUserInput(
            "asOf must be within the past {days} days (from {today}).", days=MAX_PAST_DAYS, today=today.isoformat()
        )
    return now_or(ctx, as_of), False


def key_published(ctx: Ctx, moment: dt.datetime) -> bool:
    """A list's keyed order may be shown once its day's secret is published: from the next day on."""
    return moment.astimezone(JAKARTA).date() < ctx.clock.now().astimezone(JAKARTA).date()


async def day_secret_published(ctx: Ctx, day: dt.date) -> str | None:
    """A past day's secret, for anyone to audit its list; never today's or a future one."""
    return await published_secret(day, ctx.clock.now().astimezone(JAKARTA).date())


async def _buyer(ctx: Ctx, opd_id: int | None, quantity: int | None) -> Opd | None:
    if quantity is not None and quantity < 1:
        raise DomainError("TOO_SMALL", "Quantity must be at least 1.", "quantity")
    if opd_id is None:
        return None
    opd = await Opd.get_or_none(id=opd_id)
    if opd is None:
        raise DomainError("NOT_FOUND", "No such OPD.", "opdId")
    return opd


async def under_sold(
    ctx: Ctx,
    category_id: int,
    opd_id: int | None,
    quantity: int | None,
    as_of: dt.date | None,
    after: tuple[int, int] | None = None,
    first: int = 20,
):
    """One page of the buyer's list (a `fairness_snapshot.Page`), read from the category's ranking snapshot."""
    moment, today = day_asked(ctx, as_of)
    opd = await _buyer(ctx, opd_id, quantity)
    page = await fairness_snapshot.page(category_id, moment, opd, quantity, after, first, stored=today)
    p = ctx.principal
    if today and p.role in (Role.OPD_BUYER, Role.EMPLOYEE) and p.opd_id is not None and opd_id in (None, p.opd_id):
        # the server's record of what this buyer was shown: list credit comes from it, not from the order's label
        await exposure.record(moment.astimezone(JAKARTA).date(), p.user_id, p.opd_id, category_id, page.rows)
    page.rows = [privacy.ranked_for(p, r) for r in page.rows]
    return page


def choice(rows: list[RankedUmkm], policy: Policy = POLICY) -> tuple[set[int], int | None]:
    """The small choice (docs/FAIRNESS.md, "The buyer's choice"): the ranks of the recommended rows (the list's first
    `policy.recommended`) and the default one: rank 1, unless its price is above `recommended_price_ratio` × the
    cheapest recommended price, then the cheapest (ties: the better rank)."""
    top = [r for r in rows if r.rank <= policy.recommended]
    if not top:
        return set(), None
    cheapest = min(r.cheapest_price for r in top)
    first = min(top, key=lambda r: r.rank)
    if first.cheapest_price > policy.recommended_price_ratio * cheapest:
        first = min(top, key=lambda r: (r.cheapest_price, r.rank))
    return {r.rank for r in top}, first.rank


def _may_see(ctx: Ctx, umkm: Umkm) -> bool:
    """As `node()` answers (resolvers.registry.visible_umkm_q): a UMKM that is not VERIFIED exists only for its
    owner, admins and analysts; to anyone else its status is not told, the check answers "No such UMKM"."""
    p = ctx.principal
    return umkm.status is UmkmStatus.VERIFIED or privacy.sees_every_umkm(p) or p.owns_umkm(umkm.id)


EXCLUSION_REASONS = (
    "NOT_VERIFIED",
    "SUSPENDED",
    "SCALE_BESAR",
    "NO_PRODUCT_IN_CATEGORY",
    "NO_STOCK",
    "PRICE_OUT_OF_BAND",
    "KECAMATAN_NOT_SERVED",
    "CAPACITY_SHORT",
    "SHOWN_THROUGH_OTHER_UMKM",
)


async def explain(
    ctx: Ctx, umkm_id: int, category_id: int, opd_id: int | None, quantity: int | None, as_of: dt.date | None
) -> tuple[RankedUmkm | None, list[str]]:
    """Where a UMKM stands for a category and buyer: its row, or every reason it is left out."""
    moment, today = day_asked(ctx, as_of)
    opd = await _buyer(ctx, opd_id, quantity)
    snap, row, buyer_side = await fairness_snapshot.standing(category_id, moment, umkm_id, opd, quantity, stored=today)
    if row is not None:
        return privacy.ranked_for(ctx.principal, row), []
    umkm = await Umkm.get_or_none(id=umkm_id)
    if umkm is None or not _may_see(ctx, umkm):
        raise DomainError("NOT_FOUND", "No such UMKM.", "umkmId")
    why: list[str] = []
    if umkm.status is UmkmStatus.SUSPENDED:
        why.append("SUSPENDED")
    elif umkm.status is not UmkmStatus.VERIFIED:
        why.append("NOT_VERIFIED")
    if umkm.scale is Scale.BESAR:
        why.append("SCALE_BESAR")
    products = await Product.filter(umkm_id=umkm_id, category_id__in=await fairness_snapshot.subtree(snap), active=True)
    if not products:
        why.append("NO_PRODUCT_IN_CATEGORY")
    else:
        since = held_since(moment)
        held = [p.held if p.held_at is not None and p.held_at >= since else 0 for p in products]
        if not any(p.made_to_order or p.stock + h > 0 for p, h in zip(products, held, strict=True)):
            why.append("NO_STOCK")
        lo, hi = price_band(snap.median_price or 0)
        in_band = [(p, h) for p, h in zip(products, held, strict=True) if lo <= p.price <= hi]
        if not in_band:
            why.append("PRICE_OUT_OF_BAND")
        elif not why and not any(
            p.made_to_order or p.stock + h >= snap.typical_quantity for p, h in in_band
        ):  # an in-band product, but none can deliver the category's median order quantity
            why.append("CAPACITY_SHORT")
    why += buyer_side
    return None, why
