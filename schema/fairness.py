"""GraphQL shape of pemerataan: the under-sold ranking with its reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from models import catalog as cat
from models import registry as reg
from models.base import Role
from resolvers import fairness as rules
from resolvers import fairness_standing as standing
from resolvers.common import BadUserInput
from resolvers.fairness_snapshot import Page
from schema.catalog import Product
from schema.permissions import ADMIN_ONLY, IsAuthenticated, roles
from schema.registry import Category, Umkm
from schema.relay import PageInfo, check_first, decode_id, decode_int_cursor, encode_cursor
from schema.scalars import Rupiah

WITHHELD = (
    " Null unless the caller is the UMKM's owner, an admin or an analyst: it follows from its omzet (docs/PRIVACY.md)."
)


@strawberry.type(
    description="Every component of a UMKM's place on the under-sold list (docs/FAIRNESS.md). The components that "
    "follow from the UMKM's reported omzet are null except for its owner, admins and analysts (docs/PRIVACY.md)."
)
class FairnessScore:
    deficit: float | None = strawberry.field(
        description="D = s − ρ: how many average shares this UMKM is owed." + WITHHELD
    )
    target_share: float | None = strawberry.field(
        description="s: its fair share relative to the category's average (mean 1)." + WITHHELD
    )
    received_share: float = strawberry.field(description="ρ: decayed sales received, relative to the average.")
    received: float = strawberry.field(description="R: decayed rupiah received in the category (half-life 180 days).")
    active_fraction: float = strawberry.field(description="a: grows from 0 to 1 after verification.")
    need: float | None = strawberry.field(description="N: 0 to 1 from reported omzet; 0 without reports." + WITHHELD)
    omzet_used: float | None = strawberry.field(
        description="Ô: median of the last three months' reports, if any." + WITHHELD
    )
    omzet_source: str | None = strawberry.field(
        description="REPORTED, or NONE when no report was filed in three months." + WITHHELD
    )
    bucket: int | None = strawberry.field(
        description="floor(D / δ): the list is ordered by bucket, highest first." + WITHHELD
    )
    rotation_key: int | None = strawberry.field(
        description="The keyed daily order inside a bucket: the first 31 bits of HMAC-SHA256(the day's secret, "
        "\"categoryId:umkmId\"). Null for today's list: the day's secret and keys are published the next day "
        "(`fairnessDaySecret`), so nobody can predict today's order and anyone can check a past one."
    )
    policy_version: str = strawberry.field(description="The policy parameters' version.")

    @classmethod
    def of(cls, s: rules.Score, key_published: bool) -> FairnessScore:
        return cls(
            deficit=s.deficit,
            target_share=s.target_share,
            received_share=s.received_share,
            received=s.received,
            active_fraction=s.active_fraction,
            need=s.need,
            omzet_used=s.omzet,
            omzet_source=s.omzet_source,
            bucket=s.bucket,
            rotation_key=s.rotation if key_published else None,
            policy_version=s.policy_version,
        )


@strawberry.type(description="One UMKM on the under-sold list.")
class UnderSoldUmkmEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this row.")
    rank: int = strawberry.field(description="1 = buy here first.")
    score: FairnessScore = strawberry.field(description="Why it stands here, in numbers.")
    reasons: list[str] = strawberry.field(
        description="Reason codes: NEVER_SOLD, BELOW_FAIR_SHARE, LOW_REPORTED_OMZET, NO_OMZET_REPORT, NEWCOMER, "
        "SERVES_OPD_KECAMATAN, CAPACITY_OK, PRICE_IN_BAND… The codes that follow from the omzet (BELOW_FAIR_SHARE, "
        "AT_OR_ABOVE_FAIR_SHARE, LOW_REPORTED_OMZET, OMZET_REPORTED, NO_OMZET_REPORT) are left out except for the "
        "UMKM's owner, admins and analysts (docs/PRIVACY.md)."
    )
    umkm: Umkm = strawberry.field(description="The UMKM.")
    cheapest_eligible_product: Product = strawberry.field(
        description="The product this row offers: its cheapest product in the category priced in the band that can "
        "deliver the quantity asked (without `quantity`: the category's median order quantity)."
    )
    recommended: bool = strawberry.field(
        description="One of the list's first three rows, the recommended choice: the buyer's pick among them counts "
        "as following the list (docs/FAIRNESS.md)."
    )
    default_choice: bool = strawberry.field(
        description="The pick offered by default: rank 1, unless its price is above 1.2 × the cheapest of the three "
        "recommended rows, then that cheapest one."
    )


async def _total_count(root: UnderSoldUmkmConnection) -> int:
    return await root.count()  # counted only when asked for: the buyer's filters make it a query


@strawberry.type(description="The under-sold UMKM of a category, ranked for a buyer.")
class UnderSoldUmkmConnection:
    edges: list[UnderSoldUmkmEdge] = strawberry.field(description="Rows of this page, by rank.")
    page_info: PageInfo = strawberry.field(description="Paging.")
    total_count: int = strawberry.field(resolver=_total_count, description="Rows on the whole list for this buyer.")
    eligible_count: int = strawberry.field(description="UMKM eligible in the category before the buyer's filters.")
    median_price: float | None = strawberry.field(description="The category's median unit price (the band's centre).")
    as_of: dt.datetime = strawberry.field(description="The moment the list is computed for.")
    policy_version: str = strawberry.field(description="The policy parameters' version.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]


def page_args(first: int | None, after: str | None) -> tuple[int, tuple[int, int] | None]:
    """`first` checked; `after` as (rank, position): ranks count the buyer's rows, positions the whole list."""
    cur = decode_int_cursor(after, 2)
    return check_first(first), (None if cur is None else (cur[0], cur[1]))


async def list_page(
    info: Info,
    category_id: strawberry.ID,
    opd_id: strawberry.ID | None,
    quantity: int | None,
    first: int | None,
    after: str | None,
    as_of: dt.date | None,
) -> Page:
    """The page of the buyer's list `underSoldUmkm` answers with (its arguments checked)."""
    cid, oid = _ids(info, category_id, opd_id)
    n, cursor = page_args(first, after)
    return await rules.under_sold(info.context, cid, oid, quantity, as_of, cursor, n)


async def connection(info: Info, page: Page) -> UnderSoldUmkmConnection:
    """The page's UMKM and products are loaded in two batches here and handed to plain fields."""
    loaders = info.context.loaders
    umkms = await loaders.by_id(reg.Umkm).load_many([r.umkm_id for r in page.rows])
    products = await loaders.by_id(cat.Product).load_many([r.cheapest_product_id for r in page.rows])
    return page_connection(info, page, [Umkm.from_row(u) for u in umkms], [Product.from_row(p) for p in products])


def page_connection(info: Info, page: Page, umkms: list[Any], products: list[Any]) -> UnderSoldUmkmConnection:
    """The connection of a page whose rows' UMKM and products are given in the rows' order: Strawberry objects on the
    general path; compiled reads (schema/compiled.py) give them written already, from their statements' records."""
    published = rules.key_published(info.context, page.snapshot.as_of)
    recommended, default = rules.choice(page.rows)
    edges = [
        UnderSoldUmkmEdge(
            cursor=encode_cursor([r.rank, r.position]),
            rank=r.rank,
            score=FairnessScore.of(r.score, published),
            reasons=list(r.reasons),
            umkm=u,
            cheapest_eligible_product=p,
            recommended=r.rank in recommended,
            default_choice=r.rank == default,
        )
        for r, u, p in zip(page.rows, umkms, products, strict=True)
    ]
    s = page.snapshot
    return UnderSoldUmkmConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.after_rank > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        eligible_count=s.eligible,
        median_price=s.median_price,
        as_of=s.as_of.astimezone(rules.JAKARTA),
        policy_version=s.policy_version,
        count=page.total,
    )


@strawberry.type(description="Where one UMKM stands for a category and buyer, or why it is left out.")
class FairnessCheck:
    eligible: bool = strawberry.field(description="On the list for this buyer.")
    rank: int | None = strawberry.field(description="Its rank, when on the list.")
    score: FairnessScore | None = strawberry.field(description="Its score, when on the list.")
    reasons: list[str] = strawberry.field(
        description="Reason codes for its rank; those that follow from the omzet only for its owner, admins and "
        "analysts (docs/PRIVACY.md)."
    )
    excluded_because: list[str] = strawberry.field(
        description="Why it is left out: NOT_VERIFIED, SUSPENDED, SCALE_BESAR, NO_PRODUCT_IN_CATEGORY, NO_STOCK, "
        "PRICE_OUT_OF_BAND, KECAMATAN_NOT_SERVED, CAPACITY_SHORT, SHOWN_THROUGH_OTHER_UMKM (its business actor is "
        "shown through another of its UMKM: one row per business actor)."
    )


@strawberry.type(
    description="A seller's standing on one top-level category's under-sold list: fair share and received this year, "
    "today's rank, and what would make it eligible, in plain words (docs/FAIRNESS.md, \"A seller's standing\")."
)
class SellerFairness:
    umkm: Umkm = strawberry.field(description="The UMKM.")
    category: Category = strawberry.field(description="The top-level category it sells in.")
    eligible: bool = strawberry.field(description="On today's list (before any buyer's filters).")
    rank: int | None = strawberry.field(description="Its place on today's list, when eligible.")
    listed: int = strawberry.field(description="How many sellers are on today's list.")
    deficit: float | None = strawberry.field(description="D: how many average shares it is owed, when eligible.")
    received_this_year: Rupiah = strawberry.field(description="Counted sales in the category this year (WIB).")
    fair_share_this_year: Rupiah | None = strawberry.field(
        description="The category's sales this year × its target share ÷ the sellers listed, when eligible."
    )
    price_band_low: Rupiah | None = strawberry.field(description="The lowest unit price on today's list.")
    price_band_high: Rupiah | None = strawberry.field(description="The highest unit price on today's list.")
    stock_needed: int = strawberry.field(
        description="Units a product must be able to deliver (stock, or capacity this month) to be listed."
    )
    excluded_because: list[str] = strawberry.field(description="Reason codes, as `fairnessCheck` gives them.")
    messages: list[str] = strawberry.field(description="What it means and what to do, in Indonesian or English.")


async def _standing_rows(info: Info, rows: list[standing.SellerStanding]) -> list[SellerFairness]:
    loaders = info.context.loaders
    umkms = await loaders.by_id(reg.Umkm).load_many([r.umkm_id for r in rows])
    cats = await loaders.by_id(reg.Category).load_many([r.category_id for r in rows])
    return [
        SellerFairness(
            umkm=Umkm.from_row(u),
            category=Category.from_row(c),
            eligible=r.eligible,
            rank=r.rank,
            listed=r.listed,
            deficit=r.deficit,
            received_this_year=Rupiah(r.received_this_year),
            fair_share_this_year=None if r.fair_share_this_year is None else Rupiah(r.fair_share_this_year),
            price_band_low=None if r.band_low is None else Rupiah(r.band_low),
            price_band_high=None if r.band_high is None else Rupiah(r.band_high),
            stock_needed=r.stock_needed,
            excluded_because=r.reasons,
            messages=r.messages,
        )
        for r, u, c in zip(rows, umkms, cats, strict=True)
    ]


def _lang(info: Info, lang: str | None) -> str:
    if lang is not None and len(lang) > 35:
        raise BadUserInput("lang must be a language tag such as id or en.")
    request = info.context.request
    header = request.headers.get("accept-language") if request is not None else None
    return standing.language(lang, header)


def _ids(info: Info, category_id: str, opd_id: str | None) -> tuple[int, int | None]:
    return (
        decode_id(category_id, "Category", "categoryId"),
        decode_id(opd_id, "Opd", "opdId") if opd_id else None,
    )


@strawberry.type
class FairnessQuery:
    @strawberry.field(
        description="Pemerataan: eligible UMKM of a category ranked by how far they are below their fair share, "
        "for an OPD (kecamatan served) and quantity (stock/capacity). Deterministic per day. `asOf`: another day than "
        "today, for analysts and admins only (FORBIDDEN otherwise), within the past 366 days (BAD_USER_INPUT "
        "otherwise); computed on request, as today's list is read.",
        permission_classes=[IsAuthenticated],
    )
    async def under_sold_umkm(
        self,
        info: Info,
        category_id: strawberry.ID,
        opd_id: strawberry.ID | None = None,
        quantity: int | None = None,
        first: int | None = 20,
        after: str | None = None,
        as_of: dt.date | None = None,
    ) -> UnderSoldUmkmConnection:
        return await connection(info, await list_page(info, category_id, opd_id, quantity, first, after, as_of))

    @strawberry.field(
        description="Where one UMKM stands on a category's list for a buyer, or every reason it is left out. A UMKM "
        "that is not VERIFIED is NOT_FOUND except for its owner, admins and analysts, as `node()` answers. `asOf` as "
        "for `underSoldUmkm`.",
        permission_classes=[IsAuthenticated],
    )
    async def fairness_check(
        self,
        info: Info,
        umkm_id: strawberry.ID,
        category_id: strawberry.ID,
        opd_id: strawberry.ID | None = None,
        quantity: int | None = None,
        as_of: dt.date | None = None,
    ) -> FairnessCheck:
        cid, oid = _ids(info, category_id, opd_id)
        row, why = await rules.explain(info.context, decode_id(umkm_id, "Umkm", "umkmId"), cid, oid, quantity, as_of)
        if row is None:
            return FairnessCheck(eligible=False, rank=None, score=None, reasons=[], excluded_because=why)
        score = FairnessScore.of(row.score, rules.key_published(info.context, rules.now_or(info.context, as_of)))
        return FairnessCheck(eligible=True, rank=row.rank, score=score, reasons=row.reasons, excluded_because=[])

    @strawberry.field(
        description="The secret of a past day's keyed order (hex, 32 bytes), for anyone to recompute that day's "
        'list: HMAC-SHA256(secret, "categoryId:umkmId"). Null for today and later (kept secret on its day), and for '
        "a day without a list.",
        permission_classes=[IsAuthenticated],
    )
    async def fairness_day_secret(self, info: Info, day: dt.date) -> str | None:
        return await rules.day_secret_published(info.context, day)

    @strawberry.field(
        description="Your own standing on the under-sold lists, per UMKM you own and top-level category it sells in: "
        "fair share and received this year in rupiah, deficit, today's rank, and what would make it eligible (price "
        "band, stock needed, kecamatan). `lang`: id (default) or en; without it, the Accept-Language header.",
        permission_classes=roles(Role.UMKM_OWNER),
    )
    async def my_fairness(self, info: Info, lang: str | None = None) -> list[SellerFairness]:
        return await _standing_rows(info, await standing.my_fairness(info.context, _lang(info, lang)))

    @strawberry.field(
        description="`myFairness` for any UMKM, for admins.",
        permission_classes=ADMIN_ONLY,
    )
    async def umkm_fairness(self, info: Info, umkm_id: strawberry.ID, lang: str | None = None) -> list[SellerFairness]:
        uid = decode_id(umkm_id, "Umkm", "umkmId")
        return await _standing_rows(info, await standing.umkm_fairness(info.context, uid, _lang(info, lang)))
