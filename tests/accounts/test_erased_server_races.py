"""Game-server writes racing an erasure, on PostgreSQL with real threads over HTTP with a real
server key: whichever commits first, nothing personal of the player is left (a cloud save, a
leaderboard entry, a match result), and the write is answered without a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Game, Player
from apps.accounts.services import create_server_key
from apps.cloudsave.models import Document, DocumentVersion, SaveUsage
from apps.leaderboards.models import Board, Entry, Submission
from apps.multiplayer.models import MatchResult
from apps.stats.models import PlayerStat, StatDefinition
from tests.accounts.erasure_races import race_with_erasure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 6


@pytest.fixture
def server(game: Game) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_SERVER_KEY=create_server_key(game=game, name="s").raw_key)
    return client


def test_server_saves_racing_an_erasure_leave_no_document(game: Game, server: APIClient):
    for round_ in range(ROUNDS):
        player = Player.objects.create(game=game, display_name=f"p{round_}")
        url = f"/api/v1/saves/players/{player.pk}"
        server.put(f"{url}/old", {"value": 1}, format="json", HTTP_IF_NONE_MATCH="*")

        def write(url: str = url, round_: int = round_) -> int:
            if round_ % 2:
                return server.put(
                    f"{url}/new", {"value": "x"}, format="json", HTTP_IF_NONE_MATCH="*"
                ).status_code
            writes = [{"key": "old", "value": 2, "version": 1}, {"key": "new", "value": 3}]
            return server.post(url, {"writes": writes}, format="json").status_code

        status, erased = race_with_erasure(write, player)

        assert erased is True
        assert status in (200, 201, 410, 412), status
        assert not Document.objects.filter(player=player).exists()
        assert not DocumentVersion.objects.filter(document__player=player).exists()
        assert not SaveUsage.objects.filter(player=player).exists()


def test_scores_and_match_results_racing_an_erasure_leave_no_entry(game: Game, server: APIClient):
    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    Board.objects.create(game=game, slug="high", name="High")
    Board.objects.create(
        game=game, slug="kills", name="Kills", source=Board.Source.STAT, stat_key="kills"
    )
    other = Player.objects.create(game=game, display_name="other")
    for round_ in range(ROUNDS):
        player = Player.objects.create(game=game, display_name=f"p{round_}")

        def write(player: Player = player, round_: int = round_) -> int:
            if round_ % 2:
                body = {"player_id": player.pk, "score": 7, "submission_id": f"s{round_}"}
                return server.post(
                    "/api/v1/leaderboards/high/scores", body, format="json"
                ).status_code
            lines = [
                {"player_id": p.pk, "outcome": "win", "stats": {"kills": 3}}
                for p in (other, player)
            ]
            body = {"match_id": f"m{round_}", "players": lines}
            return server.post("/api/v1/multiplayer/match-result", body, format="json").status_code

        status, erased = race_with_erasure(write, player)

        assert erased is True
        assert status in (200, 201, 410), status
        # Written first and erased after (its entries of open periods removed), or refused
        # (a score) or left out (a match's line): no entry, no match result is left.
        assert not Entry.objects.filter(player=player).exists()
        if round_ % 2 == 0:
            assert status == 201
            assert MatchResult.objects.filter(match__match_id=f"m{round_}", player=other).exists()
            kept = MatchResult.objects.filter(player=player).exists()
            # Kept pseudonymous only when the match committed before the erasure.
            assert not kept or PlayerStat.objects.filter(player=player).exists()
        else:
            assert status == 410 or Submission.objects.filter(player=player).exists()
