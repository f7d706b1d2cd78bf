"""Orders and their trail: items, append-only events, payments, ratings, made-to-order capacity use."""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model

from models.base import TimestampedModel
from models.catalog import Product
from models.registry import Opd, Umkm


class OrderStatus(str, Enum):
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    PAID = "PAID"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


OPEN_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.SHIPPED)
COUNTED_STATUSES = (OrderStatus.DELIVERED, OrderStatus.PAID)
COUNTED_SQL = ", ".join(f"'{s.value}'" for s in COUNTED_STATUSES)  # for raw SQL: o."status" IN ({COUNTED_SQL})
OPEN_SQL = ", ".join(f"'{s.value}'" for s in OPEN_STATUSES)  # for raw SQL: o."status" IN ({OPEN_SQL})


class OrderKind(str, Enum):
    OPD = "OPD"
    PERSONAL = "PERSONAL"


class OrderEventKind(str, Enum):
    """A status change, or a note on the trail that changes no status (the status stays `to_status`)."""

    STATUS_CHANGE = "STATUS_CHANGE"
    PAYMENT_REMINDER = "PAYMENT_REMINDER"  # delivered and still unpaid (resolvers/clocks.py): the treasurer is due


class OrderSource(str, Enum):
    SEARCH = "SEARCH"
    UNDER_SOLD_LIST = "UNDER_SOLD_LIST"
    BULK_PLAN = "BULK_PLAN"


class Placement(Model):
    """One `placeOrder` call: remembers its idempotency key and basket so a replay returns the same orders."""

    id = fields.IntField(primary_key=True)
    buyer = fields.ForeignKeyField("models.User", related_name="placements", on_delete=fields.RESTRICT)
    idempotency_key = fields.CharField(max_length=100)
    basket_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "placement"
        unique_together = (("buyer", "idempotency_key"),)


class Order(TimestampedModel):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True, null=True)
    kind = fields.CharEnumField(OrderKind, max_length=10)
    opd = fields.ForeignKeyField("models.Opd", related_name="orders", on_delete=fields.RESTRICT, db_index=True)
    buyer = fields.ForeignKeyField("models.User", related_name="orders", on_delete=fields.RESTRICT, db_index=True)
    umkm = fields.ForeignKeyField("models.Umkm", related_name="orders", on_delete=fields.RESTRICT, db_index=True)
    placement = fields.ForeignKeyField("models.Placement", related_name="orders", null=True, on_delete=fields.RESTRICT)
    status = fields.CharEnumField(OrderStatus, max_length=10, default=OrderStatus.SUBMITTED, db_index=True)
    total = fields.BigIntField()
    needed_by = fields.DateField()
    delivery_address = fields.CharField(max_length=300)
    note = fields.TextField(default="")
    source = fields.CharEnumField(OrderSource, max_length=20, default=OrderSource.SEARCH)
    source_rank = fields.IntField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    shipped_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True, db_index=True)
    received_by = fields.CharField(max_length=200, null=True)
    paid_at = fields.DatetimeField(null=True)
    # the last payment reminder (resolvers/clocks.py): a conditional update on it lets one reminder through per period
    payment_reminded_at = fields.DatetimeField(null=True)
    closed_reason = fields.TextField(default="")

    class Meta:
        table = "order"
        # a UMKM's sales by delivery time (monthly figures, rankings); an OPD's by delivery time (spending)
        indexes = (("umkm_id", "delivered_at"), ("opd_id", "delivered_at"))


class OrderItem(Model):
    """A line as it was at ordering: name, unit and unit price are copies, not links to today's product."""

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="items", on_delete=fields.CASCADE, db_index=True)
    product = fields.ForeignKeyField("models.Product", related_name="order_items", on_delete=fields.RESTRICT)
    category = fields.ForeignKeyField("models.Category", related_name="order_items", on_delete=fields.RESTRICT)
    option = fields.CharField(max_length=50, null=True)
    name = fields.CharField(max_length=200)
    unit = fields.CharField(max_length=32)
    unit_price = fields.BigIntField()
    quantity = fields.IntField()
    subtotal = fields.BigIntField()
    capacity_period = fields.CharField(max_length=7, null=True)

    class Meta:
        table = "order_item"


class OrderEvent(Model):
    """Append-only: every status change with its actor and time. Never updated, never deleted."""

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="events", on_delete=fields.RESTRICT, db_index=True)
    from_status = fields.CharEnumField(OrderStatus, max_length=10, null=True)
    to_status = fields.CharEnumField(OrderStatus, max_length=10)
    kind = fields.CharEnumField(
        OrderEventKind, max_length=20, default=OrderEventKind.STATUS_CHANGE, db_default="STATUS_CHANGE"
    )
    actor = fields.ForeignKeyField("models.User", related_name="order_events", null=True, on_delete=fields.RESTRICT)
    note = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "order_event"
        ordering = ["id"]


class Payment(Model):
    id = fields.IntField(primary_key=True)
    order = fields.OneToOneField("models.Order", related_name="payment", on_delete=fields.RESTRICT)
    amount = fields.BigIntField()
    reference = fields.CharField(max_length=100)
    paid_on = fields.DateField()
    recorded_by = fields.ForeignKeyField("models.User", related_name="payments_recorded", on_delete=fields.RESTRICT)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment"


class Rating(Model):
    id = fields.IntField(primary_key=True)
    order = fields.OneToOneField("models.Order", related_name="rating", on_delete=fields.RESTRICT)
    umkm = fields.ForeignKeyField("models.Umkm", related_name="ratings", on_delete=fields.RESTRICT)
    score = fields.SmallIntField()
    comment = fields.TextField(default="")
    rated_by = fields.ForeignKeyField("models.User", related_name="ratings_given", on_delete=fields.RESTRICT)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rating"


class CapacityUse(Model):
    """Units of a made-to-order product promised in one month (YYYY-MM of the needed-by date)."""

    id = fields.IntField(primary_key=True)
    product = fields.ForeignKeyField("models.Product", related_name="capacity_uses", on_delete=fields.CASCADE)
    period = fields.CharField(max_length=7)
    used = fields.IntField(default=0)
    # units of `used` promised to orders still open (SUBMITTED, ACCEPTED), and the latest such promise: a rival's
    # recent reservation does not take the seller off the under-sold list (resolvers/ranking.py, `available_sql`)
    held = fields.IntField(default=0, db_default=0)
    held_at = fields.DatetimeField(null=True)

    class Meta:
        table = "capacity_use"
        unique_together = (("product", "period"),)


# What `order(id)` and an order's items read, one statement each (`models.query.joined_rows`): the order with its
# UMKM and OPD; the items with their products and the products' UMKM.
ORDER_READ = {"": Order, "umkm": Umkm, "opd": Opd}
ITEM_READ = {"": OrderItem, "product": Product, "product__umkm": Umkm}
