"""Index builds for big tables in migrations: CREATE INDEX CONCURRENTLY on PostgreSQL (the
table's writes go on while it builds; the migration must be `atomic = False`), a plain CREATE
INDEX elsewhere (SQLite: the demo, development, some tests)."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


def drop_invalid_index(schema_editor: Any, name: str) -> bool:
    """A concurrent build that failed (cancelled, a deadlock, a duplicate) leaves an invalid
    index of its name behind, which would fail the next attempt or, kept by IF NOT EXISTS,
    serve nothing: it is dropped so the build runs again. True when a valid index of the name
    is there (built by an earlier run of a migration stopped after it)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_index.indisvalid FROM pg_index "
            "JOIN pg_class ON pg_class.oid = pg_index.indexrelid WHERE pg_class.relname = %s",
            [name],
        )
        found = cursor.fetchone()
    if found is not None and not found[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY {schema_editor.quote_name(name)}")
    return found is not None and found[0]


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """Django's AddIndexConcurrently on PostgreSQL (after dropping an invalid leftover of the
    same name; nothing when a valid one is there), its plain AddIndex on any other database."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)
            return
        if drop_invalid_index(schema_editor, self.index.name):
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
            return
        super().database_backwards(app_label, schema_editor, from_state, to_state)
