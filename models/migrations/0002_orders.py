from tortoise import migrations
from tortoise.migrations import operations as ops
from models.orders import OrderKind, OrderSource, OrderStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CapacityUse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='capacity_uses', on_delete=OnDelete.CASCADE)),
                ('period', fields.CharField(max_length=7)),
                ('used', fields.IntField(default=0)),
            ],
            options={'table': 'capacity_use', 'app': 'models', 'unique_together': (('product', 'period'),), 'pk_attr': 'id', 'table_description': 'Units of a made-to-order product promised in one month (YYYY-MM of the needed-by date).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Placement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('buyer', fields.ForeignKeyField('models.User', source_field='buyer_id', db_constraint=True, to_field='id', related_name='placements', on_delete=OnDelete.RESTRICT)),
                ('idempotency_key', fields.CharField(max_length=100)),
                ('basket_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'placement', 'app': 'models', 'unique_together': (('buyer', 'idempotency_key'),), 'pk_attr': 'id', 'table_description': 'One `placeOrder` call: remembers its idempotency key and basket so a replay returns the same orders.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Order',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(null=True, unique=True, max_length=32)),
                ('kind', fields.CharEnumField(description='OPD: OPD\nPERSONAL: PERSONAL', enum_type=OrderKind, max_length=10)),
                ('opd', fields.ForeignKeyField('models.Opd', source_field='opd_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('buyer', fields.ForeignKeyField('models.User', source_field='buyer_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('umkm', fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('placement', fields.ForeignKeyField('models.Placement', source_field='placement_id', null=True, db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=OrderStatus.SUBMITTED, db_index=True, description='SUBMITTED: SUBMITTED\nACCEPTED: ACCEPTED\nSHIPPED: SHIPPED\nDELIVERED: DELIVERED\nPAID: PAID\nREJECTED: REJECTED\nCANCELLED: CANCELLED', enum_type=OrderStatus, max_length=10)),
                ('total', fields.BigIntField()),
                ('needed_by', fields.DateField()),
                ('delivery_address', fields.CharField(max_length=300)),
                ('note', fields.TextField(default='', unique=False)),
                ('source', fields.CharEnumField(default=OrderSource.SEARCH, description='SEARCH: SEARCH\nUNDER_SOLD_LIST: UNDER_SOLD_LIST\nBULK_PLAN: BULK_PLAN', enum_type=OrderSource, max_length=20)),
                ('source_rank', fields.IntField(null=True)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('shipped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('received_by', fields.CharField(null=True, max_length=200)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'order', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='OrderEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('from_status', fields.CharEnumField(null=True, description='SUBMITTED: SUBMITTED\nACCEPTED: ACCEPTED\nSHIPPED: SHIPPED\nDELIVERED: DELIVERED\nPAID: PAID\nREJECTED: REJECTED\nCANCELLED: CANCELLED', enum_type=OrderStatus, max_length=10)),
                ('to_status', fields.CharEnumField(description='SUBMITTED: SUBMITTED\nACCEPTED: ACCEPTED\nSHIPPED: SHIPPED\nDELIVERED: DELIVERED\nPAID: PAID\nREJECTED: REJECTED\nCANCELLED: CANCELLED', enum_type=OrderStatus, max_length=10)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='order_events', on_delete=OnDelete.RESTRICT)),
                ('note', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'order_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only: every status change with its actor and time. Never updated, never deleted.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='order_items', on_delete=OnDelete.RESTRICT)),
                ('category', fields.ForeignKeyField('models.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='order_items', on_delete=OnDelete.RESTRICT)),
                ('option', fields.CharField(null=True, max_length=50)),
                ('name', fields.CharField(max_length=200)),
                ('unit', fields.CharField(max_length=32)),
                ('unit_price', fields.BigIntField()),
                ('quantity', fields.IntField()),
                ('subtotal', fields.BigIntField()),
                ('capacity_period', fields.CharField(null=True, max_length=7)),
            ],
            options={'table': 'order_item', 'app': 'models', 'pk_attr': 'id', 'table_description': "A line as it was at ordering: name, unit and unit price are copies, not links to today's product."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.OneToOneField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='payment', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('reference', fields.CharField(max_length=100)),
                ('paid_on', fields.DateField()),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', db_constraint=True, to_field='id', related_name='payments_recorded', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Rating',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.OneToOneField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='rating', on_delete=OnDelete.RESTRICT)),
                ('umkm', fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.RESTRICT)),
                ('score', fields.SmallIntField()),
                ('comment', fields.TextField(default='', unique=False)),
                ('rated_by', fields.ForeignKeyField('models.User', source_field='rated_by_id', db_constraint=True, to_field='id', related_name='ratings_given', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rating', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
