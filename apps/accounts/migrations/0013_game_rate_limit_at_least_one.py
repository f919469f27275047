"""A game's own hourly budget is at least 1: a stored 0 always ran on the default
(RATE_LIMIT_PER_HOUR), so it becomes empty, which says so. Nothing a request sees changes."""

import django.core.validators
from django.db import migrations, models


def zero_means_the_default(apps, schema_editor):
    Game = apps.get_model("accounts", "Game")
    Game.objects.filter(rate_limit_per_hour=0).update(rate_limit_per_hour=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_player_erased_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="game",
            name="rate_limit_per_hour",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Requests per hour per login session (empty: RATE_LIMIT_PER_HOUR).",
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
        migrations.RunPython(zero_means_the_default, migrations.RunPython.noop, elidable=True),
    ]
