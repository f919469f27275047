"""What an admin list page of a big table sends (tests/<app>/test_admin_list_queries.py): the
SQL that names its table, the rows it shows, and the checks every such page passes."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.admin_scoping import CappedCountPaginator
from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access

# Django's 100 rows a page, times the pages the capped paginator counts, and one more row (the
# one that tells "10000+" from 10000).
COUNT_LIMIT = admin.ModelAdmin.list_per_page * CappedCountPaginator.max_pages + 1


def signed_in_operator(client, game):
    """`client` signed in as an operator of `game` (an `operator_client` fixture's)."""
    user = get_user_model().objects.create_user("olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def listed(client, url: str, table: str) -> tuple[list[str], list]:
    """The SQL naming `table` that the list page sent, and the rows it shows."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    sent = [query["sql"] for query in captured.captured_queries]
    return [sql for sql in sent if table in sql], list(response.context["cl"].result_list)


def assert_reads_one_page(queries: list[str]) -> None:
    """No distinct values (a filter's, a date drill-down's days), no first and last date, and
    one count, of at most COUNT_LIMIT rows (no second count of the whole table)."""
    assert [sql for sql in queries if "DISTINCT" in sql.upper() or "MIN(" in sql] == []
    [count] = [sql for sql in queries if "COUNT(" in sql]
    assert f"LIMIT {COUNT_LIMIT}" in count


def searched(queries: list[str]) -> list[str]:
    """The page's count and its rows (what the search filters)."""
    found = [sql for sql in queries if "COUNT(" in sql or "LIMIT" in sql]
    assert found
    return found


def assert_searches_player_id_as_a_number(queries: list[str], table: str, player_id: int) -> None:
    for sql in searched(queries):
        assert f'"{table}"."player_id" = {player_id}' in sql
        assert "UPPER(" not in sql and "LIKE" not in sql
