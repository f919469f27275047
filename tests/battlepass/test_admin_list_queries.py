"""The admin lists of season passes and tier claims (rows that grow with the players) read one
page: no total beside the filtered count, a count capped by a LIMIT, no distinct values for the
track filter (a field with choices), and a search by player id compared as a number (their
indexes lead with it), not part of a name."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.battlepass.models import SeasonPass, TierClaim
from tests.accounts.admin_lists import (
    assert_reads_one_page,
    assert_searches_player_id_as_a_number,
    listed,
    signed_in_operator,
)

PASSES = ("/admin/battlepass/seasonpass/", "battlepass_seasonpass")
CLAIMS = ("/admin/battlepass/tierclaim/", "battlepass_tierclaim")


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def rows(game, player, season):
    someone = Player.objects.create(game=game, display_name=str(player.pk))  # a name like an id
    tier = season.tiers.get(level=1)
    return {
        PASSES: [SeasonPass.objects.create(player=who, season=season) for who in (player, someone)],
        CLAIMS: [
            TierClaim.objects.create(player=who, tier=tier, track=TierClaim.Track.FREE)
            for who in (player, someone)
        ],
    }


@pytest.mark.parametrize("page", [PASSES, CLAIMS])
def test_the_list_reads_one_page_and_a_capped_count(operator_client, rows, page):
    url, table = page
    queries, shown = listed(operator_client, url, table)

    assert len(shown) == 2
    assert_reads_one_page(queries)


@pytest.mark.parametrize("page", [PASSES, CLAIMS])
def test_a_number_searches_the_player_id_as_a_number(operator_client, rows, player, page):
    url, table = page
    queries, shown = listed(operator_client, f"{url}?q={player.pk}", table)

    assert shown == [rows[page][0]]  # not the player named like the id
    assert_searches_player_id_as_a_number(queries, table, player.pk)


@pytest.mark.parametrize("page", [PASSES, CLAIMS])
def test_a_name_finds_nothing_and_reads_nothing(operator_client, rows, player, page):
    url, table = page
    queries, shown = listed(operator_client, f"{url}?q={player.display_name}", table)

    assert shown == []
    assert queries == []
