"""GraphQL shape of the city's view: equity, who sells most and who never, OPD spending."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from models import registry as reg
from resolvers import analytics as rules
from resolvers import fairness
from schema.fairness import UnderSoldUmkmConnection, connection, page_args
from schema.permissions import IsAuthenticated
from schema.registry import Category, Opd, Umkm
from schema.relay import check_first, decode_id, decode_int_cursor, encode_cursor
from schema.scalars import Rupiah


@strawberry.type(
    description="Equity of sales among a category's eligible UMKM over a period (zeros included). Personal orders "
    "count for admins only; for everyone else the figures are of OPD orders (docs/PRIVACY.md)."
)
class EquityReport:
    members: int = strawberry.field(description="UMKM counted: eligible ones plus any that sold in the period.")
    sellers: int = strawberry.field(description="UMKM with at least one counted sale.")
    purchases: int = strawberry.field(description="Counted orders in the category.")
    total: Rupiah = strawberry.field(description="Counted sales, whole rupiah.")
    gini: float | None = strawberry.field(
        description="Gini coefficient (0 equal … 1 one takes all); null without sales."
    )
    jain: float | None = strawberry.field(description="Jain's fairness index (1/n … 1).")
    theil: float | None = strawberry.field(description="Theil index (0 … ln n).")
    zero_sales_share: float | None = strawberry.field(description="Share of members that sold nothing.")
    top10_share: float | None = strawberry.field(description="Share of the money taken by the top 10% of members.")
    coverage_efficiency: float | None = strawberry.field(
        description="(1 − zero share) / min(1, purchases / members): how well purchases were spread."
    )
    unmet_fair_share: float | None = strawberry.field(
        description="Σ max(0, fair − received) / Σ fair; fair shares weighted by need as the ranking weighs sellers."
    )
    lorenz: list[float] | None = strawberry.field(description="Lorenz curve at 0%, 10%, …, 100% of members.")


def _equity(r: rules.EquityReport) -> EquityReport:
    f = r.figures
    return EquityReport(
        members=r.members,
        sellers=r.sellers,
        purchases=r.purchases,
        total=round(f["total"] or 0),
        gini=f["gini"],
        jain=f["jain"],
        theil=f["theil"],
        zero_sales_share=f["zero_share"],
        top10_share=f["top10_share"],
        coverage_efficiency=f["coverage_efficiency"],
        unmet_fair_share=f["unmet_fair_share"],
        lorenz=f["lorenz"],
    )


@strawberry.type(description="The equity figures of one top-level category (with its sub-categories).")
class CategoryEquity:
    category: Category = strawberry.field(description="The top-level category.")
    report: EquityReport = strawberry.field(description="Its figures, as `equityReport` gives them.")


@strawberry.enum(description="Sort order of `umkmSalesRanking`.")
class SalesOrder(Enum):
    MOST = strawberry.enum_value("MOST", description="Who sold the most (by rupiah) first.")
    LEAST = strawberry.enum_value(
        "LEAST", description="Who sold least or never first (never-sellers, longest verified, first)."
    )


@strawberry.type(
    description="One UMKM's counted sales in a category over a period: OPD orders, plus personal orders for admins "
    "only (docs/PRIVACY.md)."
)
class SalesRankEdge:
    cursor: str = strawberry.field(description="Pass as `after`.")
    rank: int = strawberry.field(description="Position in this order.")
    amount: Rupiah = strawberry.field(description="Counted sales.")
    orders: int = strawberry.field(description="Counted orders.")
    opds: int = strawberry.field(description="Different OPD that bought.")
    days_since_verification: int | None = strawberry.field(description="Days since it was verified.")
    umkm_id: strawberry.Private[int]

    @strawberry.field(description="The UMKM.")
    async def umkm(self, info: Info) -> Umkm:
        return Umkm.from_row(await info.context.loaders.by_id(reg.Umkm).load(self.umkm_id))


@strawberry.type(description="Who the OPD buy from most, or who never sold.")
class SalesRankConnection:
    edges: list[SalesRankEdge] = strawberry.field(description="This page.")
    total_count: int = strawberry.field(description="All rows.")
    has_next_page: bool = strawberry.field(description="More rows follow.")


@strawberry.type(description="An OPD's spending with UMKM in a year (by delivery date, Asia/Jakarta).")
class OpdSpending:
    opd: Opd = strawberry.field(description="The OPD.")
    year: int = strawberry.field(description="Year.")
    spend: Rupiah = strawberry.field(description="Counted OPD purchases (not staff purchases).")
    orders: int = strawberry.field(description="Counted OPD orders.")
    umkm_reached: int = strawberry.field(description="Different UMKM bought from.")
    pagu: Rupiah | None = strawberry.field(description="The year's pagu, if set.")
    pagu_share: float | None = strawberry.field(description="spend / pagu.")
    meets_small_business_rule: bool | None = strawberry.field(description="pagu share ≥ 40% (Perpres 12/2021 art. 65).")
    fairness_list_share: float | None = strawberry.field(
        description="Share of spend with list credit: orders of a seller the buyer was shown among the recommended "
        "rows of the under-sold list that day (the server's exposure log), or placed from a bulk plan; never from "
        "the order's `source` label (docs/FAIRNESS.md)."
    )
    median_days_to_pay: float | None = strawberry.field(description="Median days from delivery to payment.")
    unpaid_delivered: int = strawberry.field(description="Delivered orders not yet paid.")
    staff_purchases: int | None = strawberry.field(
        description="Personal purchases by the OPD's staff (count). Null when fewer than 5 distinct employees bought "
        "that year (admins see it always): a smaller group would show one person's purchases (docs/PRIVACY.md)."
    )
    staff_spend: Rupiah | None = strawberry.field(
        description="Personal purchases by the OPD's staff (rupiah). Null as `staffPurchases` is (docs/PRIVACY.md)."
    )


async def _purchase_category(root: rules.PurchaseCategory, info: Info) -> Category:
    return Category.from_row(await info.context.loaders.by_id(reg.Category).load(root.category_id))


@strawberry.type(description="A top-level category an OPD buys in, with the fairness list for it.")
class PurchaseCategory:
    """Reads the rows `resolvers.analytics.purchase_categories` makes (`Opd.purchaseCategories` returns them as they
    are: schema.registry refers to this type lazily and does not import this module)."""

    category: Category = strawberry.field(resolver=_purchase_category, description="The category.")
    spend: Rupiah = strawberry.field(description="The OPD's counted spend in it.")
    order_count: int = strawberry.field(description="The OPD's counted orders in it.")
    opd_id: strawberry.Private[int]
    category_id: strawberry.Private[int]

    @strawberry.field(description="Under-sold UMKM of this category that serve this OPD, ranked.")
    async def under_sold_umkm(
        self, info: Info, first: int | None = 10, after: str | None = None
    ) -> UnderSoldUmkmConnection:
        n, cursor = page_args(first, after)
        page = await fairness.under_sold(info.context, self.category_id, self.opd_id, None, None, cursor, n)
        return await connection(info, page)


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description="Equity figures for a category and period; null ratios when nothing sold.",
        permission_classes=[IsAuthenticated],
    )
    async def equity_report(
        self, info: Info, category_id: strawberry.ID, period_from: dt.date, period_to: dt.date
    ) -> EquityReport:
        r = await rules.equity_report(
            info.context, decode_id(category_id, "Category", "categoryId"), period_from, period_to
        )
        return _equity(r)

    @strawberry.field(
        description="`equityReport` for every top-level category, by name: the city's overview in one request.",
        permission_classes=[IsAuthenticated],
    )
    async def equity_by_category(self, info: Info, period_from: dt.date, period_to: dt.date) -> list[CategoryEquity]:
        return [
            CategoryEquity(category=Category.from_row(c), report=_equity(r))
            for c, r in await rules.equity_by_category(info.context, period_from, period_to)
        ]

    @strawberry.field(
        description="MOST: who the OPD buy from often; LEAST: who sold least or never. VERIFIED UMKM only, except "
        "for admins and analysts (docs/PRIVACY.md).",
        permission_classes=[IsAuthenticated],
    )
    async def umkm_sales_ranking(
        self,
        info: Info,
        category_id: strawberry.ID,
        period_from: dt.date,
        period_to: dt.date,
        order: SalesOrder = SalesOrder.MOST,
        first: int | None = 20,
        after: str | None = None,
    ) -> SalesRankConnection:
        n = check_first(first)
        cur = decode_int_cursor(after, 1)
        start = cur[0] if cur is not None else 0
        page, total = await rules.sales_ranking_page(
            info.context,
            decode_id(category_id, "Category", "categoryId"),
            period_from,
            period_to,
            order is SalesOrder.MOST,
            start,
            n,
        )
        return SalesRankConnection(
            edges=[
                SalesRankEdge(
                    cursor=encode_cursor([start + i + 1]),
                    rank=start + i + 1,
                    amount=r.amount,
                    orders=r.orders,
                    opds=r.opds,
                    days_since_verification=r.days_since_verification,
                    umkm_id=r.umkm_id,
                )
                for i, r in enumerate(page)
            ],
            total_count=total,
            has_next_page=start + n < total,
        )

    @strawberry.field(
        description="Per OPD: spend with UMKM, reach, share of pagu (40% rule), days to pay.",
        permission_classes=[IsAuthenticated],
    )
    async def opd_spending(self, info: Info, year: int) -> list[OpdSpending]:
        return [
            OpdSpending(
                opd=Opd.from_row(s.opd),
                year=s.year,
                spend=s.spend,
                orders=s.orders,
                umkm_reached=s.umkm_reached,
                pagu=s.pagu,
                pagu_share=s.pagu_share,
                meets_small_business_rule=s.meets_small_business_rule,
                fairness_list_share=s.fairness_list_share,
                median_days_to_pay=s.median_days_to_pay,
                unpaid_delivered=s.unpaid_delivered,
                staff_purchases=s.staff_purchases,
                staff_spend=s.staff_spend,
            )
            for s in await rules.opd_spending(info.context, year)
        ]
