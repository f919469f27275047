"""A stat board takes its scores from match results only: a player's own score is refused there
(`409 board_fed_by_stat`) whatever its client-submissions flag says. So the flag is refused on a
stat board when saved, and the board list never tells clients that one takes their scores (a
board saved with it before: `client_submissions: false`, as the submission answers)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.leaderboards.models import Board
from apps.stats.models import StatDefinition

pytestmark = pytest.mark.django_db


@pytest.fixture
def kills(game) -> StatDefinition:
    return StatDefinition.objects.create(game=game, key="kills", name="Kills")


def test_a_stat_board_taking_client_submissions_is_refused(game, kills):
    board = Board(
        game=game,
        slug="kills",
        name="Kills",
        source=Board.Source.STAT,
        stat_key="kills",
        allow_client_submissions=True,
    )

    with pytest.raises(ValidationError) as refused:
        board.full_clean()

    assert "allow_client_submissions" in refused.value.message_dict
    board.allow_client_submissions = False
    board.full_clean()


def test_the_list_says_a_stat_board_takes_no_client_scores_as_its_submission_answers(
    game, kills, make_board, player_client
):
    make_board(
        "kills", source=Board.Source.STAT, stat_key="kills", allow_client_submissions=True
    )  # saved before the rule
    make_board("laps", allow_client_submissions=True)

    listed = player_client.get("/api/v1/leaderboards").json()
    refused = player_client.post(
        "/api/v1/leaderboards/kills/my-score", {"submission_id": "s1", "score": 3}, format="json"
    )

    assert {board["slug"]: board["client_submissions"] for board in listed} == {
        "kills": False,
        "laps": True,
    }
    assert (refused.status_code, refused.json()["code"]) == (409, "board_fed_by_stat")
