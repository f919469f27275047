"""Upper-cased display names and platform ids per game, for the panel's whole-name and
whole-id searches (any case). Built without holding the tables' writes on PostgreSQL
(CREATE INDEX CONCURRENTLY, outside a transaction): both tables hold every player."""

from django.db import migrations, models
from django.db.models.functions import Upper

# name: (table, the indexed expressions as the state's Index renders them)
INDEXES = {
    "player_upper_name_game": ("accounts_player", '(UPPER("display_name")), "game_id"'),
    "identity_upper_id_game": (
        "accounts_platformidentity",
        '(UPPER("platform_user_id")), "game_id"',
    ),
}


def _concurrently(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def create_indexes(apps, schema_editor):
    for name, (table, columns) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS "{name}" ON "{table}" ({columns})'
        )


def drop_indexes(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX {_concurrently(schema_editor)}IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0007_revoke_reason_ban_ended"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="player",
                    index=models.Index(
                        Upper("display_name"), "game", name="player_upper_name_game"
                    ),
                ),
                migrations.AddIndex(
                    model_name="platformidentity",
                    index=models.Index(
                        Upper("platform_user_id"), "game", name="identity_upper_id_game"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(create_indexes, drop_indexes)],
        ),
    ]
