"""Player progress by XP (then player), for the panel's player list sorted by level. Built
without holding the table's writes on PostgreSQL (CREATE INDEX CONCURRENTLY, outside a
transaction): the table holds a row for every player who ever earned XP."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("stats", "0003_stat_value_at"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="playerprogress",
            index=models.Index(fields=["xp", "player"], name="progress_xp_player"),
        ),
    ]
