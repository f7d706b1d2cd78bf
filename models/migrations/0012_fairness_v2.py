from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_clocks_trusted_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CategoryOrderQuantity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('category', fields.ForeignKeyField('models.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='order_quantities', on_delete=OnDelete.RESTRICT)),
                ('quantity_class', fields.IntField()),
                ('lines', fields.IntField(default=0)),
            ],
            options={'table': 'category_order_quantity', 'app': 'models', 'unique_together': (('category', 'quantity_class'),), 'pk_attr': 'id', 'table_description': "Counted order lines of a (leaf) category by quantity class k (quantities 2^k to 2^(k+1) − 1): the category's"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FairnessDaySecret',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField(unique=True)),
                ('secret', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fairness_day_secret', 'app': 'models', 'pk_attr': 'id', 'table_description': "The key of one day's order inside a bucket: HMAC-SHA256(secret, category, UMKM). Kept secret on its day and"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FairnessExposure',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField()),
                ('buyer_id', fields.IntField()),
                ('opd_id', fields.IntField()),
                ('category_id', fields.IntField()),
                ('umkm_id', fields.IntField()),
                ('product_id', fields.IntField()),
                ('rank', fields.IntField()),
                ('order_id', fields.IntField(null=True)),
            ],
            options={'table': 'fairness_exposure', 'app': 'models', 'unique_together': (('buyer_id', 'umkm_id', 'category_id', 'day'),), 'indexes': [Index(fields=['day'])], 'pk_attr': 'id', 'table_description': 'What a buyer was shown: one row per (buyer, UMKM, category, Asia/Jakarta day), the rank and product on the'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Product',
            name='held',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Product',
            name='held_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RankingSnapshot',
            name='typical_quantity',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name='UmkmCategorySales',
            name='last_sale_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
