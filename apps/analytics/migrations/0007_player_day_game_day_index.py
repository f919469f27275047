"""PlayerDay by (game, day), built without holding the table's writes on PostgreSQL
(CREATE INDEX CONCURRENTLY, outside a transaction): the table holds every player's every day."""

from django.db import migrations, models

INDEX = "player_day_game_day"
TABLE = "analytics_playerday"


def create_index(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {INDEX} ON {TABLE} (game_id, day)"
    )


def drop_index(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("analytics", "0006_beat_safety"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="playerday",
                    index=models.Index(fields=["game_id", "day"], name=INDEX),
                ),
            ],
            database_operations=[migrations.RunPython(create_index, drop_index)],
        ),
    ]
