from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

# Tortoise's AddField creates no index for `db_index=True` on either engine: the lookups of resolvers/clusters.py
# (links by keyed identifier, members of a cluster) and the decisions of a UMKM need them.
INDEXES = [
    ("idx_umkm_owner_nik_hash", "umkm", "owner_nik_hash"),
    ("idx_umkm_bank_key", "umkm", "bank_key"),
    ("idx_umkm_phone_key", "umkm", "phone_key"),
    ("idx_umkm_cluster_id", "umkm", "cluster_id"),
    ("idx_umkm_cluster_pending_on", "umkm", "cluster_pending_on"),
    ("idx_umkm_cluster_decision_umkm_id", "umkm_cluster_decision", "umkm_id"),
]


class Migration(migrations.Migration):
    dependencies = [('models', '0013_provisional_orders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UmkmClusterDecision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('umkm', fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_constraint=True, to_field='id', related_name='cluster_decisions', on_delete=OnDelete.CASCADE)),
                ('decision', fields.CharField(max_length=5)),
                ('reason', fields.TextField(unique=False)),
                ('upto_umkm_id', fields.IntField()),
                ('cluster_before', fields.IntField(null=True)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='cluster_decisions', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'umkm_cluster_decision', 'app': 'models', 'pk_attr': 'id', 'table_description': "Append-only history of admins' decisions on a UMKM's cluster: who, when, which, why. The latest one rules."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='RankingRow',
            name='cluster_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='RankingSnapshot',
            name='actors',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Umkm',
            name='bank_key',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Umkm',
            name='bank_key_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Umkm',
            name='cluster_id',
            field=fields.IntField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Umkm',
            name='cluster_pending_on',
            field=fields.IntField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Umkm',
            name='owner_nik_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Umkm',
            name='owner_nik_hash',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Umkm',
            name='owner_nik_last4',
            field=fields.CharField(null=True, max_length=4),
        ),
        ops.AddField(
            model_name='Umkm',
            name='phone_key',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Umkm',
            name='phone_key_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            [f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")' for name, table, column in INDEXES],
            reverse_sql=[f'DROP INDEX IF EXISTS "{name}"' for name, _, _ in INDEXES],
        ),
    ]
