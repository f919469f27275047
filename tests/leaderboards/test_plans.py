"""Leaderboard pages and around-me are compiled per limit bucket, the LIMIT written in, so that
PostgreSQL settles on one plan for each instead of planning every call afresh."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import Player
from apps.leaderboards.models import Entry
from apps.leaderboards.selectors import (
    _AS_JSON,
    _COLUMNS,
    AROUND,
    FIRST,
    FIRST_JSON,
    MAX_LIMIT,
    MAX_RADIUS,
    _page_sql,
    around_player,
    limit_bucket,
    top_entries,
    top_entries_json,
)
from gamingpanel.sql import CompiledQuery
from tests.leaderboards.conftest import current

ENTRIES = 30_000


def test_a_bucket_is_the_smallest_power_of_two_that_holds_the_rows():
    assert [limit_bucket(n) for n in (0, 1, 2, 3, 5, 8, 9, 11, 101)] == [
        1,
        1,
        2,
        4,
        8,
        8,
        16,
        16,
        128,
    ]


def test_every_limit_a_caller_may_ask_has_its_statement_and_no_more():
    assert FIRST.limited(MAX_LIMIT + 1) is FIRST.limited(65)
    assert FIRST.limited(64) is FIRST.limited(33) and "LIMIT 64" in FIRST.limited(64).sql
    # The largest bucket is the largest page, not the power of two above it: no row read for
    # nothing on the page every top-100 asks for.
    assert "LIMIT 101" in FIRST.limited(MAX_LIMIT + 1).sql and "LIMIT %s" not in _sql(FIRST)
    assert "LIMIT 128" not in _sql(FIRST)
    assert "LIMIT 25" in AROUND.limited(MAX_RADIUS).sql
    # Around-me reads each side's rows exactly: every row is a player lookup too.
    assert "LIMIT 5" in AROUND.limited(5).sql and AROUND.limited(5) is not AROUND.limited(6)
    with pytest.raises(ValueError):
        AROUND.limited(MAX_RADIUS + 1)


def _sql(by_limit: object) -> str:
    return " ".join(query.sql for query in by_limit._compiled.values())  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_pages_and_around_me_answer_exactly_the_limit_asked(board, make_players):
    period = current(board)
    players = make_players(12)
    for n, player in enumerate(players):
        Entry.objects.create(
            period=period, player=player, score=n, rank_key=-n, reached_at=timezone.now()
        )

    page = top_entries(period=period, limit=5)  # bucket 8 (six rows asked: one tells "more")
    assert [e.score for e in page.results] == [11, 10, 9, 8, 7] and page.next_cursor
    json_page = top_entries_json(period=period, limit=5)
    assert json_page.results_json.count('"rank"') == 5 and json_page.next_cursor
    assert top_entries(period=period, limit=12).next_cursor is None

    around = around_player(period=period, player_id=players[6].pk, radius=3)  # bucket 4
    assert [e["score"] for e in json.loads(around.results_json)] == [9, 8, 7, 6, 5, 4, 3]
    alone = around_player(period=period, player_id=players[6].pk, radius=0)
    assert [e["score"] for e in json.loads(alone.results_json)] == [6]


def prepared_plans(statement: str) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s",
            [statement],
        )
        return cursor.fetchone()


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_plans_a_page_once_where_a_limit_parameter_made_it_plan_every_call(board, game):
    """The control, the same page with its LIMIT a parameter, shows what this avoids: its one
    plan for any limit looks so costly that PostgreSQL plans each call afresh."""
    period = current(board)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Player._meta.db_table} (game_id, display_name, created_at, ban_reason)
                SELECT %s, 'many-' || n, now(), '' FROM generate_series(1, %s) n""",  # noqa: S608
            [game.pk, ENTRIES],
        )
        cursor.execute(
            f"""INSERT INTO {Entry._meta.db_table}
                    (period_id, player_id, score, rank_key, reached_at, metadata, version)
                SELECT %s, p.id, p.id %% 1000, -(p.id %% 1000), now(), '{{}}', 1
                  FROM {Player._meta.db_table} p WHERE p.game_id = %s""",  # noqa: S608
            [period.pk, game.pk],
        )
        cursor.execute(f"ANALYZE {Entry._meta.db_table}")
        cursor.execute(f"ANALYZE {Player._meta.db_table}")
    with_parameter = CompiledQuery.compile(
        _AS_JSON.replace("{page}", _page_sql(_COLUMNS, after=False)), entry=Entry, player=Player
    )

    for _ in range(10):
        top_entries_json(period=period, limit=100)
        with_parameter.rows([0, 100, 100, 100, 100, period.pk, timezone.now(), 101])

    generic, _custom = prepared_plans(FIRST_JSON.limited(101).statement)
    control_generic, control_custom = prepared_plans(with_parameter.statement)
    assert generic >= 4  # planned once, then that plan reused
    assert control_generic == 0 and control_custom == 10
