"""A match result naming an erased player: the others' lines are recorded, the erased player's is
left out whole (no result, stats, XP, season XP, leaderboard entry or analytics event), never a
500 (docs/guide/privacy.md, "After erasure")."""

from __future__ import annotations

import pytest

from apps.accounts.services.privacy import erase_player
from apps.analytics.models import RawEvent
from apps.battlepass.models import SeasonPass
from apps.leaderboards.models import Board, Entry
from apps.multiplayer.models import MatchResult
from apps.stats.models import PlayerProgress, PlayerStat
from tests.multiplayer.conftest import URL, match_body

pytestmark = pytest.mark.django_db


def test_an_erased_players_line_is_left_out_and_the_others_recorded(
    server_client, game, make_players, stat_defs, curve, season
):
    Board.objects.create(
        game=game, slug="kills", name="Kills", source=Board.Source.STAT, stat_key="kills"
    )
    alice, erased, bob = make_players(3)
    assert erase_player(player=erased, actor=None) is True

    response = server_client.post(URL, match_body("m-1", [alice, erased, bob]), format="json")

    assert response.status_code == 201, response.content
    assert [line["player_id"] for line in response.json()["players"]] == [alice.pk, bob.pk]
    assert not MatchResult.objects.filter(player=erased).exists()
    assert not PlayerStat.objects.filter(player=erased).exists()
    assert not PlayerProgress.objects.filter(player=erased).exists()
    assert not SeasonPass.objects.filter(player=erased).exists()
    assert not Entry.objects.filter(player=erased).exists()
    assert not RawEvent.objects.filter(player_id=erased.pk).exists()
    assert MatchResult.objects.filter(player__in=[alice, bob]).count() == 2
    assert Entry.objects.filter(player__in=[alice, bob]).count() == 2

    again = server_client.post(URL, match_body("m-1", [alice, erased, bob]), format="json")
    assert again.status_code == 200, again.content
