"""Orders as open data (OCDS): which orders are published, and which of their facts.

Published: OPD orders only; a personal order (an employee buying for themselves, kind PERSONAL) never is
(docs/PRIVACY.md, "Personal orders"). Of a published order: its number, status and times; the OPD; the seller's
name, NIB, scale and kecamatan (no street address, phone, owner or bank account); the lines as ordered; the
delivery date (BAST) without who signed for it; the payment's amount and date without its reference. Free text a
buyer typed (note, delivery address, reasons) is left out: it may name people.

Anyone may read it, signed in or not. Pages are keyset pages by placing time (Asia/Jakarta days), at most a year
per range."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from models.base import JAKARTA
from models.orders import Order, OrderItem, OrderKind, OrderStatus, Payment
from models.query import keyset_page
from models.registry import Category, Kecamatan, Opd, Umkm
from resolvers.common import DomainError

MAX_RANGE_DAYS = 366
MAX_PAGE = 500
PUBLISHED_KINDS = (OrderKind.OPD,)
ORDER_KEYSET = [("created_at", False), ("id", False)]
_READ = {"": Order, "umkm": Umkm, "umkm__kecamatan": Kecamatan, "opd": Opd, "opd__kecamatan": Kecamatan}


@dataclass
class PublicParty:
    key: str  # OPD code, or the UMKM's NIB
    name: str
    kecamatan: str
    scale: str | None = None


@dataclass
class PublicLine:
    name: str
    option: str | None
    unit: str
    unit_price: int
    quantity: int
    subtotal: int
    category_id: int
    category: str


@dataclass
class PublicOrder:
    id: int
    number: str
    status: OrderStatus
    source: str
    total: int
    created_at: dt.datetime
    updated_at: dt.datetime
    accepted_at: dt.datetime | None
    delivered_at: dt.datetime | None
    buyer: PublicParty
    supplier: PublicParty
    lines: list[PublicLine] = field(default_factory=list)
    paid_amount: int | None = None
    paid_on: dt.date | None = None


def check_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) Asia/Jakarta, in UTC; at most a year."""
    if end < start:
        raise DomainError("INVALID_RANGE", "`from` is after `to`.", "from")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise DomainError("RANGE_TOO_LONG", f"At most {MAX_RANGE_DAYS} days per request.", "to")
    lo = dt.datetime.combine(start, dt.time(), JAKARTA).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), JAKARTA).astimezone(dt.UTC)
    return lo, hi


async def published_orders(
    start: dt.date, end: dt.date, after: tuple[dt.datetime, int] | None, n: int
) -> tuple[list[PublicOrder], bool]:
    """One page of published orders placed between two Asia/Jakarta days, oldest first, after a keyset cursor
    (placing time, id); and whether more follow. Three statements: the orders with their parties, the lines, the
    payments."""
    lo, hi = check_range(start, end)
    if not 1 <= n <= MAX_PAGE:
        raise DomainError("BAD_PAGE", f"A page holds 1 to {MAX_PAGE} releases.", "limit")
    qs = Order.filter(kind__in=list(PUBLISHED_KINDS), created_at__gte=lo, created_at__lt=hi)
    cursor = None if after is None else [{"dt": after[0].isoformat()}, after[1]]
    rows, more = await keyset_page(qs, ORDER_KEYSET, n, cursor, _READ)
    ids = [r.id for r in rows]
    lines: dict[int, list[PublicLine]] = {i: [] for i in ids}
    if ids:
        items = (
            await OrderItem.filter(order_id__in=ids)
            .order_by("order_id", "id")
            .values("order_id", "name", "option", "unit", "unit_price", "quantity", "subtotal", "category_id")
        )
        names = dict(await Category.filter(id__in={i["category_id"] for i in items}).values_list("id", "name"))
        for i in items:
            lines[i["order_id"]].append(
                PublicLine(
                    name=i["name"],
                    option=i["option"],
                    unit=i["unit"],
                    unit_price=int(i["unit_price"]),
                    quantity=int(i["quantity"]),
                    subtotal=int(i["subtotal"]),
                    category_id=i["category_id"],
                    category=names.get(i["category_id"], ""),
                )
            )
    paid = (
        {p["order_id"]: p for p in await Payment.filter(order_id__in=ids).values("order_id", "amount", "paid_on")}
        if ids
        else {}
    )
    out = []
    for r in rows:
        u, o = r._umkm, r._opd
        p = paid.get(r.id)
        out.append(
            PublicOrder(
                id=r.id,
                number=r.number or "",
                status=OrderStatus(r.status),
                source=str(getattr(r.source, "value", r.source)),
                total=int(r.total),
                created_at=r.created_at,
                updated_at=r.updated_at,
                accepted_at=r.accepted_at,
                delivered_at=r.delivered_at,
                buyer=PublicParty(o.code, o.name, o._kecamatan.name),
                supplier=PublicParty(u.nib, u.name, u._kecamatan.name, str(getattr(u.scale, "value", u.scale))),
                lines=lines[r.id],
                paid_amount=int(p["amount"]) if p else None,
                paid_on=p["paid_on"] if p else None,
            )
        )
    return out, more
