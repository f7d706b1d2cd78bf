"""Small pieces shared by the domain schema modules."""

from __future__ import annotations

import datetime as dt

import strawberry

from models import base
from models import orders as order_models
from models.base import JAKARTA


def jakarta(value: dt.datetime | None) -> dt.datetime | None:
    """Stored in UTC, shown in Asia/Jakarta (WIB, +07:00)."""
    return value.astimezone(JAKARTA) if value is not None else None


def _enum(cls, description: str, **values: str):
    """`strawberry.enum` for an enum of the models, with a description for each value (the models stay free of
    GraphQL); every value must have one."""
    wrapped = strawberry.enum(cls, description=description)
    definition = wrapped.__strawberry_definition__
    if set(values) != {v.name for v in definition.values}:
        raise ValueError(f"{cls.__name__}: describe each value once: {sorted(v.name for v in definition.values)}")
    for v in definition.values:
        v.description = values[v.name]
    return wrapped


Role = _enum(
    base.Role,
    "What a user does on the platform.",
    ADMIN="Dinkopumdag staff: verifies UMKM; manages OPD, categories, accounts and partner keys; sees everything.",
    OPD_BUYER="An OPD's buyer: orders and plans bulk purchases for their OPD, confirms delivery, rates.",
    OPD_TREASURER="An OPD's treasurer: records payment of their OPD's delivered orders.",
    EMPLOYEE="A city employee of an OPD buying personally: places, confirms and pays their own orders.",
    UMKM_OWNER="Runs one or more UMKM: its details, products, orders received and monthly omzet.",
    ANALYST="Reads every row (not the personal data of UMKM) and the reports; changes nothing.",
)
UmkmStatus = _enum(
    base.UmkmStatus,
    "Verification status; only VERIFIED UMKM sell.",
    PENDING="Registered, waiting for a decision; seen by its owner, admins and analysts only.",
    VERIFIED="Verified: listed, and its active products are for sale.",
    REJECTED="Registration refused; seen by its owner, admins and analysts only.",
    SUSPENDED="Verified before, now suspended: hidden from buyers, with its products, until reinstated.",
)
Scale = _enum(
    base.Scale,
    "Size class by PP 7/2021 on annual sales.",
    MIKRO="Annual sales up to Rp2 billion.",
    KECIL="Annual sales over Rp2 billion, up to Rp15 billion.",
    MENENGAH="Annual sales over Rp15 billion, up to Rp50 billion.",
    BESAR="Annual sales over Rp50 billion: a large business.",
)
ScaleSource = _enum(
    base.ScaleSource,
    "Where the size class comes from.",
    DECLARED="As the owner declared it.",
    REPORTED="From twelve months of reported omzet.",
    ESTIMATED="From fewer than twelve months of reported omzet, annualised.",
)
OpdKind = _enum(
    base.OpdKind,
    "What kind of government body an OPD is.",
    DINAS="A dinas (service department).",
    BADAN="A badan (agency).",
    SEKRETARIAT="A secretariat (city or council).",
    KECAMATAN="A kecamatan (district) office.",
    KELURAHAN="A kelurahan (sub-district) office.",
    RSUD="A city hospital.",
    SEKOLAH="A public school.",
    LAINNYA="Any other body (inspectorate, unit...).",
)
OrderStatus = _enum(
    order_models.OrderStatus,
    "Where an order is in its life.",
    SUBMITTED="Placed by the buyer; the seller has not answered yet.",
    ACCEPTED="The seller accepted it.",
    SHIPPED="The seller sent the goods.",
    DELIVERED="The buyer confirmed receipt (BAST); waiting for payment.",
    PAID="Payment recorded: closed.",
    REJECTED="The seller turned it down: closed.",
    CANCELLED="Cancelled by the buyer, an admin, or the platform (not accepted in time): closed.",
)
OrderEventKind = _enum(
    order_models.OrderEventKind,
    "What an order event records.",
    STATUS_CHANGE="The order moved from `fromStatus` to `toStatus`.",
    PAYMENT_REMINDER="Delivered and still unpaid after PASAR_PAYMENT_REMINDER_DAYS (again each as many days): the "
    "platform reminds the payer; the status is unchanged.",
)
OrderKind = _enum(
    order_models.OrderKind,
    "OPD purchase, or an employee's personal purchase.",
    OPD="Bought by an OPD's buyer for the OPD, paid by its treasurer.",
    PERSONAL="Bought and paid by an employee personally.",
)
OrderSource = _enum(
    order_models.OrderSource,
    "How the buyer found the seller.",
    SEARCH="Searching or browsing the catalogue.",
    UNDER_SOLD_LIST="The fairness list of under-sold UMKM (`underSoldUmkm`).",
    BULK_PLAN="A bulk plan split across UMKM (`placeBulkOrder`).",
)
