"""An erased player's line of a match result is left out, but its stats are checked like every
other line's: under the default `refuse` rule a stat the game does not define is
`400 unknown_stat` whoever has been erased since the server sent the result (as a banned
player's line is)."""

from __future__ import annotations

import pytest

from apps.accounts.services.privacy import erase_player
from apps.multiplayer.models import Match, MatchResult, MatchSettings
from apps.stats.models import PlayerStat
from tests.multiplayer.conftest import URL, match_body

pytestmark = pytest.mark.django_db


def _body_with_erased_stats(players, stats):
    body = match_body("m-1", players)
    body["players"][1]["stats"] = stats
    return body


def test_an_unknown_stat_only_an_erased_players_line_carries_is_400(
    server_client, make_players, stat_defs
):
    alice, erased, bob = make_players(3)
    assert erase_player(player=erased, actor=None) is True

    response = server_client.post(
        URL, _body_with_erased_stats([alice, erased, bob], {"kills": 1, "hats": 3}), format="json"
    )

    assert response.status_code == 400, response.content
    assert (response.json()["code"], response.json()["stats"]) == ("unknown_stat", ["hats"])
    assert not Match.objects.exists()
    assert not PlayerStat.objects.exists()


def test_the_same_body_answers_the_same_before_the_erasure(server_client, make_players, stat_defs):
    alice, later_erased, bob = make_players(3)
    body = _body_with_erased_stats([alice, later_erased, bob], {"kills": 1, "hats": 3})

    before = server_client.post(URL, body, format="json")
    assert erase_player(player=later_erased, actor=None) is True
    after = server_client.post(URL, body, format="json")

    assert (before.status_code, after.status_code) == (400, 400)
    assert before.json()["code"] == after.json()["code"] == "unknown_stat"
    assert before.json()["stats"] == after.json()["stats"] == ["hats"]


def test_a_declared_stat_only_an_erased_players_line_carries_is_recorded_without_it(
    server_client, make_players, stat_defs
):
    alice, erased, bob = make_players(3)
    assert erase_player(player=erased, actor=None) is True

    response = server_client.post(
        URL, _body_with_erased_stats([alice, erased, bob], {"deaths": 4}), format="json"
    )

    assert response.status_code == 201, response.content
    assert [line["player_id"] for line in response.json()["players"]] == [alice.pk, bob.pk]
    assert not PlayerStat.objects.filter(player=erased).exists()
    assert not PlayerStat.objects.filter(definition__key="deaths").exists()


def test_under_the_ignore_rule_an_erased_players_unknown_stat_is_left_out_with_the_line(
    server_client, game, make_players, stat_defs
):
    MatchSettings.objects.create(game=game, undeclared_stats="ignore")
    alice, erased, bob = make_players(3)
    assert erase_player(player=erased, actor=None) is True

    response = server_client.post(
        URL, _body_with_erased_stats([alice, erased, bob], {"kills": 1, "hats": 3}), format="json"
    )

    assert response.status_code == 201, response.content
    lines = response.json()["players"]
    assert [(line["player_id"], line["ignored_stats"]) for line in lines] == [
        (alice.pk, []),
        (bob.pk, []),
    ]
    assert not MatchResult.objects.filter(player=erased).exists()
