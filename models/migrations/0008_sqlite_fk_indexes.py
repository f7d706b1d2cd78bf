"""The foreign-key (and delivery time) indexes migrations 0001 and 0005 declare: Tortoise's SQLite schema editor does
not create them when a field is altered to `db_index=True`, PostgreSQL's does. Same names as on PostgreSQL, so there
this is a no-op. Left out on purpose: the low-selectivity flags (`product.active`, the `status` columns), which
SQLite's planner, without statistics, would prefer to the NEWEST index of migration 0007 and then sort."""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = [
    ("idx_order_buyer_i_791ba7", "order", "buyer_id"),
    ("idx_order_deliver_d1c589", "order", "delivered_at"),
    ("idx_order_opd_id_e988b4", "order", "opd_id"),
    ("idx_order_umkm_id_41a3f8", "order", "umkm_id"),
    ("idx_order_event_order_i_bd254e", "order_event", "order_id"),
    ("idx_order_item_order_i_a417da", "order_item", "order_id"),
    ("idx_product_categor_2b519b", "product", "category_id"),
    ("idx_product_umkm_id_9b76da", "product", "umkm_id"),
    ("idx_umkm_kecamat_ddcde2", "umkm", "kecamatan_id"),
    ("idx_umkm_owner_i_96183a", "umkm", "owner_id"),
]


class Migration(migrations.Migration):
    dependencies = [("models", "0007_product_newest")]

    initial = False

    operations = [
        ops.RunSQL(
            [f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")' for name, table, column in INDEXES],
            reverse_sql=[],
        ),
    ]
