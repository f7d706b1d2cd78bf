"""Monthly turnover (omzet): reports with append-only revisions, and the platform-sales rollup."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OmzetReport(Model):
    # Docstrings of models become SQL comments, and Tortoise splits SQLite scripts on semicolons: keep them out.
    """The report of one UMKM for one month (YYYY-MM). Its figures are those of the latest revision, kept in step in
    the same transaction so that aggregates need no join. Every revision itself is kept in OmzetRevision."""

    id = fields.IntField(primary_key=True)
    umkm = fields.ForeignKeyField("models.Umkm", related_name="omzet_reports", on_delete=fields.RESTRICT)
    period = fields.CharField(max_length=7, db_index=True)
    first_submitted_at = fields.DatetimeField()
    late = fields.BooleanField()
    revision_count = fields.IntField(default=1)
    platform_amount = fields.BigIntField()
    other_online_amount = fields.BigIntField()
    offline_amount = fields.BigIntField()
    total_amount = fields.BigIntField()
    workers = fields.IntField(null=True)
    note = fields.TextField(default="")
    updated_at = fields.DatetimeField()

    class Meta:
        table = "omzet_report"
        unique_together = (("umkm", "period"),)


class OmzetRevision(Model):
    """Append-only: every submission or correction of a report, with who and when. Never updated or deleted."""

    id = fields.IntField(primary_key=True)
    report = fields.ForeignKeyField("models.OmzetReport", related_name="revisions", on_delete=fields.RESTRICT)
    number = fields.IntField()
    platform_amount = fields.BigIntField()
    other_online_amount = fields.BigIntField()
    offline_amount = fields.BigIntField()
    total_amount = fields.BigIntField()
    workers = fields.IntField(null=True)
    note = fields.TextField(default="")
    submitted_by = fields.ForeignKeyField("models.User", related_name="omzet_revisions", on_delete=fields.RESTRICT)
    on_behalf = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "omzet_revision"
        unique_together = (("report", "number"),)
        ordering = ["number"]


class UmkmMonthlySales(Model):
    """Platform sales per UMKM and Asia/Jakarta month, maintained where a sale starts counting, and rebuildable."""

    id = fields.IntField(primary_key=True)
    umkm = fields.ForeignKeyField("models.Umkm", related_name="monthly_sales", on_delete=fields.RESTRICT)
    period = fields.CharField(max_length=7)
    amount = fields.BigIntField(default=0)
    orders = fields.IntField(default=0)

    class Meta:
        table = "umkm_monthly_sales"
        unique_together = (("umkm", "period"),)
