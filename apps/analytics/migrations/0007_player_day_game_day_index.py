"""PlayerDay by (game, day), built without holding the table's writes on PostgreSQL
(CREATE INDEX CONCURRENTLY, outside a transaction): the table holds every player's every day."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("analytics", "0006_beat_safety"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="playerday",
            index=models.Index(fields=["game_id", "day"], name="player_day_game_day"),
        ),
    ]
