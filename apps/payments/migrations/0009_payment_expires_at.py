"""Checkouts end: each opened checkout's end (`expires_at`), which the expiry sweep reads through a
partial index of the open ones (built without holding the table's writes on PostgreSQL: CREATE
INDEX CONCURRENTLY, outside a transaction; the table holds every payment).

Checkouts opened before this have no end recorded: they get the 24 h a Stripe session had by
default (the sandbox's had none), so a sandbox checkout left open for months expires at the
sweep's first run and gives its stock and limit slot back."""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import F

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


def end_open_checkouts(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    # One statement over the open payments (the payment_open_created index).
    Payment.objects.filter(status="created", expires_at__isnull=True).exclude(
        checkout_url=""
    ).update(expires_at=F("created_at") + timedelta(days=1))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("payments", "0008_payment_open_created"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(end_open_checkouts, migrations.RunPython.noop, elidable=True),
        AddIndexConcurrentlyOnPostgres(
            model_name="payment",
            index=models.Index(
                condition=models.Q(("expires_at__isnull", False), ("status", "created")),
                fields=["expires_at"],
                name="payment_open_expiry",
            ),
        ),
    ]
