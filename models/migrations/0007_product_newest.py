from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_ranking_snapshot')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Product',
            index=Index(fields=['created_at', 'id']),
        ),
    ]
