from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_fairness_v2')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CategorySales',
            name='open_weighted',
            field=fields.FloatField(default=0.0, db_default=0.0),
        ),
        ops.AddField(
            model_name='RankingSnapshot',
            name='total_received',
            field=fields.FloatField(default=0.0, db_default=0.0),
        ),
        ops.AddField(
            model_name='UmkmCategorySales',
            name='open_weighted',
            field=fields.FloatField(default=0.0, db_default=0.0),
        ),
    ]
