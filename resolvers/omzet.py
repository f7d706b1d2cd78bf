"""Omzet: monthly reports with revisions, reconciliation with platform sales, scale, compliance, city aggregates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.base import JAKARTA, Role, Scale, ScaleSource, UmkmStatus
from models.omzet import OmzetReport, OmzetRevision, UmkmMonthlySales
from models.query import fetch_all
from models.registry import Category, Kecamatan, Umkm
from resolvers import privacy
from resolvers.categories import category_roots
from resolvers.common import AccessError, Ctx, DomainError, Validator, label
from resolvers.invalidation import invalidate

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_CHANNEL = 100_000_000_000  # Rp100 miliar per channel per month
# PP 7/2021, annual sales
SCALE_BOUNDS = ((2_000_000_000, Scale.MIKRO), (15_000_000_000, Scale.KECIL), (50_000_000_000, Scale.MENENGAH))


# ---------------------------------------------------------------- periods


def parse_period(value: str, field: str = "period") -> tuple[int, int]:
    m = PERIOD_RE.match(value or "")
    if not m:
        raise DomainError("INVALID_PERIOD", f"{label(field)} must be a month as YYYY-MM.", field)
    year = int(m.group(1))
    if not 2000 <= year <= 2100:
        raise DomainError("INVALID_PERIOD", f"{label(field)} must be a month between 2000-01 and 2100-12.", field)
    return year, int(m.group(2))


def period_of(day: dt.date | dt.datetime) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift(period: str, months: int) -> str:
    y, m = parse_period(period)
    n = y * 12 + (m - 1) + months
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def periods_back(last: str, count: int) -> list[str]:
    """`count` months ending with `last`, oldest first."""
    return [shift(last, -i) for i in range(count - 1, -1, -1)]


def current_period(ctx: Ctx) -> str:
    return period_of(ctx.clock.now().astimezone(JAKARTA))


def due_at(period: str, due_day: int) -> dt.datetime:
    """End of the due day (Asia/Jakarta) in the month after the period."""
    nxt = shift(period, 1)
    y, m = parse_period(nxt)
    return dt.datetime(y, m, due_day, 23, 59, 59, 999999, tzinfo=JAKARTA)


def classify(annual: int) -> Scale:
    for bound, scale in SCALE_BOUNDS:
        if annual <= bound:
            return scale
    return Scale.BESAR


# ---------------------------------------------------------------- access


def _may_act_for(ctx: Ctx, umkm_id: int) -> bool:
    """The owner, or an admin on their behalf (True); raises for anyone else's UMKM. Roles: the field's."""
    p = ctx.principal
    if p.is_admin:
        return True
    if p.owns_umkm(umkm_id):
        return False
    raise AccessError("Only the UMKM's owner (or an admin on their behalf) may do this.")


# ---------------------------------------------------------------- reading


async def platform_sales(umkm_id: int, period: str) -> tuple[int, int]:
    row = await UmkmMonthlySales.get_or_none(umkm_id=umkm_id, period=period)
    return (row.amount, row.orders) if row else (0, 0)


@dataclass
class Draft:
    umkm: Umkm
    period: str
    platform_amount: int
    platform_orders: int
    report: OmzetReport | None


async def omzet_draft(ctx: Ctx, umkm_id: int, period: str) -> Draft:
    _may_act_for(ctx, umkm_id)
    parse_period(period)
    umkm = await Umkm.get_or_none(id=umkm_id)
    if umkm is None:
        raise DomainError("NOT_FOUND", "No such UMKM.", "umkmId")
    amount, orders = await platform_sales(umkm_id, period)
    report = await OmzetReport.get_or_none(umkm_id=umkm_id, period=period)
    return Draft(umkm=umkm, period=period, platform_amount=amount, platform_orders=orders, report=report)


@dataclass
class ReportFilter:
    umkm_id: int | None = None
    period_from: str | None = None
    period_to: str | None = None


def report_query(ctx: Ctx, f: ReportFilter) -> QuerySet[OmzetReport]:
    p = ctx.principal
    qs = OmzetReport.all() if p.sees_everything else OmzetReport.filter(umkm_id__in=list(p.umkm_ids) or [-1])
    if f.umkm_id is not None:
        qs = qs.filter(umkm_id=f.umkm_id)
    if f.period_from:
        parse_period(f.period_from, "from")
        qs = qs.filter(period__gte=f.period_from)
    if f.period_to:
        parse_period(f.period_to, "to")
        qs = qs.filter(period__lte=f.period_to)
    return qs


async def get_report(ctx: Ctx, report_id: int) -> OmzetReport | None:
    p = ctx.principal
    if not (p.sees_everything or p.role is Role.UMKM_OWNER):
        return None
    report = await OmzetReport.get_or_none(id=report_id)
    if report is None or not (p.sees_everything or p.owns_umkm(report.umkm_id)):
        return None
    return report


async def revisions_for(report_ids: list[int]) -> list[list[OmzetRevision]]:
    grouped: dict[int, list[OmzetRevision]] = {i: [] for i in report_ids}
    for r in await OmzetRevision.filter(report_id__in=list(set(report_ids))).order_by("report_id", "number"):
        grouped[r.report_id].append(r)
    return [grouped[i] for i in report_ids]


# ---------------------------------------------------------------- submitting


@dataclass
class Submission:
    umkm_id: int
    period: str
    offline_amount: int | None = None  # None: 0 in a first report, the previous figure in a correction (or from total)
    other_online_amount: int | None = None  # None: 0 in a first report, the previous figure in a correction
    total_amount: int | None = None
    workers: int | None = None
    note: str | None = None


async def submit_report(ctx: Ctx, s: Submission) -> OmzetReport:
    """Submit or correct a month's report; a correction is a new revision, nothing is overwritten or lost."""
    on_behalf = _may_act_for(ctx, s.umkm_id)
    v = Validator()
    if not PERIOD_RE.match(s.period or ""):
        v.add("period", "INVALID_PERIOD", "period must be a month as YYYY-MM.")
    elif s.period >= current_period(ctx):
        v.add("period", "PERIOD_NOT_FINISHED", f"{s.period} is not finished yet: report it from next month.")
    v.rupiah("offlineAmount", s.offline_amount, maximum=MAX_CHANNEL)
    v.rupiah("otherOnlineAmount", s.other_online_amount, maximum=MAX_CHANNEL)
    v.rupiah("totalAmount", s.total_amount, maximum=3 * MAX_CHANNEL)
    v.integer("workers", s.workers, minimum=0, maximum=100_000)
    v.text("note", s.note, max_length=2000, required=False)
    v.raise_if_any()
    now = ctx.clock.now()
    async with in_transaction():
        umkm = await Umkm.get_or_none(id=s.umkm_id)
        if umkm is None:
            raise DomainError("NOT_FOUND", "No such UMKM.", "umkmId")
        if s.period < period_of(umkm.created_at.astimezone(JAKARTA)):
            raise DomainError("BEFORE_UMKM_EXISTED", f"The UMKM was registered after {s.period}.", "period")
        platform, _ = await platform_sales(s.umkm_id, s.period)
        report = await OmzetReport.get_or_none(umkm_id=s.umkm_id, period=s.period)
        # A correction keeps what it does not send: only the amounts given change.
        other = s.other_online_amount
        if other is None:
            other = report.other_online_amount if report is not None else 0
        if s.total_amount is not None:
            if s.total_amount < platform:
                raise DomainError(
                    "TOTAL_BELOW_PLATFORM",
                    f"The total Rp{s.total_amount:,} is below the platform sales of Rp{platform:,} in {s.period}.",
                    "totalAmount",
                )
            offline = s.total_amount - platform - other
            if s.offline_amount is not None and s.offline_amount != offline:
                raise DomainError(
                    "TOTAL_MISMATCH",
                    f"Platform Rp{platform:,} + other online Rp{other:,} + offline Rp{s.offline_amount:,} "
                    f"is not the total Rp{s.total_amount:,}.",
                    "totalAmount",
                )
            if offline < 0:
                raise DomainError(
                    "TOTAL_BELOW_PLATFORM",
                    f"The total Rp{s.total_amount:,} is below platform Rp{platform:,} plus other online Rp{other:,}.",
                    "totalAmount",
                )
        elif s.offline_amount is not None:
            offline = s.offline_amount
        elif report is not None:
            offline = report.offline_amount
        else:
            raise DomainError("REQUIRED", "Give the offline amount (or the total of all channels).", "offlineAmount")
        if offline > MAX_CHANNEL:
            raise DomainError("TOO_LARGE", f"offline must be at most Rp{MAX_CHANNEL:,}.", "offlineAmount")
        total = platform + other + offline
        figures = {
            "platform_amount": platform,
            "other_online_amount": other,
            "offline_amount": offline,
            "total_amount": total,
            "workers": s.workers if s.workers is not None or report is None else report.workers,
            "note": (s.note or "").strip() if s.note is not None or report is None else report.note,
        }
        if report is None:
            report = await OmzetReport.create(
                umkm_id=s.umkm_id,
                period=s.period,
                first_submitted_at=now,
                late=now > due_at(s.period, ctx.settings.omzet_due_day),
                revision_count=1,
                updated_at=now,
                **figures,
            )
            number = 1
        else:
            number = report.revision_count + 1
            moved = await OmzetReport.filter(id=report.id, revision_count=report.revision_count).update(
                revision_count=number, updated_at=now, **figures
            )
            if not moved:
                raise DomainError("CONFLICT", "Another correction was saved meanwhile; reload and try again.", "period")
        await OmzetRevision.create(
            report_id=report.id, number=number, submitted_by_id=ctx.principal.user_id, on_behalf=on_behalf, **figures
        )
        await update_scale(umkm)
    return await OmzetReport.get(id=report.id)


async def update_scale(umkm: Umkm) -> None:
    """Scale from the last twelve months of reported totals (REPORTED), or annualised from fewer (ESTIMATED)."""
    latest = await OmzetReport.filter(umkm_id=umkm.id).order_by("-period").first()
    if latest is None:
        return
    months = periods_back(latest.period, 12)
    totals = await OmzetReport.filter(umkm_id=umkm.id, period__in=months).values_list("total_amount", flat=True)
    n = len(totals)
    annual = sum(totals) if n == 12 else sum(totals) * 12 // n
    source = ScaleSource.REPORTED if n == 12 else ScaleSource.ESTIMATED
    await Umkm.filter(id=umkm.id).update(scale=classify(annual), scale_source=source)
    await invalidate()  # the UMKM's scale and need: every category it may be eligible in


# ---------------------------------------------------------------- compliance


REPORTING = (UmkmStatus.VERIFIED, UmkmStatus.SUSPENDED)


def _expected_q(period: str) -> Q:
    """UMKM expected to report for a month: verified (or since suspended), registered before the month ended."""
    y, m = parse_period(shift(period, 1))
    end = dt.datetime(y, m, 1, tzinfo=JAKARTA)
    return Q(status__in=list(REPORTING), created_at__lt=end)


@dataclass
class KecamatanCompliance:
    kecamatan: Kecamatan
    expected: int
    on_time: int
    late: int
    missing: int


@dataclass
class Compliance:
    period: str
    due: dt.datetime
    expected: int
    on_time: int
    late: int
    missing: int
    by_kecamatan: list[KecamatanCompliance]


async def compliance(ctx: Ctx, period: str) -> Compliance:
    parse_period(period)
    expected_q = _expected_q(period)
    pop = {
        r["kecamatan_id"]: r["n"]
        for r in await Umkm.filter(expected_q)
        .annotate(n=Count("id"))
        .group_by("kecamatan_id")
        .values("kecamatan_id", "n")
    }
    reported: dict[tuple[int, bool], int] = {}
    rows = (
        await OmzetReport.filter(period=period, umkm_id__in=Subquery(Umkm.filter(expected_q).values("id")))
        .annotate(n=Count("id"))
        .group_by("umkm__kecamatan_id", "late")
        .values("umkm__kecamatan_id", "late", "n")
    )
    for r in rows:
        reported[(r["umkm__kecamatan_id"], bool(r["late"]))] = r["n"]
    kecs = {k.id: k for k in await Kecamatan.all()}
    by = []
    for kid in sorted(pop, key=lambda k: kecs[k].code):
        on_time, late = reported.get((kid, False), 0), reported.get((kid, True), 0)
        by.append(KecamatanCompliance(kecs[kid], pop[kid], on_time, late, pop[kid] - on_time - late))
    return Compliance(
        period=period,
        due=due_at(period, ctx.settings.omzet_due_day),
        expected=sum(pop.values()),
        on_time=sum(b.on_time for b in by),
        late=sum(b.late for b in by),
        missing=sum(b.missing for b in by),
        by_kecamatan=by,
    )


def compliance_umkm_query(ctx: Ctx, period: str, status: str, kecamatan_id: int | None) -> QuerySet[Umkm]:
    parse_period(period)
    qs = Umkm.filter(_expected_q(period))
    if kecamatan_id is not None:
        qs = qs.filter(kecamatan_id=kecamatan_id)
    reports = OmzetReport.filter(period=period)
    if status == "MISSING":
        return qs.filter(id__not_in=Subquery(reports.values("umkm_id")))
    return qs.filter(id__in=Subquery(reports.filter(late=status == "LATE").values("umkm_id")))


async def streaks(ctx: Ctx, umkm_ids: list[int]) -> list[int]:
    """Months in a row reported, back from the last finished month (or the one before while it is not yet due)."""
    now = ctx.clock.now()
    last = shift(current_period(ctx), -1)
    if now <= due_at(last, ctx.settings.omzet_due_day):
        grace = last
    else:
        grace = None
    window = periods_back(last, 60)
    have: dict[int, set[str]] = {i: set() for i in umkm_ids}
    for uid, period in await OmzetReport.filter(umkm_id__in=list(set(umkm_ids)), period__gte=window[0]).values_list(
        "umkm_id", "period"
    ):
        have[uid].add(period)
    out = []
    for uid in umkm_ids:
        start = last if (last in have[uid] or grace is None) else shift(last, -1)
        n, p = 0, start
        while p in have[uid]:
            n, p = n + 1, shift(p, -1)
        out.append(n)
    return out


# ---------------------------------------------------------------- aggregates


@dataclass
class OmzetGroup:
    key: str
    label: str
    reporters: int
    reports: int
    total: int | None
    median: int | None
    platform_share: float | None
    withheld: bool
    withheld_cells: int
    withheld_reports: int


GROUPINGS = ("KECAMATAN", "CATEGORY", "SCALE")  # the base grids, each crossed with the month; MONTH sums one of them


async def _primary_categories() -> dict[int, int]:
    """Each UMKM's primary top-level category: the one most of its products are in (ties: the lowest id). One cell
    per UMKM in the CATEGORY grid, so the grid is a partition like the others."""
    roots = await category_roots()
    count: dict[int, dict[int, int]] = {}
    for r in await fetch_all(
        'SELECT "umkm_id" AS umkm_id, "category_id" AS category_id, COUNT(*) AS n FROM "product" '
        'GROUP BY "umkm_id", "category_id"'
    ):
        per = count.setdefault(r["umkm_id"], {})
        root = roots.get(r["category_id"], r["category_id"])
        per[root] = per.get(root, 0) + int(r["n"])
    return {u: min(per, key=lambda c: (-per[c], c)) for u, per in count.items()}


async def summary(ctx: Ctx, period_from: str, period_to: str, group_by: str) -> list[OmzetGroup]:
    """Reporters, reports, sum, median and platform share per group for months `from`..`to`: sums of the published
    base cells (month × kecamatan, primary category or scale; resolvers/privacy.py, docs/PRIVACY.md). Which reports
    of a month are published depends on that month alone, never on the range or the grouping asked."""
    parse_period(period_from, "from")
    parse_period(period_to, "to")
    if period_from > period_to:
        raise DomainError("INVALID_RANGE", "`from` is after `to`.", "from")
    if group_by not in (*GROUPINGS, "MONTH"):
        raise DomainError("INVALID_GROUP", "Group by KECAMATAN, CATEGORY, SCALE or MONTH.", "groupBy")
    rows = await fetch_all(
        """SELECT r."period" AS period, r."umkm_id" AS umkm_id, r."total_amount" AS t, r."platform_amount" AS pf,
                  u."kecamatan_id" AS kecamatan, u."scale" AS scale
           FROM "omzet_report" r JOIN "umkm" u ON u."id" = r."umkm_id"
           WHERE r."period" >= ? AND r."period" <= ?""",
        [period_from, period_to],
    )
    primary = await _primary_categories()
    cells = {
        "KECAMATAN": lambda r: r["kecamatan"],
        "CATEGORY": lambda r: primary.get(r["umkm_id"]),  # None: no product, a cell of its own never listed
        "SCALE": lambda r: str(r["scale"]),
        "MONTH": lambda r: r["period"],
    }
    by_month: dict[str, list[dict]] = {}
    for r in rows:
        by_month.setdefault(r["period"], []).append(r)
    published: set[int] = set()  # ids of the published rows
    for month_rows in by_month.values():
        values = [int(r["t"]) for r in month_rows]
        grids = [(lambda i, f=cells[g], rs=month_rows: f(rs[i])) for g in GROUPINGS]
        alive = privacy.published_reports(values, grids)
        published |= {id(month_rows[i]) for i in alive}
    key_of = cells[group_by]
    groups: dict = {}
    for r in rows:
        k = key_of(r)
        if k is not None:
            groups.setdefault(k, []).append(r)
    labels: dict[str, str] = {}
    if group_by == "KECAMATAN":
        labels = {str(k.id): k.name for k in await Kecamatan.all()}
    elif group_by == "CATEGORY":
        labels = {str(c.id): c.name for c in await Category.filter(parent_id=None)}
    out = []
    for k in sorted(groups):
        members = groups[k]
        shown = [r for r in members if id(r) in published]
        total = sum(int(r["t"]) for r in shown)
        withheld = not shown
        months = {r["period"] for r in members}
        months_shown = {r["period"] for r in shown}
        out.append(
            OmzetGroup(
                key=str(k),
                label=labels.get(str(k), str(k)),
                reporters=len({r["umkm_id"] for r in members}),
                reports=len(members),
                total=None if withheld else total,
                median=privacy.median_of([int(r["t"]) for r in shown], len({r["umkm_id"] for r in shown})),
                platform_share=None
                if withheld or total == 0
                else round(sum(int(r["pf"] or 0) for r in shown) / total, 6),
                withheld=withheld,
                withheld_cells=len(months - months_shown),
                withheld_reports=len(members) - len(shown),
            )
        )
    return out


def low_income_query(ctx: Ctx, period: str, threshold: int, months: int) -> QuerySet[Umkm]:
    """UMKM whose reported total stayed below `threshold` in each of the `months` months ending with `period`."""
    parse_period(period)
    v = Validator()
    v.integer("months", months, minimum=1, maximum=24)
    v.rupiah("threshold", threshold, minimum=1)
    v.raise_if_any()
    below = (
        OmzetReport.filter(period__in=periods_back(period, months), total_amount__lt=threshold)
        .annotate(n=Count("id"))
        .group_by("umkm_id")
        .filter(n=months)
        .values("umkm_id")
    )
    return Umkm.filter(id__in=Subquery(below))


@dataclass
class KecamatanLowIncome:
    kecamatan: Kecamatan
    expected: int
    low_income: int


async def low_income_by_kecamatan(ctx: Ctx, period: str, threshold: int, months: int) -> list[KecamatanLowIncome]:
    """The intervention list counted per kecamatan (every one of the 31, by code), beside the UMKM expected to report
    for `period`: counts only, no amounts (the list itself names the UMKM to the same callers)."""
    below = low_income_query(ctx, period, threshold, months)  # validates the arguments
    low = {
        r["kecamatan_id"]: r["n"]
        for r in await below.annotate(n=Count("id")).group_by("kecamatan_id").values("kecamatan_id", "n")
    }
    pop = {
        r["kecamatan_id"]: r["n"]
        for r in await Umkm.filter(_expected_q(period))
        .annotate(n=Count("id"))
        .group_by("kecamatan_id")
        .values("kecamatan_id", "n")
    }
    return [KecamatanLowIncome(k, pop.get(k.id, 0), low.get(k.id, 0)) for k in await Kecamatan.all().order_by("code")]
