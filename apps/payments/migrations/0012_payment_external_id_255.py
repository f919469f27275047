"""A payment's external_id holds 255 characters, the longest object id Stripe documents (a
checkout session's id over 200 was refused, 503, after Stripe had opened it). Widening a
varchar changes no stored value, and PostgreSQL neither rewrites the table nor rebuilds its
indexes for it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0011_sandbox_callback_closed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="payment",
            name="external_id",
            field=models.CharField(blank=True, max_length=255),
        ),
    ]
