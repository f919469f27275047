"""A provider event's event_id holds 255 characters, the longest object id Stripe documents (a
signed Stripe event whose id was 201 to 255 characters long was refused, 400
invalid_notification, and never processed). Widening a varchar changes no stored value:
PostgreSQL rewrites no row, and keeps the unique index over (provider, event_id) as it is (no
partial index names the column, unlike payment's external_id in 0012). Measured at 1M events:
the ALTER holds `payments_providerevent` for 2 to 5 ms (docs/operations.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0012_payment_external_id_255"),
    ]

    operations = [
        migrations.AlterField(
            model_name="providerevent",
            name="event_id",
            field=models.CharField(max_length=255),
        ),
    ]
