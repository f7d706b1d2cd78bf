from tortoise import migrations
from tortoise.migrations import operations as ops
from models.orders import OrderEventKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TrustedDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(unique=True, max_length=64)),
                ('body', fields.TextField(unique=False)),
                ('operation_types', fields.CharField(max_length=40)),
                ('operation_names', fields.CharField(default='', max_length=500)),
                ('registered_by', fields.ForeignKeyField('models.User', source_field='registered_by_id', null=True, db_constraint=True, to_field='id', related_name='trusted_documents', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'trusted_document', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A registered document: its text and the SHA-256 of that text (hex), by which clients send it. Kept until an'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Order',
            name='payment_reminded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OrderEvent',
            name='kind',
            field=fields.CharEnumField(default=OrderEventKind.STATUS_CHANGE, description='STATUS_CHANGE: STATUS_CHANGE\nPAYMENT_REMINDER: PAYMENT_REMINDER', db_default='STATUS_CHANGE', enum_type=OrderEventKind, max_length=20),
        ),
    ]
