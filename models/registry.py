"""The city's registry: kecamatan/kelurahan, OPD and their budgets, categories, UMKM."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import OpdKind, Scale, ScaleSource, TimestampedModel, UmkmStatus


class Kecamatan(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=16, unique=True)
    name = fields.CharField(max_length=100)

    class Meta:
        table = "kecamatan"
        ordering = ["code"]


class Kelurahan(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=20, unique=True)
    name = fields.CharField(max_length=100)
    kecamatan: fields.ForeignKeyRelation[Kecamatan] = fields.ForeignKeyField(
        "models.Kecamatan", related_name="kelurahans", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "kelurahan"
        ordering = ["code"]


class Opd(TimestampedModel):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(OpdKind, max_length=20)
    kecamatan: fields.ForeignKeyRelation[Kecamatan] = fields.ForeignKeyField(
        "models.Kecamatan", related_name="opds", on_delete=fields.RESTRICT
    )
    address = fields.CharField(max_length=300, default="")
    active = fields.BooleanField(default=True)

    class Meta:
        table = "opd"


class OpdBudget(TimestampedModel):
    """The pagu of an OPD for goods and services in one year, in whole rupiah."""

    id = fields.IntField(primary_key=True)
    opd: fields.ForeignKeyRelation[Opd] = fields.ForeignKeyField(
        "models.Opd", related_name="budgets", on_delete=fields.CASCADE
    )
    year = fields.IntField()
    amount = fields.BigIntField()

    class Meta:
        table = "opd_budget"
        unique_together = (("opd", "year"),)


class Category(TimestampedModel):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    slug = fields.CharField(max_length=100, unique=True)
    description = fields.TextField(default="")
    parent: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "models.Category", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    # Incremented by every write that changes an input of this category's under-sold ranking
    # (resolvers/fairness_snapshot.py): a ranking snapshot built from an older value is stale.
    ranking_generation = fields.BigIntField(default=0, db_default=0)

    class Meta:
        table = "category"


class Umkm(TimestampedModel):
    id = fields.IntField(primary_key=True)
    owner = fields.ForeignKeyField("models.User", related_name="umkms", on_delete=fields.RESTRICT, db_index=True)
    name = fields.CharField(max_length=200)
    nib = fields.CharField(max_length=13, unique=True)
    description = fields.TextField(default="")
    owner_name = fields.CharField(max_length=200)
    phone = fields.CharField(max_length=32)
    address = fields.CharField(max_length=300)
    kelurahan: fields.ForeignKeyRelation[Kelurahan] = fields.ForeignKeyField(
        "models.Kelurahan", related_name="umkms", on_delete=fields.RESTRICT
    )
    # Denormalised from the kelurahan so kecamatan filters need no join; kept in step by resolvers.
    kecamatan: fields.ForeignKeyRelation[Kecamatan] = fields.ForeignKeyField(
        "models.Kecamatan", related_name="umkms", on_delete=fields.RESTRICT, db_index=True
    )
    serves_city_wide = fields.BooleanField(default=False)
    scale = fields.CharEnumField(Scale, max_length=10, default=Scale.MIKRO)
    scale_source = fields.CharEnumField(ScaleSource, max_length=10, default=ScaleSource.DECLARED)
    status = fields.CharEnumField(UmkmStatus, max_length=10, default=UmkmStatus.PENDING, db_index=True)
    verified_at = fields.DatetimeField(null=True)
    bank_name = fields.CharField(max_length=100, default="")
    bank_account = fields.CharField(max_length=50, default="")
    bank_account_name = fields.CharField(max_length=200, default="")
    # The business actor (docs/FAIRNESS.md, "One share per business actor"). The owner's NIK is kept only as a keyed
    # hash (HMAC-SHA256 with PASAR_IDENTITY_KEY) and its last four digits; the bank account and the phone, normalised,
    # are keyed the same way so that links are found by an index. All three are written by resolvers/clusters.py.
    owner_nik_hash = fields.CharField(max_length=64, null=True, db_index=True)
    owner_nik_last4 = fields.CharField(max_length=4, null=True)
    bank_key = fields.CharField(max_length=64, null=True, db_index=True)
    phone_key = fields.CharField(max_length=64, null=True, db_index=True)
    # since when it holds each (null: since it registered): a link holds the one that took the identifier later
    owner_nik_at = fields.DatetimeField(null=True)
    bank_key_at = fields.DatetimeField(null=True)
    phone_key_at = fields.DatetimeField(null=True)
    # The cluster: the lowest UMKM id of the business actor it belongs to (null: a cluster of one). Maintained at write
    # time (registration, change of NIK, bank account or phone, verification, an admin's decision).
    cluster_id = fields.IntField(null=True, db_index=True)
    # Held at share 0: one of its identifiers is held by an earlier UMKM of another owner account, and no admin has
    # decided yet. The cluster (its id) it waits on.
    cluster_pending_on = fields.IntField(null=True, db_index=True)

    class Meta:
        table = "umkm"


class UmkmServedKecamatan(Model):
    """A kecamatan a UMKM declares it serves besides its own."""

    id = fields.IntField(primary_key=True)
    umkm: fields.ForeignKeyRelation[Umkm] = fields.ForeignKeyField(
        "models.Umkm", related_name="served", on_delete=fields.CASCADE
    )
    kecamatan: fields.ForeignKeyRelation[Kecamatan] = fields.ForeignKeyField(
        "models.Kecamatan", related_name="served_by", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "umkm_served_kecamatan"
        unique_together = (("umkm", "kecamatan"),)


class UmkmClusterDecision(Model):
    """Append-only history of admins' decisions on a UMKM's cluster: who, when, which, why. The latest one rules.

    JOIN: the UMKM's links that exist at the decision count (it shares one share with those UMKM). SPLIT: they are
    ignored, the owner account's included: its own share. Links made later are judged again. `upto_umkm_id`: the
    newest UMKM at the decision, for the record."""

    id = fields.IntField(primary_key=True)
    umkm: fields.ForeignKeyRelation[Umkm] = fields.ForeignKeyField(
        "models.Umkm", related_name="cluster_decisions", on_delete=fields.CASCADE
    )
    decision = fields.CharField(max_length=5)  # JOIN | SPLIT
    reason = fields.TextField()
    upto_umkm_id = fields.IntField()
    cluster_before = fields.IntField(null=True)  # the cluster it was in (or held against) at the decision
    actor = fields.ForeignKeyField(
        "models.User", related_name="cluster_decisions", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "umkm_cluster_decision"
        ordering = ["id"]


class UmkmStatusChange(Model):
    """Append-only history of UMKM verification decisions: who, when, why."""

    id = fields.IntField(primary_key=True)
    umkm: fields.ForeignKeyRelation[Umkm] = fields.ForeignKeyField(
        "models.Umkm", related_name="status_changes", on_delete=fields.CASCADE
    )
    from_status = fields.CharEnumField(UmkmStatus, max_length=10, null=True)
    to_status = fields.CharEnumField(UmkmStatus, max_length=10)
    actor = fields.ForeignKeyField("models.User", related_name="+", null=True, on_delete=fields.SET_NULL)
    note = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "umkm_status_change"
        ordering = ["id"]
