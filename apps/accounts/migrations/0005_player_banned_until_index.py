"""Banned players by the end of their ban (partial: banned ones only). Built without holding the
table's writes on PostgreSQL (CREATE INDEX CONCURRENTLY, outside a transaction): the table holds
every player. It was a plain CREATE INDEX of the same name and definition until the migrations
were held to docs/operations.md ("Upgrading on live data"); a database that built it so keeps it."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0004_game_require_operator_otp"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="player",
            index=models.Index(
                condition=models.Q(("banned_until__isnull", False)),
                fields=["banned_until"],
                name="player_banned_until",
            ),
        ),
    ]
