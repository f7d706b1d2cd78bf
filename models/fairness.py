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
    last_sale_at = fields.DatetimeField(null=True)  # the latest counted sale (its delivery)
    # open orders (SUBMITTED, ACCEPTED, SHIPPED), weighted at ordering: provisionally received until delivery
    open_weighted = fields.FloatField(default=0.0, db_default=0.0)
    # the latest ordering of an order still open; with last_sale_at: "least recently awarded" (resolvers/ranking.py)
    last_open_at = fields.DatetimeField(null=True)

    class Meta:
        table = "umkm_category_sales"
        unique_together = (("umkm", "category"),)


class CategorySales(Model):
    """Decayed platform sales of all UMKM in one (leaf) category, the same way."""

    id = fields.IntField(primary_key=True)
    category = fields.OneToOneField("models.Category", related_name="sales_total", on_delete=fields.RESTRICT)
    weighted = fields.FloatField(default=0.0)
    amount = fields.BigIntField(default=0)
    open_weighted = fields.FloatField(default=0.0, db_default=0.0)

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


class RankingSnapshot(Model):
    """One category's under-sold ranking at one moment, before any buyer's filters: a cache of the ranking SQL.

    Rebuilt from the maintained statistics when asked for and stale: its `generation` is older than its category's
    `ranking_generation` (every write that changes an input increments it, see resolvers/fairness_snapshot.py), or
    it was made with another policy version. Readers take their page from its rows in ranking order, with the
    buyer's filters (kecamatan served, stock or capacity) applied live in SQL.
    """

    id = fields.IntField(primary_key=True)
    category = fields.ForeignKeyField("models.Category", related_name="ranking_snapshots", on_delete=fields.CASCADE)
    as_of = fields.DatetimeField()
    policy_version = fields.CharField(max_length=32)
    generation = fields.BigIntField(default=-1)  # the category's ranking_generation its inputs were read at
    eligible = fields.IntField(default=0)
    median_price = fields.FloatField(null=True)
    typical_quantity = fields.IntField(db_default=1, default=1)  # the day's median order quantity, fixed with the band
    total_received = fields.FloatField(db_default=0.0, default=0.0)  # T_c at the list's moment, moved by orders
    actors = fields.IntField(default=0, db_default=0)  # business actors (clusters) on the list; 0: as `eligible`
    built_at = fields.DatetimeField(null=True)
    build_ms = fields.IntField(default=0)

    class Meta:
        table = "fairness_snapshot"
        unique_together = (("category", "as_of"),)


class RankingRow(Model):
    """One eligible UMKM's place on a snapshot: its position (1 = first) and every component of its score.

    `umkm_id` and `product_id` are plain integers: the rows are derived data, rewritten as a whole by each rebuild.
    """

    id = fields.IntField(primary_key=True)
    snapshot = fields.ForeignKeyField("models.RankingSnapshot", related_name="rows", on_delete=fields.CASCADE)
    position = fields.IntField()
    umkm_id = fields.IntField()
    product_id = fields.IntField()
    price = fields.BigIntField()
    deficit = fields.FloatField()
    target_share = fields.FloatField()
    received_share = fields.FloatField()
    received = fields.FloatField()
    active_fraction = fields.FloatField()
    need = fields.FloatField()
    omzet = fields.FloatField(null=True)
    bucket = fields.IntField()
    rotation = fields.BigIntField()
    reasons = fields.CharField(max_length=200)
    cluster_id = fields.IntField(
        null=True
    )  # the business actor's cluster when it has other members: they move together, the list shows one of them

    class Meta:
        table = "fairness_rank_row"
        unique_together = (("snapshot", "position"),)
        # (snapshot, cluster): a page finds a cluster's other rows (one row per business actor) without a scan
        indexes = (("snapshot_id", "umkm_id"), ("snapshot_id", "cluster_id"))


class FairnessDaySecret(Model):
    """The key of one day's order inside a bucket: HMAC-SHA256(secret, category, UMKM). Kept secret on its day and
    published from the next day on, so anyone can recompute a past list (docs/FAIRNESS.md, "Order")."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField(unique=True)
    secret = fields.CharField(max_length=64)  # 32 random bytes, hex
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fairness_day_secret"


class FairnessExposure(Model):
    """What a buyer was shown: one row per (buyer, UMKM, category, Asia/Jakarta day), the rank and product on the
    page. The server's own record behind list credit (docs/FAIRNESS.md, "List credit"); purged after
    `EXPOSURE_KEEP_DAYS`. `order_id` is the one order that used it (credit once)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    buyer_id = fields.IntField()
    opd_id = fields.IntField()
    category_id = fields.IntField()
    umkm_id = fields.IntField()
    product_id = fields.IntField()
    rank = fields.IntField()
    order_id = fields.IntField(null=True)

    class Meta:
        table = "fairness_exposure"
        unique_together = (("buyer_id", "umkm_id", "category_id", "day"),)
        indexes = (("day",),)


class CategoryOrderQuantity(Model):
    """Counted order lines of a (leaf) category by quantity class k (quantities 2^k to 2^(k+1) − 1): the category's
    median order quantity, maintained where a sale counts, without reading the order lines."""

    id = fields.IntField(primary_key=True)
    category = fields.ForeignKeyField("models.Category", related_name="order_quantities", on_delete=fields.RESTRICT)
    quantity_class = fields.IntField()
    lines = fields.IntField(default=0)

    class Meta:
        table = "category_order_quantity"
        unique_together = (("category", "quantity_class"),)
