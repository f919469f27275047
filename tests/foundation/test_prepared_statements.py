"""Compiled statements (gamingpanel.sql) run prepared on PostgreSQL: planned once per
connection, then executed by name."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import apps
from apps.stats.models import PlayerProgress
from apps.stats.selectors import PLAYER_LEVEL, player_level
from gamingpanel.sql import PREPARES, CompiledQuery, every_compiled_query

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def import_every_app_module() -> None:
    for module in pkgutil.walk_packages(apps.__path__, "apps."):
        if ".migrations" not in module.name and not module.name.endswith(".tests"):
            importlib.import_module(module.name)


def prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def test_postgresql_can_prepare_every_compiled_statement():
    """A parameter PostgreSQL cannot type would fail the PREPARE at run time: such a statement
    must say `unprepared()`."""
    import_every_app_module()
    queries = [query for query in every_compiled_query() if query.prepared]
    assert len(queries) >= 30

    refused = []
    with connection.cursor() as cursor:
        for query in queries:
            try:
                with connection.cursor() as attempt:
                    attempt.execute("SAVEPOINT try_prepare")
                    attempt.execute(query.prepare_sql.replace(query.statement, "gp_probe", 1))
                    attempt.execute("DEALLOCATE gp_probe")
                    attempt.execute("RELEASE SAVEPOINT try_prepare")
            except Exception as error:  # noqa: BLE001 - report them all
                cursor.execute("ROLLBACK TO SAVEPOINT try_prepare")
                refused.append(f"{query.sql[:80]!r}: {error}")
    assert not refused, "\n".join(refused)


def test_a_statement_is_prepared_once_per_connection_and_answers_as_sent_whole(player, game):
    PlayerProgress.objects.create(player=player, xp=1234)
    whole = PLAYER_LEVEL.unprepared()

    with CaptureQueriesContext(connection) as sent:
        first = PLAYER_LEVEL.rows([player.pk, game.pk])
        again = PLAYER_LEVEL.rows([player.pk, game.pk])
        plain = whole.rows([player.pk, game.pk])

    assert first == again == plain == [(1234, None, None, None)]
    assert PLAYER_LEVEL.statement in prepared_here()
    statements = [query["sql"].split()[0] for query in sent]
    assert statements == ["EXECUTE", "EXECUTE", "SELECT"]  # the PREPARE is not a request's query


def test_a_new_connection_prepares_again(player, game, django_db_blocker):
    assert player_level(player_id=player.pk, game_id=game.pk) == 1
    session = connection.connection
    assert PLAYER_LEVEL.statement in PREPARES.on(session)

    # A new session (PostgreSQL restarted, CONN_MAX_AGE passed) has no prepared statements.
    PREPARES.on(session).pop(PLAYER_LEVEL.statement)
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {PLAYER_LEVEL.statement}")

    assert player_level(player_id=player.pk, game_id=game.pk) == 1
    assert PLAYER_LEVEL.statement in prepared_here()


def explain(query: CompiledQuery, params: list) -> str:
    """The plan this session's prepared statement runs with (EXPLAIN EXECUTE runs nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN EXECUTE {query.statement}({', '.join(['%s'] * len(params))})", params
        )
        return "\n".join(line for (line,) in cursor.fetchall())


def test_a_plan_made_while_a_table_was_small_is_made_again_once_it_is_old(
    player, game, settings, monkeypatch
):
    """PostgreSQL keeps a prepared statement's plan for the tables as they were when it was
    made: the login's identity lookup, planned over a handful of identities, kept scanning every
    identity of the game through the `game_id` index once there were thousands. A plan is made
    again once it is DATABASE_PREPARED_PLAN_SECONDS old."""
    from apps.login.services.login import STAMP_IDENTITY

    settings.DATABASE_PREPARED_PLAN_SECONDS = 10
    clock = [1000.0]
    monkeypatch.setattr("gamingpanel.sql.time.monotonic", lambda: clock[0])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
        # The generic plan, which PostgreSQL otherwise picks after five calls.
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    PREPARES.on(connection.connection).clear()
    lookup = [timezone.now(), game.pk, "dev", "someone"]

    STAMP_IDENTITY.execute(lookup)
    planned_small = explain(STAMP_IDENTITY, lookup)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_platformidentity"
            " (game_id, player_id, platform, platform_user_id, created_at)"
            " SELECT %s, %s, 'dev', 'grown-' || n, now() FROM generate_series(1, 20000) n",
            [game.pk, player.pk],
        )
    clock[0] += 9
    STAMP_IDENTITY.execute(lookup)
    planned_while_young = explain(STAMP_IDENTITY, lookup)
    clock[0] += 2
    STAMP_IDENTITY.execute(lookup)
    planned_again = explain(STAMP_IDENTITY, lookup)

    assert "one_player_per_identity" not in planned_small
    assert planned_while_young == planned_small
    assert "Index Cond: ((game_id = $2) AND" in planned_again
    assert "one_player_per_identity" in planned_again
    assert STAMP_IDENTITY.statement in prepared_here()


def test_a_plan_is_kept_for_the_connection_when_plan_seconds_is_0(
    player, game, settings, monkeypatch
):
    settings.DATABASE_PREPARED_PLAN_SECONDS = 0
    clock = [1000.0]
    monkeypatch.setattr("gamingpanel.sql.time.monotonic", lambda: clock[0])
    PREPARES.on(connection.connection).pop(PLAYER_LEVEL.statement, None)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")

    player_level(player_id=player.pk, game_id=game.pk)
    clock[0] += 10**6
    player_level(player_id=player.pk, game_id=game.pk)

    assert PREPARES.on(connection.connection)[PLAYER_LEVEL.statement] == 1000.0


@pytest.mark.django_db(transaction=True)
def test_a_prepare_that_failed_after_its_plan_was_dropped_is_made_again_next_time(
    settings, monkeypatch
):
    """The plan was old: DEALLOCATE went through, then PREPARE failed (its table gone for a
    moment, a lock timeout). The next call prepares it, instead of a DEALLOCATE of nothing
    failing every call until the connection was recycled."""
    from django.db import ProgrammingError

    settings.DATABASE_PREPARED_PLAN_SECONDS = 10
    clock = [1000.0]
    monkeypatch.setattr("gamingpanel.sql.time.monotonic", lambda: clock[0])
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE gp_test_replanned (id int PRIMARY KEY, v int)")
        cursor.execute("INSERT INTO gp_test_replanned VALUES (1, 7)")
    try:
        query = CompiledQuery("SELECT v FROM gp_test_replanned WHERE id = %s", label="replanned")
        assert query.row([1]) == (7,)
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE gp_test_replanned RENAME TO gp_test_replanned_away")
        clock[0] += 11

        with pytest.raises(ProgrammingError):
            query.row([1])  # DEALLOCATE, then a PREPARE of a table that is not there
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE gp_test_replanned_away RENAME TO gp_test_replanned")

        assert query.row([1]) == (7,)
        assert query.statement in prepared_here()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS gp_test_replanned")
            cursor.execute("DROP TABLE IF EXISTS gp_test_replanned_away")


def test_turned_off_the_statement_is_sent_whole(player, game, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    PREPARES.on(connection.connection).clear()

    assert player_level(player_id=player.pk, game_id=game.pk) == 1
    assert PLAYER_LEVEL.statement not in prepared_here()


def test_percent_signs_and_placeholders_are_numbered():
    query = CompiledQuery("SELECT %s, '100%%', %s")

    assert query.prepare_sql.endswith("AS SELECT $1, '100%', $2")
    assert query.execute_sql == f"EXECUTE {query.statement}(%s, %s)"


def test_a_failed_prepare_is_djangos_error_and_is_not_taken_as_prepared():
    from django.db import ProgrammingError, transaction

    broken = CompiledQuery("SELECT %s::no_such_type")

    with pytest.raises(ProgrammingError), transaction.atomic():
        broken.rows([1])

    assert broken.statement not in PREPARES.on(connection.connection)


def test_a_number_beyond_its_parameters_type_is_compared_as_sent(player, game):
    """PostgreSQL types `player.id = $1` as BIGINT: 2**70 would fail the EXECUTE ("bigint out
    of range", a 500). Sent whole it is the number it is, and simply matches nothing."""
    assert player_level(player_id=2**70, game_id=game.pk) == 1
    assert player_level(player_id=player.pk, game_id=-(2**64)) == 1
    assert PREPARES.integer_bounds[PLAYER_LEVEL.statement] == ((-(2**63), 2**63 - 1),) * 2


def test_a_value_moves_lock_wallet_creation_and_write_run_prepared(player, game):
    """The ledger write's statements (apps.inventory.services) are prepared per shape: a second
    move of the same shape EXECUTEs the first one's statements and moves value as the first."""
    from apps.inventory.models import Currency, ItemDefinition, LedgerEntry, PlayerItem, Wallet
    from apps.inventory.services import Change, apply_changes

    Currency.objects.create(game=game, code="gold", name="Gold")
    ItemDefinition.objects.create(game=game, sku="shard", name="Shard")
    changes = [Change("currency", "gold", 5), Change("item", "shard", 2)]

    with CaptureQueriesContext(connection) as sent:
        apply_changes(player=player, changes=changes, reason="test", idempotency_key="first")
        apply_changes(player=player, changes=changes, reason="test", idempotency_key="second")

    executed = [query["sql"] for query in sent if query["sql"].startswith("EXECUTE")]
    names = [sql.split()[1].split("(")[0] for sql in executed]
    for label in ("gp_create_wallets_", "gp_lock_holdings_", "gp_ledger_write_"):
        assert any(name.startswith(label) for name in names), label
    assert sum(name.startswith("gp_ledger_write_") for name in names) == 2
    assert len({name for name in names if name.startswith("gp_ledger_write_")}) == 1
    assert set(names) <= prepared_here()
    assert Wallet.objects.get(player=player).balance == 10
    assert PlayerItem.objects.get(player=player).quantity == 4
    assert sorted(
        LedgerEntry.objects.filter(player=player).values_list("operation_key", "delta")
    ) == [("first", 2), ("first", 5), ("second", 2), ("second", 5)]


def test_an_insert_runs_prepared_and_stores_every_column(player, game):
    from apps.analytics.models import RawEvent
    from apps.analytics.services import record_server_event

    with CaptureQueriesContext(connection) as sent:
        record_server_event(
            game_id=game.pk,
            player_id=player.pk,
            name="purchase_completed",
            properties={"a": [1, "b"]},
        )

    assert [query["sql"].split()[0] for query in sent] == ["EXECUTE"]
    assert "gp_insert_analytics_rawevent_" in sent[0]["sql"]
    event = RawEvent.objects.get(name="purchase_completed")
    assert (event.player_id, event.properties) == (player.pk, {"a": [1, "b"]})
    assert event.received_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_statement_whose_result_type_a_migration_changed_is_prepared_again():
    """PostgreSQL refuses to EXECUTE a plan whose result type changed (a column widened by a
    migration while the process runs): the statement is prepared anew, not failed until the
    connection is recycled."""
    from django.db import NotSupportedError, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE gp_test_widened (id int PRIMARY KEY, v int)")
        cursor.execute("INSERT INTO gp_test_widened VALUES (1, 7)")
    try:
        query = CompiledQuery("SELECT v FROM gp_test_widened WHERE id = %s", label="widened")
        assert query.row([1]) == (7,)
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE gp_test_widened ALTER COLUMN v TYPE bigint")

        assert query.row([1]) == (7,)  # outside a transaction: prepared again at once
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE gp_test_widened ALTER COLUMN v TYPE numeric")
        with pytest.raises(NotSupportedError), transaction.atomic():
            query.row([1])  # inside one, that transaction fails...
        assert query.row([1]) == (7,)  # ...and the next call is prepared anew
        assert query.statement in prepared_here()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE gp_test_widened")
