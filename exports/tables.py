"""The tabular shape of each report: its arguments (as the GraphQL field's), who may ask for it (the field's own
permission classes, read from the schema), its columns, and its rows, read through the same rules as the field.

Rows come as an async iterator of lists, a page at a time: `orders` pages through `resolvers.orders.order_query` with
keyset cursors as the `orders` connection does, so a year of orders is never held in memory at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from exports.cells import Column
from models import orders as m
from models.orders import ORDER_READ
from models.query import keyset_page
from models.registry import Umkm
from resolvers import analytics, omzet
from resolvers import orders as order_rules
from resolvers.common import BadUserInput, Ctx, Unauthenticated
from schema import schema
from schema.orders import Order
from schema.relay import decode_id
from schema.scalars import FIRST_DATE, LAST_DATE

PAGE = 500  # rows read per statement while streaming
MAX_PARAM = 200  # characters of one query-string argument


class Refused(Exception):
    """The caller may not download this report (the GraphQL field's permission said no)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class _Info:
    """What a permission class reads of Strawberry's `Info`: the context."""

    def __init__(self, context: Any) -> None:
        self.context = context


def _query_field(python_name: str) -> Any:
    for f in schema.get_type_by_name("Query").fields:
        if f.python_name == python_name:
            return f
    raise LookupError(python_name)


def check_permission(field_name: str, ctx: Ctx) -> None:
    """The GraphQL field's own permission classes, in order, with its codes: the same answer as the API."""
    for cls in _query_field(field_name).permission_classes:
        permission = cls()
        try:
            allowed = permission.has_permission(None, _Info(ctx))
        except Unauthenticated as e:
            raise Refused(e.code, str(e)) from None
        if not allowed:
            raise Refused(permission.error_extensions["code"], permission.message)


# ---------------------------------------------------------------- arguments (as the GraphQL field takes them)


def _text(params: dict[str, str], name: str, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise BadUserInput(f"`{name}` is required.")
        return None
    if len(value) > MAX_PARAM or "\x00" in value:
        raise BadUserInput(f"`{name}` is too long.")
    return value


def _date(params: dict[str, str], name: str, required: bool = False) -> dt.date | None:
    value = _text(params, name, required)
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadUserInput(f"`{name}`: {value[:20]!r} is not a date like 2026-12-20.") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise BadUserInput(f"`{name}`: dates are between {FIRST_DATE} and {LAST_DATE}.")
    return day


def _int(params: dict[str, str], name: str, required: bool = False) -> int | None:
    value = _text(params, name, required)
    if value is None:
        return None
    if not value.lstrip("-").isdigit() or len(value) > 10:
        raise BadUserInput(f"`{name}` must be a whole number.")
    return int(value)


def _choice(params: dict[str, str], name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    value = _text(params, name)
    if value is None:
        return default
    if value not in choices:
        raise BadUserInput(f"`{name}` must be one of {', '.join(choices)}.")
    return value


def _id(params: dict[str, str], name: str, type_name: str, required: bool = False) -> int | None:
    value = _text(params, name, required)
    return None if value is None else decode_id(value, type_name, name)


# ---------------------------------------------------------------- the tables


Rows = AsyncIterator[list[list[Any]]]


@dataclass(frozen=True)
class Table:
    name: str  # the URL's name, e.g. "orders"
    field: str  # the GraphQL field's Python name, whose permission classes apply
    params: tuple[str, ...]  # its arguments, by their GraphQL names
    columns: tuple[Column, ...]
    prepare: Callable[[Ctx, dict[str, str]], Any]  # async (ctx, params) -> Rows; raises before the first byte

    def title(self, lang: str) -> str:
        return {"id": TITLES_ID, "en": TITLES_EN}[lang][self.name]


TITLES_ID = {
    "equity-report": "Laporan pemerataan",
    "sales-ranking": "Peringkat penjualan UMKM",
    "opd-spending": "Belanja OPD",
    "omzet-compliance": "Kepatuhan laporan omzet",
    "orders": "Pesanan",
}
TITLES_EN = {
    "equity-report": "Equity report",
    "sales-ranking": "UMKM sales ranking",
    "opd-spending": "OPD spending",
    "omzet-compliance": "Omzet reporting compliance",
    "orders": "Orders",
}


async def _once(rows: list[list[Any]]) -> Rows:
    yield rows


LORENZ = tuple(Column(f"lorenz{p}", f"Lorenz {p}%", f"Lorenz {p}%", "share") for p in range(0, 101, 10))
EQUITY_COLUMNS = (
    Column("periodFrom", "Dari tanggal", "From", "date"),
    Column("periodTo", "Sampai tanggal", "To", "date"),
    Column("members", "UMKM dihitung", "Members", "int"),
    Column("sellers", "UMKM yang menjual", "Sellers", "int"),
    Column("purchases", "Pesanan", "Purchases", "int"),
    Column("total", "Total penjualan (Rp)", "Total sales (Rp)", "rupiah"),
    Column("gini", "Gini", "Gini", "float"),
    Column("jain", "Indeks Jain", "Jain index", "float"),
    Column("theil", "Indeks Theil", "Theil index", "float"),
    Column("zeroSalesShare", "Porsi tanpa penjualan", "Zero-sales share", "share"),
    Column("top10Share", "Porsi 10% teratas", "Top 10% share", "share"),
    Column("coverageEfficiency", "Efisiensi jangkauan", "Coverage efficiency", "float"),
    Column("unmetFairShare", "Porsi adil tak terpenuhi", "Unmet fair share", "share"),
    *LORENZ,
)


async def _equity(ctx: Ctx, p: dict[str, str]) -> Rows:
    category = _id(p, "categoryId", "Category", True)
    start, end = _date(p, "periodFrom", True), _date(p, "periodTo", True)
    r = await analytics.equity_report(ctx, category, start, end)
    f = r.figures
    lorenz = list(f["lorenz"] or [None] * len(LORENZ))
    row = [start, end, r.members, r.sellers, r.purchases, round(f["total"] or 0), f["gini"], f["jain"], f["theil"]]
    row += [f["zero_share"], f["top10_share"], f["coverage_efficiency"], f["unmet_fair_share"], *lorenz]
    return _once([row])


RANKING_COLUMNS = (
    Column("rank", "Peringkat", "Rank", "int"),
    Column("umkm", "UMKM", "UMKM"),
    Column("nib", "NIB", "NIB"),
    Column("kecamatan", "Kecamatan", "Kecamatan"),
    Column("status", "Status", "Status"),
    Column("amount", "Penjualan (Rp)", "Sales (Rp)", "rupiah"),
    Column("orders", "Pesanan", "Orders", "int"),
    Column("opds", "OPD pembeli", "Buying OPD", "int"),
    Column("daysSinceVerification", "Hari sejak verifikasi", "Days since verification", "int"),
)


async def _ranking(ctx: Ctx, p: dict[str, str]) -> Rows:
    category = _id(p, "categoryId", "Category", True)
    start, end = _date(p, "periodFrom", True), _date(p, "periodTo", True)
    most = _choice(p, "order", ("MOST", "LEAST"), "MOST") == "MOST"
    ranked = await analytics.umkm_sales_ranking(ctx, category, start, end, most)
    return _ranking_rows(ranked)


async def _ranking_rows(ranked: list[analytics.SalesRankRow]) -> Rows:
    for at in range(0, len(ranked), PAGE):
        chunk = ranked[at : at + PAGE]
        umkms = {u.id: u for u in await Umkm.filter(id__in=[r.umkm_id for r in chunk]).select_related("kecamatan")}
        out = []
        for i, r in enumerate(chunk):
            u = umkms[r.umkm_id]
            status = u.status.value
            out.append(
                [
                    at + i + 1,
                    u.name,
                    u.nib,
                    u.kecamatan.name,
                    status,
                    r.amount,
                    r.orders,
                    r.opds,
                    r.days_since_verification,
                ]
            )
        yield out


SPENDING_COLUMNS = (
    Column("opdCode", "Kode OPD", "OPD code"),
    Column("opd", "OPD", "OPD"),
    Column("year", "Tahun", "Year", "int"),
    Column("spend", "Belanja (Rp)", "Spend (Rp)", "rupiah"),
    Column("orders", "Pesanan", "Orders", "int"),
    Column("umkmReached", "UMKM terjangkau", "UMKM reached", "int"),
    Column("pagu", "Pagu (Rp)", "Pagu (Rp)", "rupiah"),
    Column("paguShare", "Porsi pagu", "Share of pagu", "share"),
    Column("meetsSmallBusinessRule", "Memenuhi aturan 40%", "Meets the 40% rule", "bool"),
    Column("fairnessListShare", "Porsi dari daftar pemerataan", "Share from the fairness list", "share"),
    Column("medianDaysToPay", "Median hari sampai bayar", "Median days to pay", "float"),
    Column("unpaidDelivered", "Diterima belum dibayar", "Delivered, unpaid", "int"),
    Column("staffPurchases", "Pembelian pribadi pegawai", "Staff purchases", "int"),
    Column("staffSpend", "Belanja pribadi pegawai (Rp)", "Staff spend (Rp)", "rupiah"),
)


async def _spending(ctx: Ctx, p: dict[str, str]) -> Rows:
    year = _int(p, "year", True)
    rows = [
        [
            s.opd.code,
            s.opd.name,
            s.year,
            s.spend,
            s.orders,
            s.umkm_reached,
            s.pagu,
            s.pagu_share,
            s.meets_small_business_rule,
            s.fairness_list_share,
            s.median_days_to_pay,
            s.unpaid_delivered,
            s.staff_purchases,
            s.staff_spend,
        ]
        for s in await analytics.opd_spending(ctx, year)
    ]
    return _once(rows)


COMPLIANCE_COLUMNS = (
    Column("period", "Bulan", "Month"),
    Column("kecamatanCode", "Kode kecamatan", "Kecamatan code"),
    Column("kecamatan", "Kecamatan", "Kecamatan"),
    Column("expected", "Wajib lapor", "Expected", "int"),
    Column("onTime", "Tepat waktu", "On time", "int"),
    Column("late", "Terlambat", "Late", "int"),
    Column("missing", "Belum lapor", "Missing", "int"),
)


async def _compliance(ctx: Ctx, p: dict[str, str]) -> Rows:
    c = await omzet.compliance(ctx, _text(p, "period", True))
    rows = [
        [c.period, k.kecamatan.code, k.kecamatan.name, k.expected, k.on_time, k.late, k.missing] for k in c.by_kecamatan
    ]
    rows.append([c.period, None, None, c.expected, c.on_time, c.late, c.missing])  # the city: the sums
    return _once(rows)


ORDER_COLUMNS = (
    Column("number", "Nomor", "Number"),
    Column("kind", "Jenis", "Kind"),
    Column("status", "Status", "Status"),
    Column("source", "Sumber", "Source"),
    Column("createdAt", "Dipesan", "Placed at", "datetime"),
    Column("neededBy", "Dibutuhkan", "Needed by", "date"),
    Column("opdCode", "Kode OPD", "OPD code"),
    Column("opd", "OPD", "OPD"),
    Column("umkm", "UMKM", "UMKM"),
    Column("nib", "NIB", "NIB"),
    Column("total", "Total (Rp)", "Total (Rp)", "rupiah"),
    Column("acceptedAt", "Diterima penjual", "Accepted at", "datetime"),
    Column("shippedAt", "Dikirim", "Shipped at", "datetime"),
    Column("deliveredAt", "Diterima (BAST)", "Delivered (BAST) at", "datetime"),
    Column("receivedBy", "Penerima", "Received by"),
    Column("paidAt", "Dibayar", "Paid at", "datetime"),
    Column("daysToPay", "Hari sampai bayar", "Days to pay", "int"),
    Column("deliveryAddress", "Alamat kirim", "Delivery address"),
    Column("note", "Catatan", "Note"),
    Column("closedReason", "Alasan ditutup", "Closed reason"),
)
ORDER_KEYSET = [("id", True)]  # the `orders` connection's order: newest first, by id


async def _orders(ctx: Ctx, p: dict[str, str]) -> Rows:
    status = _choice(p, "status", tuple(s.value for s in m.OrderStatus))
    kind = _choice(p, "kind", tuple(k.value for k in m.OrderKind))
    f = order_rules.OrderFilter(
        status=m.OrderStatus(status) if status else None,
        kind=m.OrderKind(kind) if kind else None,
        opd_id=_id(p, "opdId", "Opd"),
        umkm_id=_id(p, "umkmId", "Umkm"),
        created_from=_date(p, "createdFrom"),
        created_to=_date(p, "createdTo"),
    )
    qs = order_rules.order_query(ctx, f)  # whose orders: the same rule as the `orders` field
    return _order_pages(qs)


async def _order_pages(qs: Any) -> Rows:
    cursor = None
    while True:
        rows, more = await keyset_page(qs, ORDER_KEYSET, PAGE, cursor, ORDER_READ)
        if not rows:
            return
        out = []
        for row in rows:
            o = Order.from_row(row)  # the API's own shape: the same times (Asia/Jakarta) and days to pay
            out.append(
                [
                    o.number,
                    o.kind.value,
                    o.status.value,
                    o.source.value,
                    o.created_at,
                    o.needed_by,
                    o.opd.code,
                    o.opd.name,
                    o.umkm.name,
                    o.umkm.nib,
                    o.total,
                    o.accepted_at,
                    o.shipped_at,
                    o.delivered_at,
                    o.received_by,
                    o.paid_at,
                    o.days_to_pay,
                    o.delivery_address,
                    o.note,
                    o.closed_reason,
                ]
            )
        yield out
        if not more:
            return
        cursor = [rows[-1].id]


TABLES = {
    t.name: t
    for t in (
        Table("equity-report", "equity_report", ("categoryId", "periodFrom", "periodTo"), EQUITY_COLUMNS, _equity),
        Table(
            "sales-ranking",
            "umkm_sales_ranking",
            ("categoryId", "periodFrom", "periodTo", "order"),
            RANKING_COLUMNS,
            _ranking,
        ),
        Table("opd-spending", "opd_spending", ("year",), SPENDING_COLUMNS, _spending),
        Table("omzet-compliance", "omzet_compliance", ("period",), COMPLIANCE_COLUMNS, _compliance),
        Table(
            "orders",
            "orders",
            ("status", "kind", "opdId", "umkmId", "createdFrom", "createdTo"),
            ORDER_COLUMNS,
            _orders,
        ),
    )
}


async def open_table(table: Table, ctx: Ctx, params: dict[str, str]) -> Rows:
    """Checks who asks and what, and runs the rule; the rows follow. Every refusal happens here, before a byte."""
    check_permission(table.field, ctx)
    unknown = sorted(set(params) - set(table.params))
    if unknown:
        raise BadUserInput(
            f"`{unknown[0][:40]}` is not an argument of {table.name}; it takes {', '.join(table.params)}."
        )
    return await table.prepare(ctx, params)
