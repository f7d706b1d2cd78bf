from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_fairness')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Order',
            name='buyer',
            field=fields.ForeignKeyField('models.User', source_field='buyer_id', db_index=True, db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Order',
            name='opd',
            field=fields.ForeignKeyField('models.Opd', source_field='opd_id', db_index=True, db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Order',
            name='umkm',
            field=fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_index=True, db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['umkm_id', 'delivered_at']),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['opd_id', 'delivered_at']),
        ),
        ops.AlterField(
            model_name='OrderEvent',
            name='order',
            field=fields.ForeignKeyField('models.Order', source_field='order_id', db_index=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='OrderItem',
            name='order',
            field=fields.ForeignKeyField('models.Order', source_field='order_id', db_index=True, db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Product',
            name='category',
            field=fields.ForeignKeyField('models.Category', source_field='category_id', db_index=True, db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Product',
            name='umkm',
            field=fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_index=True, db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Umkm',
            name='kecamatan',
            field=fields.ForeignKeyField('models.Kecamatan', source_field='kecamatan_id', db_index=True, db_constraint=True, to_field='id', related_name='umkms', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Umkm',
            name='owner',
            field=fields.ForeignKeyField('models.User', source_field='owner_id', db_index=True, db_constraint=True, to_field='id', related_name='umkms', on_delete=OnDelete.RESTRICT),
        ),
    ]
