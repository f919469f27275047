"""The admin list of event reward claims (a row per claimed reward of every event) reads one
page: no total beside the filtered count, a count capped by a LIMIT, and a search by player id
compared as a number (the claims' index leads with it), not part of a name."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.events.models import EventRewardClaim
from tests.accounts.admin_lists import (
    assert_reads_one_page,
    assert_searches_player_id_as_a_number,
    listed,
    signed_in_operator,
)

URL = "/admin/events/eventrewardclaim/"
TABLE = "events_eventrewardclaim"


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def claims(game, player, make_reward):
    reward = make_reward()
    someone = Player.objects.create(game=game, display_name=str(player.pk))  # a name like an id
    return [EventRewardClaim.objects.create(player=who, reward=reward) for who in (player, someone)]


def test_the_list_reads_one_page_and_a_capped_count(operator_client, claims):
    queries, shown = listed(operator_client, URL, TABLE)

    assert len(shown) == 2
    assert_reads_one_page(queries)


def test_a_number_searches_the_player_id_as_a_number(operator_client, claims, player):
    queries, shown = listed(operator_client, f"{URL}?q={player.pk}", TABLE)

    assert shown == [claims[0]]  # not the player named like the id
    assert_searches_player_id_as_a_number(queries, TABLE, player.pk)


def test_a_name_finds_nothing_and_reads_nothing(operator_client, claims, player):
    queries, shown = listed(operator_client, f"{URL}?q={player.display_name}", TABLE)

    assert shown == []
    assert queries == []
