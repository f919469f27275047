"""The tombstones by id, for the daily prune (services.prune_tombstones), built without holding
the documents' writes on PostgreSQL (CREATE INDEX CONCURRENTLY, outside a transaction): the
table holds every document of every player. Partial: the index holds the tombstones only."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.operations import AddIndex


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """A plain CREATE INDEX elsewhere (SQLite: development and tests). As audit 0003's."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)
            return
        # A concurrent build that failed (cancelled, a deadlock) leaves an invalid index of this
        # name behind, which would fail the next attempt: it is dropped first.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid "
                "WHERE pg_class.relname = %s AND NOT pg_index.indisvalid",
                [self.index.name],
            )
            if cursor.fetchone():
                schema_editor.execute(
                    f"DROP INDEX CONCURRENTLY {schema_editor.quote_name(self.index.name)}"
                )
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
            return
        super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cloudsave", "0005_pruned_tombstones"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="document",
            index=models.Index(
                fields=["id"], condition=models.Q(deleted=True), name="save_tombstones"
            ),
        ),
    ]
