from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RankingSnapshot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('category', fields.ForeignKeyField('models.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='ranking_snapshots', on_delete=OnDelete.CASCADE)),
                ('as_of', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('policy_version', fields.CharField(max_length=32)),
                ('generation', fields.BigIntField(default=-1)),
                ('eligible', fields.IntField(default=0)),
                ('median_price', fields.FloatField(null=True)),
                ('built_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('build_ms', fields.IntField(default=0)),
            ],
            options={'table': 'fairness_snapshot', 'app': 'models', 'unique_together': (('category', 'as_of'),), 'pk_attr': 'id', 'table_description': "One category's under-sold ranking at one moment, before any buyer's filters: a cache of the ranking SQL."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RankingRow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('snapshot', fields.ForeignKeyField('models.RankingSnapshot', source_field='snapshot_id', db_constraint=True, to_field='id', related_name='rows', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('umkm_id', fields.IntField()),
                ('product_id', fields.IntField()),
                ('price', fields.BigIntField()),
                ('deficit', fields.FloatField()),
                ('target_share', fields.FloatField()),
                ('received_share', fields.FloatField()),
                ('received', fields.FloatField()),
                ('active_fraction', fields.FloatField()),
                ('need', fields.FloatField()),
                ('omzet', fields.FloatField(null=True)),
                ('bucket', fields.IntField()),
                ('rotation', fields.BigIntField()),
                ('reasons', fields.CharField(max_length=200)),
            ],
            options={'table': 'fairness_rank_row', 'app': 'models', 'unique_together': (('snapshot', 'position'),), 'indexes': [Index(fields=['snapshot_id', 'umkm_id'])], 'pk_attr': 'id', 'table_description': "One eligible UMKM's place on a snapshot: its position (1 = first) and every component of its score."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Category',
            name='ranking_generation',
            field=fields.BigIntField(default=0, db_default=0),
        ),
    ]
