"""Payments still `created` (checkouts open) by when they began: the sweeper's stale and unopened
checkouts (every minute) read these few rows instead of every Stripe or sandbox payment ever
made. Built without holding the table's writes on PostgreSQL (CREATE INDEX CONCURRENTLY,
outside a transaction): the table holds every payment."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("payments", "0007_store_finish_owed"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="payment",
            index=models.Index(
                condition=models.Q(("status", "created")),
                fields=["created_at"],
                name="payment_open_created",
            ),
        ),
    ]
