"""Operations for migrations that run on live data (docs/operations.md, "Upgrading on live
data"): index builds for big tables, CREATE INDEX CONCURRENTLY on PostgreSQL (the table's writes
go on while it builds; the migration must be `atomic = False`) and a plain CREATE INDEX elsewhere
(SQLite: the demo, development, some tests); a column's database default made sure of where
an earlier version of a migration added the column without one; and a data migration's batch of
rows written in one UPDATE (update_rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex
from django.db.migrations.operations.base import Operation


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


class EnsureDatabaseDefault(Operation):
    """Set a column's database default to its field's `db_default` on PostgreSQL, whatever the
    column has (nothing else on other databases; no change to the migration state).

    For a field whose AddField gained `db_default` after some databases had applied it without:
    they get the default here, the others already have it, so every database ends with the same
    schema. The default is what the previous release's INSERTs, which do not name the column,
    store while it still serves."""

    reversible = True

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return type(self).__qualname__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        _, _, args, kwargs = field.deconstruct()
        kwargs.pop("db_default")
        without = type(field)(*args, **kwargs)  # the column as the earlier version added it
        without.set_attributes_from_name(self.name)
        without.model = model
        schema_editor.alter_field(model, without, field)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        pass  # the default goes with the column, when the migration that added it is reversed

    def describe(self) -> str:
        return f"Ensure the database default of {self.model_name}.{self.name}"


def update_rows(
    connection: Any, model: Any, fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Set `fields` of many rows of `model` (a migration's historical model) in one UPDATE on
    `connection` (the migration's: `schema_editor.connection`): each row is its primary key,
    then one value per field. For a data migration's batches: bulk_update builds a CASE
    expression per row and field, which cost Django far more than the database's work (payments
    0004 at 200,000 payments: 62 s with bulk_update, 14 s with this). Values are prepared as the
    fields save them and cast to each column's type (a JSON value to jsonb on PostgreSQL)."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(field.column)} = CAST(v.column{n} AS {field.db_type(connection)})"
        for n, field in enumerate(columns, start=2)
    )
    placeholders = ", ".join(["(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"] * len(rows))
    params: list[Any] = []
    for pk, *values in rows:
        params.append(pk)
        params.extend(
            field.get_db_prep_save(value, connection)
            for field, value in zip(columns, values, strict=True)
        )
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (VALUES {placeholders}) AS v "  # noqa: S608
            f"WHERE {table}.{quote(meta.pk.column)} = v.column1",
            params,
        )
