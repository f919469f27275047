"""Scores naming an erased player are refused with 410 player_erased: no submission, no entry
under the tombstone (docs/guide/privacy.md, "After erasure")."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.leaderboards.models import Board, Entry, Submission

pytestmark = pytest.mark.django_db


def test_a_server_score_for_an_erased_player_is_410_and_records_nothing(
    server_client: APIClient, board: Board, make_players
):
    erased, alive = make_players(2)
    assert erase_player(player=erased, actor=None) is True
    url = f"/api/v1/leaderboards/{board.slug}/scores"

    response = server_client.post(
        url, {"player_id": erased.pk, "score": 10, "submission_id": "s1"}, format="json"
    )

    assert response.status_code == 410, response.content
    assert response.json()["code"] == "player_erased"
    assert not Submission.objects.filter(player=erased).exists()
    assert not Entry.objects.filter(player=erased).exists()
    ok = server_client.post(
        url, {"player_id": alive.pk, "score": 10, "submission_id": "s2"}, format="json"
    )
    assert ok.status_code == 201, ok.content


def test_a_players_rank_of_an_erased_player_has_no_entry(
    server_client: APIClient, board: Board, player: Player
):
    url = f"/api/v1/leaderboards/{board.slug}"
    assert (
        server_client.post(
            f"{url}/scores",
            {"player_id": player.pk, "score": 5, "submission_id": "a"},
            format="json",
        ).status_code
        == 201
    )
    erase_player(player=player, actor=None)

    assert server_client.get(f"{url}/players/{player.pk}").json()["entry"] is None
    assert server_client.get(url).json()["results"] == []
