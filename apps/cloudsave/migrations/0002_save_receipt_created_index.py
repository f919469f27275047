"""Save receipts by age, for the daily prune. Built without holding the table's writes on
PostgreSQL (CREATE INDEX CONCURRENTLY, outside a transaction): the table holds a receipt for
every recent write. It was a plain CREATE INDEX of the same name and definition until the
migrations were held to docs/operations.md ("Upgrading on live data"); a database that built it
so keeps it."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0004_game_require_operator_otp"),
        ("cloudsave", "0001_documents_and_rules"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="savereceipt",
            index=models.Index(fields=["created_at"], name="save_receipt_created"),
        ),
    ]
