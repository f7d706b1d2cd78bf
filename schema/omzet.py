"""GraphQL shape of omzet: reports and revisions, the draft, compliance, city aggregates."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from models import omzet as m
from models import registry as reg
from models.base import Role as R
from resolvers import omzet as rules
from schema.common import jakarta
from schema.errors import UserError, UserErrors
from schema.permissions import IsAuthenticated, roles
from schema.registry import Kecamatan, Umkm
from schema.relay import Connection, Node, decode_id, paginate, to_global_id
from schema.scalars import Rupiah


@strawberry.type(description="One submission or correction of a report; never changed afterwards.")
class OmzetRevision:
    number: int = strawberry.field(description="1 for the first submission, then 2, 3…")
    platform_amount: Rupiah = strawberry.field(description="Platform sales that month (the system's figure).")
    other_online_amount: Rupiah = strawberry.field(description="Other online channels.")
    offline_amount: Rupiah = strawberry.field(description="Offline sales.")
    total_amount: Rupiah = strawberry.field(description="All channels.")
    workers: int | None = strawberry.field(description="Number of workers.")
    note: str = strawberry.field(description="Note.")
    submitted_by: strawberry.ID = strawberry.field(description="Who submitted it (a user ID).")
    on_behalf: bool = strawberry.field(description="An admin submitted it on the owner's behalf.")
    at: dt.datetime = strawberry.field(description="When (Asia/Jakarta).")


@strawberry.type(description="A UMKM's turnover for one month; its figures are those of the latest revision.")
class OmzetReport(Node):
    period: str = strawberry.field(description="Month, YYYY-MM.")
    platform_amount: Rupiah = strawberry.field(description="Platform sales that month (the system's figure).")
    other_online_amount: Rupiah = strawberry.field(description="Other online channels.")
    offline_amount: Rupiah = strawberry.field(description="Offline sales.")
    total_amount: Rupiah = strawberry.field(description="All channels.")
    workers: int | None = strawberry.field(description="Number of workers.")
    note: str = strawberry.field(description="Note.")
    first_submitted_at: dt.datetime = strawberry.field(description="First submission (Asia/Jakarta).")
    late: bool = strawberry.field(description="First submitted after the due date.")
    revision_count: int = strawberry.field(description="How many revisions exist.")
    updated_at: dt.datetime = strawberry.field(description="Latest revision (Asia/Jakarta).")
    pk: strawberry.Private[int]
    umkm_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: m.OmzetReport) -> OmzetReport:
        return cls(
            id=to_global_id("OmzetReport", r.id),
            period=r.period,
            platform_amount=r.platform_amount,
            other_online_amount=r.other_online_amount,
            offline_amount=r.offline_amount,
            total_amount=r.total_amount,
            workers=r.workers,
            note=r.note,
            first_submitted_at=jakarta(r.first_submitted_at),
            late=r.late,
            revision_count=r.revision_count,
            updated_at=jakarta(r.updated_at),
            pk=r.id,
            umkm_id=r.umkm_id,
        )

    @strawberry.field(description="The UMKM.")
    async def umkm(self, info: Info) -> Umkm:
        return Umkm.from_row(await info.context.loaders.by_id(reg.Umkm).load(self.umkm_id))

    @strawberry.field(description="Every revision, oldest first, with who submitted it.")
    async def revisions(self, info: Info) -> list[OmzetRevision]:
        rows = await info.context.loaders.batch("omzet_revisions", rules.revisions_for).load(self.pk)
        return [
            OmzetRevision(
                number=r.number,
                platform_amount=r.platform_amount,
                other_online_amount=r.other_online_amount,
                offline_amount=r.offline_amount,
                total_amount=r.total_amount,
                workers=r.workers,
                note=r.note,
                submitted_by=to_global_id("User", r.submitted_by_id),
                on_behalf=r.on_behalf,
                at=jakarta(r.created_at),
            )
            for r in rows
        ]


@strawberry.type(description="What the owner sees before typing a report: the platform's own figure for the month.")
class OmzetDraft:
    period: str = strawberry.field(description="Month, YYYY-MM.")
    platform_amount: Rupiah = strawberry.field(description="Platform sales counted that month.")
    platform_orders: int = strawberry.field(description="Orders counted that month.")
    report: OmzetReport | None = strawberry.field(description="The report as submitted so far, if any.")
    umkm: Umkm = strawberry.field(description="The UMKM.")


@strawberry.enum(description="How a UMKM stands for a month's report.")
class ComplianceStatus(Enum):
    ON_TIME = strawberry.enum_value("ON_TIME", description="Reported by the due day.")
    LATE = strawberry.enum_value("LATE", description="Reported after the due day.")
    MISSING = strawberry.enum_value("MISSING", description="Not reported.")


@strawberry.type(description="Reporting for one kecamatan.")
class KecamatanCompliance:
    kecamatan: Kecamatan = strawberry.field(description="The kecamatan.")
    expected: int = strawberry.field(description="UMKM expected to report.")
    on_time: int = strawberry.field(description="Reported by the due date.")
    late: int = strawberry.field(description="Reported after the due date.")
    missing: int = strawberry.field(description="Not reported.")


@strawberry.type(description="Who reported a month's omzet on time, late, or not at all.")
class OmzetCompliance:
    period: str = strawberry.field(description="Month, YYYY-MM.")
    due: dt.datetime = strawberry.field(description="End of the due day (Asia/Jakarta).")
    expected: int = strawberry.field(description="Verified UMKM registered before the month ended.")
    on_time: int = strawberry.field(description="Reported by the due date.")
    late: int = strawberry.field(description="Reported after the due date.")
    missing: int = strawberry.field(description="Not reported.")
    by_kecamatan: list[KecamatanCompliance] = strawberry.field(description="The same, per kecamatan.")

    @strawberry.field(description="The UMKM in one of the three groups (optionally one kecamatan).")
    async def umkms(
        self,
        info: Info,
        status: ComplianceStatus,
        kecamatan_id: strawberry.ID | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Umkm]:
        kid = decode_id(kecamatan_id, "Kecamatan", "kecamatanId") if kecamatan_id else None
        qs = rules.compliance_umkm_query(info.context, self.period, status.value, kid)
        return await paginate(qs, [("id", False)], first, after, Umkm.from_row)


@strawberry.enum(description="How `omzetSummary` groups reports.")
class OmzetGroupBy(Enum):
    KECAMATAN = strawberry.enum_value("KECAMATAN", description="By the UMKM's kecamatan.")
    CATEGORY = strawberry.enum_value(
        "CATEGORY", description="By top-level category of the UMKM's products (a UMKM may count in several)."
    )
    SCALE = strawberry.enum_value("SCALE", description="By size class.")
    MONTH = strawberry.enum_value("MONTH", description="By month.")


@strawberry.type(
    description="Omzet of a group of UMKM over months `from`..`to`: the sum of its published base cells (one month × "
    "one kecamatan, primary category or scale). A cell is withheld below 5 reporters or when its two largest reports "
    "exceed 85% of it, and a report in a withheld cell of any grouping is left out of every grouping, so no "
    "combination of answers recovers a withheld cell (docs/PRIVACY.md)."
)
class OmzetGroup:
    key: str = strawberry.field(description="Group key: kecamatan or category ID number, scale, or month.")
    label: str = strawberry.field(description="Readable name of the group.")
    reporters: int = strawberry.field(description="Distinct UMKM that reported, in published cells or not.")
    reports: int = strawberry.field(description="Monthly reports, in published cells or not.")
    total: Rupiah | None = strawberry.field(
        description="Sum of the reported totals in the published cells; null when every cell is withheld."
    )
    median: Rupiah | None = strawberry.field(
        description="Median monthly total of a published report, rounded to Rp100,000; null below 10 distinct "
        "reporters in the published cells."
    )
    platform_share: float | None = strawberry.field(
        description="Share of the published total that came through the platform."
    )
    withheld: bool = strawberry.field(description="True when every cell of the group is withheld (`total` is null).")
    withheld_cells: int = strawberry.field(
        description="Months of this group whose cell is withheld entirely (not in `total`)."
    )
    withheld_reports: int = strawberry.field(
        description="Reports of this group not in `total`: in its withheld cells, or in a published cell but also in "
        "a withheld cell of another grouping."
    )


@strawberry.type(description="The intervention list (`lowIncomeUmkm`) counted in one kecamatan.")
class KecamatanLowIncome:
    kecamatan: Kecamatan = strawberry.field(description="The kecamatan.")
    expected: int = strawberry.field(description="UMKM expected to report for the month (as `omzetCompliance`).")
    low_income: int = strawberry.field(description="UMKM below the threshold in each of the months.")


@strawberry.input(description="Filters for `omzetReports`.")
class OmzetReportFilter:
    umkm_id: strawberry.ID | None = strawberry.field(default=None, description="One UMKM.")
    period_from: str | None = strawberry.field(default=None, description="From month, YYYY-MM.")
    period_to: str | None = strawberry.field(default=None, description="To month, YYYY-MM.")


INDIVIDUAL = roles(R.UMKM_OWNER, R.ANALYST, R.ADMIN)
ANALYSTS = roles(R.ANALYST, R.ADMIN)


@strawberry.type
class OmzetQuery:
    @strawberry.field(
        description="Individual reports: owners their own; analysts and admins all.", permission_classes=INDIVIDUAL
    )
    async def omzet_reports(
        self, info: Info, filter: OmzetReportFilter | None = None, first: int | None = 20, after: str | None = None
    ) -> Connection[OmzetReport]:
        f = filter or OmzetReportFilter()
        qs = rules.report_query(
            info.context,
            rules.ReportFilter(
                umkm_id=decode_id(f.umkm_id, "Umkm", "umkmId") if f.umkm_id else None,
                period_from=f.period_from,
                period_to=f.period_to,
            ),
        )
        return await paginate(qs, [("period", True), ("id", True)], first, after, OmzetReport.from_row)

    @strawberry.field(
        description="The platform's figure for a month before the owner types the rest.",
        permission_classes=roles(R.UMKM_OWNER, R.ADMIN),
    )
    async def omzet_draft(self, info: Info, umkm_id: strawberry.ID, period: str) -> OmzetDraft:
        d = await rules.omzet_draft(info.context, decode_id(umkm_id, "Umkm", "umkmId"), period)
        return OmzetDraft(
            period=d.period,
            platform_amount=d.platform_amount,
            platform_orders=d.platform_orders,
            report=OmzetReport.from_row(d.report) if d.report else None,
            umkm=Umkm.from_row(d.umkm),
        )

    @strawberry.field(
        description="Reporting compliance for a month, by kecamatan (analysts, admins).", permission_classes=ANALYSTS
    )
    async def omzet_compliance(self, info: Info, period: str) -> OmzetCompliance:
        c = await rules.compliance(info.context, period)
        return OmzetCompliance(
            period=c.period,
            due=c.due,
            expected=c.expected,
            on_time=c.on_time,
            late=c.late,
            missing=c.missing,
            by_kecamatan=[
                KecamatanCompliance(
                    kecamatan=Kecamatan.from_row(k.kecamatan),
                    expected=k.expected,
                    on_time=k.on_time,
                    late=k.late,
                    missing=k.missing,
                )
                for k in c.by_kecamatan
            ],
        )

    @strawberry.field(
        description="Omzet per group for months `from`..`to`: sums of published cells; cells under 5 reporters or "
        "dominated by two reports are withheld and counted in `withheldCells` (docs/PRIVACY.md).",
        permission_classes=[IsAuthenticated],
    )
    async def omzet_summary(
        self, info: Info, period_from: str, period_to: str, group_by: OmzetGroupBy
    ) -> list[OmzetGroup]:
        groups = await rules.summary(info.context, period_from, period_to, group_by.value)
        return [OmzetGroup(**g.__dict__) for g in groups]

    @strawberry.field(
        description="The city's intervention list: UMKM below `threshold` for `months` months up to `period`.",
        permission_classes=ANALYSTS,
    )
    async def low_income_umkm(
        self,
        info: Info,
        period: str,
        threshold: Rupiah,
        months: int = 3,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Umkm]:
        qs = rules.low_income_query(info.context, period, threshold, months)
        return await paginate(qs, [("id", False)], first, after, Umkm.from_row)

    @strawberry.field(
        description="`lowIncomeUmkm` counted per kecamatan: all 31, by code, with the UMKM expected to report.",
        permission_classes=ANALYSTS,
    )
    async def low_income_by_kecamatan(
        self, info: Info, period: str, threshold: Rupiah, months: int = 3
    ) -> list[KecamatanLowIncome]:
        return [
            KecamatanLowIncome(kecamatan=Kecamatan.from_row(k.kecamatan), expected=k.expected, low_income=k.low_income)
            for k in await rules.low_income_by_kecamatan(info.context, period, threshold, months)
        ]


@strawberry.input(description="A month's omzet; the platform's own sales are added by the system, never typed.")
class SubmitOmzetReportInput:
    umkm_id: strawberry.ID = strawberry.field(description="The UMKM.")
    period: str = strawberry.field(description="A finished month, YYYY-MM.")
    offline_amount: Rupiah | None = strawberry.field(
        default=None, description="Offline sales, whole rupiah; omitted in a correction: unchanged."
    )
    other_online_amount: Rupiah | None = strawberry.field(
        default=None,
        description="Other online channels (marketplaces…); omitted: 0 in a first report, unchanged in a correction.",
    )
    total_amount: Rupiah | None = strawberry.field(
        default=None, description="Or the total of all channels; it can never be below the platform's figure."
    )
    workers: int | None = strawberry.field(
        default=None, description="Number of workers; omitted in a correction: unchanged."
    )
    note: str | None = strawberry.field(default=None, description="Note; omitted in a correction: unchanged.")


@strawberry.type(description="Result of `submitOmzetReport`.")
class OmzetReportPayload:
    report: OmzetReport | None = strawberry.field(default=None, description="The report after this revision.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.type
class OmzetMutation:
    @strawberry.mutation(
        description="Submit or correct a month's omzet (owner, or an admin on their behalf); every revision is kept.",
        permission_classes=roles(R.UMKM_OWNER, R.ADMIN),
        extensions=[UserErrors()],
    )
    async def submit_omzet_report(self, info: Info, input: SubmitOmzetReportInput) -> OmzetReportPayload:
        report = await rules.submit_report(
            info.context,
            rules.Submission(
                umkm_id=decode_id(input.umkm_id, "Umkm", "umkmId"),
                period=input.period,
                offline_amount=input.offline_amount,
                other_online_amount=input.other_online_amount,
                total_amount=input.total_amount,
                workers=input.workers,
                note=input.note,
            ),
        )
        return OmzetReportPayload(report=OmzetReport.from_row(report))
