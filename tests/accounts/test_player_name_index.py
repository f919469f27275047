"""accounts 0009: the trigram index the panel's search by part of a name reads (its plan is in
tests/panel/test_query_shapes.py). PostgreSQL gets it, valid, over the expression Django's
icontains emits; SQLite (demo, development) migrates without it."""

from __future__ import annotations

import importlib

import pytest
from django.db import IntegrityError, connection

from apps.accounts.models import Player

pytestmark = pytest.mark.django_db
migration = importlib.import_module("apps.accounts.migrations.0009_player_name_trigram_index")
NAME = migration.NAME


def player_indexes() -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, "accounts_player")


def index_definition() -> tuple[str, bool] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(pg_index.indexrelid), pg_index.indisvalid FROM pg_index "
            "JOIN pg_class ON pg_class.oid = pg_index.indexrelid WHERE pg_class.relname = %s",
            [NAME],
        )
        return cursor.fetchone()


def test_the_trigram_index_is_built_on_postgresql_only():
    if connection.vendor != "postgresql":
        assert NAME not in player_indexes()
        return
    definition, valid = index_definition()
    assert valid
    assert "USING gin (upper((display_name)::text) gin_trgm_ops)" in definition
    assert NAME not in {index.name for index in Player._meta.indexes}  # SQLite rebuilds those


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failed_concurrent_build_is_built_again(game):
    # What a cancelled CREATE INDEX CONCURRENTLY leaves: an invalid index of that name.
    Player.objects.bulk_create([Player(game=game), Player(game=game)])
    try:
        with connection.schema_editor(atomic=False) as editor:
            migration.drop_index(None, editor)
            with pytest.raises(IntegrityError):
                editor.execute(
                    f'CREATE UNIQUE INDEX CONCURRENTLY "{NAME}" ON accounts_player (game_id)'
                )
        assert index_definition()[1] is False

        with connection.schema_editor(atomic=False) as editor:
            migration.create_index(None, editor)

        definition, valid = index_definition()
        assert valid and "gin_trgm_ops" in definition
    finally:  # the other tests' index, whatever happened here
        with connection.schema_editor(atomic=False) as editor:
            migration.create_index(None, editor)


@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_and_applies_again_leaving_the_extension():
    """Reversed (a rollback of a deploy) it drops its index only: on SQLite it has nothing to
    undo, and on PostgreSQL pg_trgm stays (other indexes may use it)."""
    from django.db.migrations.loader import MigrationLoader

    state = MigrationLoader(connection).project_state(
        ("accounts", migration.__name__.split(".")[-1])
    )
    operations = migration.Migration.operations
    try:
        with connection.schema_editor(atomic=False) as editor:
            for operation in reversed(operations):
                operation.database_backwards("accounts", editor, state, state)
        if connection.vendor == "postgresql":
            assert index_definition() is None
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
                assert cursor.fetchone() is not None
    finally:
        with connection.schema_editor(atomic=False) as editor:
            for operation in operations:
                operation.database_forwards("accounts", editor, state, state)
    if connection.vendor == "postgresql":
        assert index_definition()[1] is True
