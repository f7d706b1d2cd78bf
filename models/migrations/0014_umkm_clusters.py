from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

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
    ]
