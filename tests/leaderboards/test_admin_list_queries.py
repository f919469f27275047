"""The admin lists of leaderboard entries and payouts (a row per player per period of every
board) read one page: no total beside the filtered count, a count capped by a LIMIT, and a
search by player id compared as a number (the player_id index), not part of a name."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.leaderboards.models import Entry, Payout
from tests.accounts.admin_lists import (
    assert_reads_one_page,
    assert_searches_player_id_as_a_number,
    listed,
    signed_in_operator,
)
from tests.leaderboards.conftest import current

ENTRIES = "/admin/leaderboards/entry/"
PAYOUTS = "/admin/leaderboards/payout/"


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def standings(board, game, player):
    period = current(board)
    someone = Player.objects.create(game=game, display_name=str(player.pk))  # a name like an id
    now = timezone.now()
    entries = [
        Entry.objects.create(
            period=period, player=who, score=score, rank_key=-score, reached_at=now
        )
        for who, score in [(player, 50), (someone, 40)]
    ]
    payouts = [
        Payout.objects.create(period=period, player=who, rank=rank, score=score)
        for rank, (who, score) in enumerate([(player, 50), (someone, 40)], start=1)
    ]
    return entries, payouts


@pytest.mark.parametrize(
    ("url", "table"), [(ENTRIES, "leaderboards_entry"), (PAYOUTS, "leaderboards_payout")]
)
def test_the_list_reads_one_page_and_a_capped_count(operator_client, standings, url, table):
    queries, shown = listed(operator_client, url, table)

    assert len(shown) == 2
    assert_reads_one_page(queries)


@pytest.mark.parametrize(
    ("url", "table", "rows"),
    [(ENTRIES, "leaderboards_entry", 0), (PAYOUTS, "leaderboards_payout", 1)],
)
def test_a_number_searches_the_player_id_as_a_number(
    operator_client, standings, player, url, table, rows
):
    queries, shown = listed(operator_client, f"{url}?q={player.pk}", table)

    assert shown == [standings[rows][0]]  # not the player named like the id
    assert_searches_player_id_as_a_number(queries, table, player.pk)


@pytest.mark.parametrize(
    ("url", "table"), [(ENTRIES, "leaderboards_entry"), (PAYOUTS, "leaderboards_payout")]
)
def test_a_name_finds_nothing_and_reads_nothing(operator_client, standings, player, url, table):
    queries, shown = listed(operator_client, f"{url}?q={player.display_name}", table)

    assert shown == []
    assert queries == []  # no player id in it: nothing to look up
