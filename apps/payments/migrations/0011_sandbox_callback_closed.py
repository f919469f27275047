"""A sandbox callback the sweeper gave up delivering whose checkout it then closed: `closed`
(a choice only: no SQL)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0010_move_secrets_out_of_config"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sandboxcallback",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending delivery"),
                    ("delivered", "Delivered"),
                    ("closed", "Not delivered; checkout closed unpaid"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
    ]
