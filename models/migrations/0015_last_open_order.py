from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0014_umkm_clusters')]

    initial = False

    operations = [
        ops.AddField(
            model_name='UmkmCategorySales',
            name='last_open_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # the orders open at the upgrade: each seller's latest ordering per category (both engines)
        ops.RunSQL(
            [
                'UPDATE "umkm_category_sales" SET "last_open_at" = (SELECT MAX(o."created_at") FROM "order" o '
                'JOIN "order_item" i ON i."order_id" = o."id" WHERE o."umkm_id" = "umkm_category_sales"."umkm_id" '
                'AND i."category_id" = "umkm_category_sales"."category_id" '
                "AND o.\"status\" IN ('SUBMITTED', 'ACCEPTED', 'SHIPPED'))"
            ],
            reverse_sql=[],
        ),
    ]
