"""Maintained statistics behind the fairness ranking, and stored bulk plans."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class UmkmCategorySales(Model):
    """Decayed platform sales of one UMKM in one (leaf) category.

    `weighted` is the sum of each sale's rupiah times 2^((t_sale - epoch)/H): the value at any date t is
    weighted * 2^(-(t - epoch)/H), so adding a sale never has to touch the others (see resolvers/fairness_policy.py).
    """

    id = fields.IntField(primary_key=True)
    umkm = fields.ForeignKeyField("models.Umkm", related_name="category_sales", on_delete=fields.RESTRICT)
    category = fields.ForeignKeyField("models.Category", related_name="umkm_sales", on_delete=fields.RESTRICT)
    weighted = fields.FloatField(default=0.0)
    amount = fields.BigIntField(default=0)
    sales = fields.IntField(default=0)

    class Meta:
        table = "umkm_category_sales"
        unique_together = (("umkm", "category"),)


class CategorySales(Model):
    """Decayed platform sales of all UMKM in one (leaf) category, the same way."""

    id = fields.IntField(primary_key=True)
    category = fields.OneToOneField("models.Category", related_name="sales_total", on_delete=fields.RESTRICT)
    weighted = fields.FloatField(default=0.0)
    amount = fields.BigIntField(default=0)

    class Meta:
        table = "category_sales"


class BulkPlan(Model):
    """A water-filling split of a large purchase across UMKM, stored so the buyer can review and then place it."""

    id = fields.IntField(primary_key=True)
    opd = fields.ForeignKeyField("models.Opd", related_name="bulk_plans", on_delete=fields.RESTRICT)
    buyer = fields.ForeignKeyField("models.User", related_name="bulk_plans", on_delete=fields.RESTRICT)
    category = fields.ForeignKeyField("models.Category", related_name="bulk_plans", on_delete=fields.RESTRICT)
    quantity = fields.IntField()
    planned_quantity = fields.IntField()
    needed_by = fields.DateField()
    delivery_address = fields.CharField(max_length=300)
    min_lot = fields.IntField()
    max_suppliers = fields.IntField(null=True)
    total = fields.BigIntField()
    policy_version = fields.CharField(max_length=32)
    placed_at = fields.DatetimeField(null=True)
    placement = fields.ForeignKeyField(
        "models.Placement", related_name="bulk_plans", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bulk_plan"


class BulkPlanLine(Model):
    id = fields.IntField(primary_key=True)
    plan = fields.ForeignKeyField("models.BulkPlan", related_name="lines", on_delete=fields.CASCADE)
    umkm = fields.ForeignKeyField("models.Umkm", related_name="bulk_plan_lines", on_delete=fields.RESTRICT)
    product = fields.ForeignKeyField("models.Product", related_name="bulk_plan_lines", on_delete=fields.RESTRICT)
    quantity = fields.IntField()
    unit_price = fields.BigIntField()
    rank = fields.IntField(null=True)
    level_before = fields.FloatField()
    level_after = fields.FloatField()

    class Meta:
        table = "bulk_plan_line"
