"""Orders as OCDS 1.1 release packages: each published order is a contracting process (resolvers/open_data.py says
which orders and which of their facts). The OPD is the buyer and payer, the UMKM the supplier and payee (identified
by its NIB, addressed down to its kecamatan); the order is the award and, once the seller accepted it, the contract;
the delivery receipt (BAST) is a met delivery milestone of its implementation and the payment a transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

from models.base import JAKARTA
from models.orders import OrderStatus
from resolvers.common import DomainError
from resolvers.open_data import PublicOrder, PublicParty, published_orders

VERSION = "1.1"
CURRENCY = "IDR"
PUBLISHER = "Pemerintah Kota Surabaya — Pasar UMKM"
CITY = "Kota Surabaya"
COUNTRY = "Indonesia"
NIB_SCHEME = "ID-NIB"  # Nomor Induk Berusaha (OSS)
OPD_SCHEME = "X-SURABAYA-OPD"  # the city's own codes of its departments
CATEGORY_SCHEME = "X-PASAR-KATEGORI"

AWARD_STATUS = {
    OrderStatus.SUBMITTED: "pending",
    OrderStatus.ACCEPTED: "active",
    OrderStatus.SHIPPED: "active",
    OrderStatus.DELIVERED: "active",
    OrderStatus.PAID: "active",
    OrderStatus.REJECTED: "unsuccessful",
    OrderStatus.CANCELLED: "cancelled",
}
CONTRACT_STATUS = {
    OrderStatus.ACCEPTED: "active",
    OrderStatus.SHIPPED: "active",
    OrderStatus.DELIVERED: "active",
    OrderStatus.PAID: "terminated",  # delivered and paid: the contract is complete
    OrderStatus.CANCELLED: "cancelled",
}


def when(value: dt.datetime | dt.date) -> str:
    """An OCDS date-time: ISO 8601 with the Asia/Jakarta offset (a date is its Jakarta midnight)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), JAKARTA)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(JAKARTA).isoformat()


def _money(amount: int) -> dict:
    return {"amount": amount, "currency": CURRENCY}


def _buyer_id(p: PublicParty) -> str:
    return f"{OPD_SCHEME}-{p.key}"


def _supplier_id(p: PublicParty) -> str:
    return f"{NIB_SCHEME}-{p.key}"


def _address(p: PublicParty) -> dict:
    return {"locality": f"Kecamatan {p.kecamatan}", "region": CITY, "countryName": COUNTRY}


def _parties(o: PublicOrder) -> list[dict]:
    buyer = {
        "id": _buyer_id(o.buyer),
        "name": o.buyer.name,
        "identifier": {"scheme": OPD_SCHEME, "id": o.buyer.key, "legalName": o.buyer.name},
        "address": _address(o.buyer),
        "roles": ["buyer", "payer"],
    }
    supplier = {
        "id": _supplier_id(o.supplier),
        "name": o.supplier.name,
        "address": _address(o.supplier),
        "roles": ["supplier", "payee"],
        "details": {"scale": o.supplier.scale},
    }
    if not o.supplier.key.startswith("~"):  # a released NIB (docs/API.md) identifies nothing
        supplier["identifier"] = {"scheme": NIB_SCHEME, "id": o.supplier.key, "legalName": o.supplier.name}
    return [buyer, supplier]


def _items(o: PublicOrder) -> list[dict]:
    return [
        {
            "id": str(n),
            "description": f"{line.name} ({line.option})" if line.option else line.name,
            "classification": {"scheme": CATEGORY_SCHEME, "id": str(line.category_id), "description": line.category},
            "quantity": line.quantity,
            "unit": {"name": line.unit, "value": _money(line.unit_price)},
        }
        for n, line in enumerate(o.lines, start=1)
    ]


def release(o: PublicOrder, prefix: str) -> dict:
    """One order's current state as a release: award always; contract once accepted; implementation once delivered."""
    ocid = f"{prefix}-{o.id}"
    buyer = {"id": _buyer_id(o.buyer), "name": o.buyer.name}
    supplier = {"id": _supplier_id(o.supplier), "name": o.supplier.name}
    items = _items(o)
    tags = ["award"]
    award = {
        "id": f"{ocid}-award",
        "title": o.number,
        "status": AWARD_STATUS[o.status],
        "date": when(o.created_at),
        "value": _money(o.total),
        "suppliers": [supplier],
        "items": items,
    }
    out: dict[str, Any] = {
        "ocid": ocid,
        "id": f"{ocid}-{o.status.value.lower()}",
        "date": when(o.updated_at),
        "tag": tags,
        "initiationType": "tender",
        "language": "id",
        "parties": _parties(o),
        "buyer": buyer,
        "awards": [award],
    }
    if o.accepted_at is not None and o.status in CONTRACT_STATUS:
        tags.append("contract")
        contract: dict[str, Any] = {
            "id": f"{ocid}-contract",
            "awardID": award["id"],
            "title": o.number,
            "status": CONTRACT_STATUS[o.status],
            "value": _money(o.total),
            "items": items,
            "dateSigned": when(o.accepted_at),
        }
        implementation: dict[str, Any] = {}
        if o.delivered_at is not None:
            implementation["milestones"] = [
                {
                    "id": f"{ocid}-bast",
                    "title": "Berita acara serah terima (BAST)",
                    "type": "delivery",
                    "status": "met",
                    "dateMet": when(o.delivered_at),
                }
            ]
        if o.paid_on is not None and o.paid_amount is not None:
            implementation["transactions"] = [
                {
                    "id": f"{ocid}-payment",
                    "date": when(o.paid_on),
                    "value": _money(o.paid_amount),
                    "payer": buyer,
                    "payee": supplier,
                }
            ]
        if implementation:
            tags.append("implementation")
            contract["implementation"] = implementation
        out["contracts"] = [contract]
    return out


def package_head(uri: str, published: dt.datetime) -> dict:
    return {
        "uri": uri,
        "version": VERSION,
        "publishedDate": when(published),
        "publisher": {"name": PUBLISHER},
    }


def package(uri: str, published: dt.datetime, releases: list[dict]) -> dict:
    return {**package_head(uri, published), "releases": releases}


def no_releases(start: dt.date, end: dt.date) -> DomainError:
    """A range (or the rest of it after a cursor) without a published order has no package: an OCDS 1.1 release
    package holds at least one release (`minItems: 1`), so the answer is this refusal instead of an invalid package."""
    return DomainError(
        "NO_RELEASES",
        "No published order was placed from {start} to {end} (after the cursor, if one was given); an OCDS 1.1 "
        "release package holds at least one release.",
        "from",
        start=start.isoformat(),
        end=end.isoformat(),
    )


async def page(
    start: dt.date, end: dt.date, after: tuple[dt.datetime, int] | None, limit: int, prefix: str
) -> tuple[list[dict], tuple[dt.datetime, int] | None]:
    """A page of releases (at least one) and the cursor after it (None on the last page); `no_releases` when there
    is none."""
    rows, more = await published_orders(start, end, after, limit)
    if not rows:
        raise no_releases(start, end)
    releases = [release(o, prefix) for o in rows]
    return releases, ((rows[-1].created_at, rows[-1].id) if more else None)


async def all_releases(start: dt.date, end: dt.date, prefix: str, per_page: int = 500) -> AsyncIterator[dict]:
    """Every release of the range, a page at a time. The first page is read before this returns, so that a range
    that is not valid or holds no published order (`no_releases`) is refused before anything is written."""
    first, after = await page(start, end, None, per_page, prefix)

    async def releases() -> AsyncIterator[dict]:
        nonlocal after
        for r in first:
            yield r
        while after is not None:
            more, after = await page(start, end, after, per_page, prefix)
            for r in more:
                yield r

    return releases()


async def write_package(out: Any, head: dict, releases: AsyncIterator[dict]) -> int:
    """Writes a package to a text stream a release at a time (a year of orders never sits in memory); returns how
    many releases it holds."""
    text = json.dumps(head, ensure_ascii=False, indent=1)
    out.write(text[: text.rindex("}")].rstrip() + ',\n "releases": [')
    n = 0
    async for r in releases:
        out.write(("\n  " if n == 0 else ",\n  ") + json.dumps(r, ensure_ascii=False))
        n += 1
    out.write("\n ]\n}\n")
    return n
