from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0016_capacity_held')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='RankingRow',
            index=Index(fields=['snapshot_id', 'cluster_id']),
        ),
    ]
