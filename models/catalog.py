"""What UMKM sell."""

from __future__ import annotations

from tortoise import fields

from models.base import TimestampedModel
from models.registry import Category, Kecamatan, Umkm


class Product(TimestampedModel):
    id = fields.IntField(primary_key=True)
    umkm = fields.ForeignKeyField("models.Umkm", related_name="products", on_delete=fields.RESTRICT, db_index=True)
    category = fields.ForeignKeyField(
        "models.Category", related_name="products", on_delete=fields.RESTRICT, db_index=True
    )
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    unit = fields.CharField(max_length=32)
    price = fields.BigIntField()
    image_urls = fields.JSONField(default=list)
    options = fields.JSONField(default=list)
    made_to_order = fields.BooleanField(default=False)
    stock = fields.IntField(default=0)
    monthly_capacity = fields.IntField(null=True)
    # units reserved by open orders (SUBMITTED, ACCEPTED) and the last such reservation: a rival's recent
    # reservation does not take a seller off the under-sold list (docs/FAIRNESS.md, "Griefing")
    held = fields.IntField(default=0, db_default=0)
    held_at = fields.DatetimeField(null=True)
    lead_time_days = fields.IntField(default=0)
    min_order_quantity = fields.IntField(default=1)
    active = fields.BooleanField(default=True, db_index=True)

    class Meta:
        table = "product"
        # the default NEWEST order of `products` (created_at DESC, id DESC), read backwards: a page is an index scan
        # and a LIMIT, not a sort of every product
        indexes = (("created_at", "id"),)


# What a product listing reads in its one statement (`models.query.joined_rows`): the product, its UMKM with the
# UMKM's kecamatan, and its category, every column of each.
PRODUCT_LISTING = {"": Product, "umkm": Umkm, "umkm__kecamatan": Kecamatan, "category": Category}
