"""gamingpanel.migration_operations: the one way the migrations build an index on a big table
(audit 0003, analytics 0007, accounts 0008, cloudsave 0006; accounts 0009 shares its leftover
check). Run again after a stop it builds what is missing; a failed concurrent build's invalid
leftover is built again. The database default a column added without one is given later
(accounts 0011, analytics 0009, multiplayer 0007). And a data migration's batch written in one
UPDATE (payments 0004, shop 0004)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, models
from django.db.migrations.loader import MigrationLoader

from apps.accounts.models import Player
from gamingpanel.migration_operations import (
    AddIndexConcurrentlyOnPostgres,
    EnsureDatabaseDefault,
    update_rows,
)

NAME = "test_player_game_again"


def index_valid() -> bool | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_index.indisvalid FROM pg_index "
            "JOIN pg_class ON pg_class.oid = pg_index.indexrelid WHERE pg_class.relname = %s",
            [NAME],
        )
        found = cursor.fetchone()
    return None if found is None else found[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_build_runs_again_after_a_stop_and_after_a_failed_build(game):
    operation = AddIndexConcurrentlyOnPostgres(
        model_name="player", index=models.Index(fields=["game", "created_at"], name=NAME)
    )
    before = MigrationLoader(connection).project_state()
    after = before.clone()
    operation.state_forwards("accounts", after)

    def forwards() -> None:
        with connection.schema_editor(atomic=False) as editor:
            operation.database_forwards("accounts", editor, before, after)

    try:
        forwards()
        forwards()  # a migration stopped after this index and run again
        assert index_valid() is True

        with connection.schema_editor(atomic=False) as editor:
            operation.database_backwards("accounts", editor, after, before)
        Player.objects.bulk_create([Player(game=game), Player(game=game)])
        with pytest.raises(IntegrityError), connection.cursor() as cursor:
            cursor.execute(
                f'CREATE UNIQUE INDEX CONCURRENTLY "{NAME}" ON accounts_player (game_id)'
            )
        assert index_valid() is False  # what a failed concurrent build leaves

        forwards()

        assert index_valid() is True
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"')


def column_default(table: str, column: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = %s",
            [table, column],
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_column_added_without_its_database_default_gets_it_and_one_with_it_keeps_it():
    operation = EnsureDatabaseDefault(model_name="matchresult", name="ignored_stats")
    state = MigrationLoader(connection).project_state()

    def forwards() -> None:
        with connection.schema_editor() as editor:
            operation.database_forwards("multiplayer", editor, state, state)

    with connection.cursor() as cursor:  # as multiplayer 0004 left it before it carried one
        cursor.execute(
            "ALTER TABLE multiplayer_matchresult ALTER COLUMN ignored_stats DROP DEFAULT"
        )
    assert column_default("multiplayer_matchresult", "ignored_stats") is None

    forwards()
    assert column_default("multiplayer_matchresult", "ignored_stats") == "'[]'::jsonb"
    forwards()  # a database whose column had it all along
    assert column_default("multiplayer_matchresult", "ignored_stats") == "'[]'::jsonb"


@pytest.mark.django_db
def test_a_batch_of_rows_is_updated_in_one_statement_each_field_as_it_saves(
    game, player, django_assert_num_queries
):
    from apps.shop.models import Category, Offer, Purchase

    category = Category.objects.create(game=game, name="Gold")
    offer = Offer.objects.create(
        game=game, category=category, name="Pile", price_currency="gold", price_amount=10
    )
    made = [
        Purchase.objects.create(
            game=game, player=player, offer=offer, price_currency="gold", price_amount=10
        )
        for _ in range(3)
    ]
    untouched = made.pop()
    lines = [{"currency": "gold", "quantity": 7}, {"sku": 'it\'s "quoted"', "quantity": 1}]

    with django_assert_num_queries(1):
        update_rows(
            connection,
            Purchase,
            ["bought", "reserved_stock", "note"],
            [(made[0].pk, lines, 3, "first"), (made[1].pk, [], 0, "second; DROP TABLE x")],
        )
        update_rows(connection, Purchase, ["note"], [])  # nothing to write: no statement

    first, second, third = (Purchase.objects.get(pk=p.pk) for p in (*made, untouched))
    assert (first.bought, first.reserved_stock, first.note) == (lines, 3, "first")
    assert (second.bought, second.reserved_stock, second.note) == ([], 0, "second; DROP TABLE x")
    assert (third.bought, third.reserved_stock, third.note) == (untouched.bought, 0, "")
