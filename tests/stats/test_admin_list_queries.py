"""The admin lists of per-player stats and progress (rows that grow with the players) read one
page: no total beside the filtered count, a count capped by a LIMIT, and a search by player id
compared as a number (the player_id index), not part of a name."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.stats.models import PlayerProgress, PlayerStat
from tests.accounts.admin_lists import (
    assert_reads_one_page,
    assert_searches_player_id_as_a_number,
    listed,
    signed_in_operator,
)

STATS = ("/admin/stats/playerstat/", "stats_playerstat")
PROGRESS = ("/admin/stats/playerprogress/", "stats_playerprogress")


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def rows(game, player, stat_defs):
    someone = Player.objects.create(game=game, display_name=str(player.pk))  # a name like an id
    now = timezone.now()
    return {
        STATS: [
            PlayerStat.objects.create(
                player=who, definition=stat_defs["kills"], value=3, updated_at=now
            )
            for who in (player, someone)
        ],
        PROGRESS: [PlayerProgress.objects.create(player=who, xp=10) for who in (player, someone)],
    }


@pytest.mark.parametrize("page", [STATS, PROGRESS])
def test_the_list_reads_one_page_and_a_capped_count(operator_client, rows, page):
    url, table = page
    queries, shown = listed(operator_client, url, table)

    assert len(shown) == 2
    assert_reads_one_page(queries)


@pytest.mark.parametrize("page", [STATS, PROGRESS])
def test_a_number_searches_the_player_id_as_a_number(operator_client, rows, player, page):
    url, table = page
    queries, shown = listed(operator_client, f"{url}?q={player.pk}", table)

    assert shown == [rows[page][0]]  # not the player named like the id
    assert_searches_player_id_as_a_number(queries, table, player.pk)


@pytest.mark.parametrize("page", [STATS, PROGRESS])
def test_a_name_finds_nothing_and_reads_nothing(operator_client, rows, player, page):
    url, table = page
    queries, shown = listed(operator_client, f"{url}?q={player.display_name}", table)

    assert shown == []
    assert queries == []


def test_progress_lists_newest_first_through_the_primary_key(operator_client, rows):
    """Not by XP: no index has it (every match result updates it), so each page sorted every
    row of the table."""
    url, table = PROGRESS
    queries, shown = listed(operator_client, url, table)

    [page] = [sql for sql in queries if "ORDER BY" in sql]
    assert f'ORDER BY "{table}"."id" DESC' in page and '"xp" DESC' not in page
    assert shown == sorted(rows[PROGRESS], key=lambda row: -row.pk)
