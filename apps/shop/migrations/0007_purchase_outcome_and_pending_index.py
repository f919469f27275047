"""Why a purchase ended unpaid (`outcome`: payment_cancelled, payment_failed, checkout_expired…),
and the few purchases still pending by when they began, for the payments sweeper's stranded
reservations (every minute, without reading every purchase).

Live data: the column carries a database default (the previous release's INSERTs, which do not
name it, still succeed; PostgreSQL adds a constant default without rewriting the table), and the
index is built without holding the table's writes on PostgreSQL (CREATE INDEX CONCURRENTLY,
outside a transaction). Rows that ended before are not backfilled: the API reads their outcome
from their note (`shop.selectors.ended_outcome`)."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0006_purchase_spend_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="purchase",
            name="outcome",
            field=models.CharField(blank=True, db_default="", default="", max_length=40),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="purchase",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["created_at"],
                name="purchase_pending",
            ),
        ),
    ]
