from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_orders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OmzetReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('umkm', fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_constraint=True, to_field='id', related_name='omzet_reports', on_delete=OnDelete.RESTRICT)),
                ('period', fields.CharField(db_index=True, max_length=7)),
                ('first_submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('late', fields.BooleanField()),
                ('revision_count', fields.IntField(default=1)),
                ('platform_amount', fields.BigIntField()),
                ('other_online_amount', fields.BigIntField()),
                ('offline_amount', fields.BigIntField()),
                ('total_amount', fields.BigIntField()),
                ('workers', fields.IntField(null=True)),
                ('note', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'omzet_report', 'app': 'models', 'unique_together': (('umkm', 'period'),), 'pk_attr': 'id', 'table_description': 'The report of one UMKM for one month (YYYY-MM). Its figures are those of the latest revision, kept in step in'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OmzetRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('report', fields.ForeignKeyField('models.OmzetReport', source_field='report_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.RESTRICT)),
                ('number', fields.IntField()),
                ('platform_amount', fields.BigIntField()),
                ('other_online_amount', fields.BigIntField()),
                ('offline_amount', fields.BigIntField()),
                ('total_amount', fields.BigIntField()),
                ('workers', fields.IntField(null=True)),
                ('note', fields.TextField(default='', unique=False)),
                ('submitted_by', fields.ForeignKeyField('models.User', source_field='submitted_by_id', db_constraint=True, to_field='id', related_name='omzet_revisions', on_delete=OnDelete.RESTRICT)),
                ('on_behalf', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'omzet_revision', 'app': 'models', 'unique_together': (('report', 'number'),), 'pk_attr': 'id', 'table_description': 'Append-only: every submission or correction of a report, with who and when. Never updated or deleted.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UmkmMonthlySales',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('umkm', fields.ForeignKeyField('models.Umkm', source_field='umkm_id', db_constraint=True, to_field='id', related_name='monthly_sales', on_delete=OnDelete.RESTRICT)),
                ('period', fields.CharField(max_length=7)),
                ('amount', fields.BigIntField(default=0)),
                ('orders', fields.IntField(default=0)),
            ],
            options={'table': 'umkm_monthly_sales', 'app': 'models', 'unique_together': (('umkm', 'period'),), 'pk_attr': 'id', 'table_description': 'Platform sales per UMKM and Asia/Jakarta month, maintained where a sale starts counting, and rebuildable.'},
            bases=['Model'],
        ),
    ]
