from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_omzet')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BulkPlan',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('opd', fields.ForeignKeyField('models.Opd', source_field='opd_id', db_constraint=True, to_field='id', related_name='bulk_plans', on_delete=OnDelete.RESTRICT)),
                ('buyer', fields.ForeignKeyField('models.User', source_field='buyer_id', db_constraint=True, to_field='id', related_name='bulk_plans', on_delete=OnDelete.RESTRICT)),
                ('category', fields.ForeignKeyField('models.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='bulk_plans', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
                ('planned_quantity', fields.IntField()),
                ('needed_by', fields.DateField()),
                ('delivery_address', fields.CharField(max_length=300)),
                ('min_lot', fields.IntField()),
                ('max_suppliers', fields.IntField(null=True)),
                ('total', fields.BigIntField()),
                ('policy_version', fields.CharField(max_length=32)),
                ('placed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('placement', fields.ForeignKeyField('models.Placement', source_field='placement_id', null=True, db_constraint=True, to_field='id', related_name='bulk_plans', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'bulk_plan', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A water-filling split of a large purchase across UMKM, stored so the buyer can review and then place it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BulkPlanLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan', fields.ForeignKeyField('models.BulkPlan', source_field='plan_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('umkm', fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_constraint=True, to_field='id', related_name='bulk_plan_lines', on_delete=OnDelete.RESTRICT)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='bulk_plan_lines', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
                ('unit_price', fields.BigIntField()),
                ('rank', fields.IntField(null=True)),
                ('level_before', fields.FloatField()),
                ('level_after', fields.FloatField()),
            ],
            options={'table': 'bulk_plan_line', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CategorySales',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('category', fields.OneToOneField('models.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='sales_total', on_delete=OnDelete.RESTRICT)),
                ('weighted', fields.FloatField(default=0.0)),
                ('amount', fields.BigIntField(default=0)),
            ],
            options={'table': 'category_sales', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Decayed platform sales of all UMKM in one (leaf) category, the same way.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UmkmCategorySales',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('umkm', fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_constraint=True, to_field='id', related_name='category_sales', on_delete=OnDelete.RESTRICT)),
                ('category', fields.ForeignKeyField('models.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='umkm_sales', on_delete=OnDelete.RESTRICT)),
                ('weighted', fields.FloatField(default=0.0)),
                ('amount', fields.BigIntField(default=0)),
                ('sales', fields.IntField(default=0)),
            ],
            options={'table': 'umkm_category_sales', 'app': 'models', 'unique_together': (('umkm', 'category'),), 'pk_attr': 'id', 'table_description': 'Decayed platform sales of one UMKM in one (leaf) category.'},
            bases=['Model'],
        ),
    ]
