"""Tombstones are pruned (services.prune_tombstones): each player keeps the highest version its
pruned tombstones reached, above which new documents start."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cloudsave", "0004_save_documents_limit"),
    ]

    operations = [
        migrations.AddField(
            model_name="saveusage",
            name="pruned_version",
            field=models.PositiveIntegerField(default=0, db_default=0),
        ),
        migrations.AlterField(
            model_name="savesettings",
            name="max_documents",
            field=models.PositiveIntegerField(
                default=1000,
                help_text="Keys one player may have, deleted ones included until they are pruned "
                "(CLOUDSAVE_TOMBSTONE_DAYS after the delete): until then a deleted document keeps "
                "its version and kept versions (for a restore), and writing its key again reuses "
                "it.",
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
    ]
