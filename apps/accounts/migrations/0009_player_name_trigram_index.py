"""The panel's player search by any part of a display name (`display_name__icontains`, which
PostgreSQL runs as `UPPER("display_name"::text) LIKE UPPER('%term%')`) through a trigram GIN
index on that same expression, instead of reading every player of the game.

PostgreSQL only: the pg_trgm extension (trusted since PostgreSQL 13: the database's owner may
create it; one already there is left alone, and so is it when this migration is reversed: other
indexes may use it), and the index built without holding the table's writes (CREATE INDEX
CONCURRENTLY, outside a transaction). SQLite (the demo
and development database) gets neither and scans, as before.

The index is the database's alone, not in the model's state (Player.Meta): SQLite cannot create
a GIN index, and it rebuilds a table with every index of its state whenever a later migration
alters one of its columns."""

from django.db import migrations

from gamingpanel.migration_operations import drop_invalid_index

NAME = "player_name_trgm"
# The expression as Django's icontains emits it (UPPER over the column), with the trigram
# operator class: the planner matches the query's expression to the index's.
CREATE = (
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{NAME}" ON "accounts_player" '
    'USING gin ((UPPER("display_name")) gin_trgm_ops)'
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    drop_invalid_index(schema_editor, NAME)  # a failed concurrent build's leftover
    schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_panel_search_indexes"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
