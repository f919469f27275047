"""Ids and numbers sent as more digits than Python's int() reads from a string (4,300: longer is
a ValueError) name nothing, as any id no row has: the page answers (404, or "nothing changed"),
never a 500. Past a bigint's 19 digits no number names a row anyway."""

from __future__ import annotations

import pytest

from apps.leaderboards.models import Board, Entry
from apps.leaderboards.services.periods import open_period
from apps.leaderboards.services.submit import submit_score
from apps.remoteconfig.models import ConfigRelease
from apps.remoteconfig.services import publish, set_key

pytestmark = pytest.mark.django_db

LONG = "9" * 5000  # int(LONG) raises ValueError


@pytest.fixture
def board(game) -> Board:
    board = Board.objects.create(game=game, slug="weekly", name="Weekly")
    open_period(board=board)
    return board


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/panel/?game={long}", None),
        ("get", "{game}/leaderboards/{board}/?player={long}", None),
        ("get", "{game}/leaderboards/{board}/?period={long}", None),
        ("post", "{game}/leaderboards/{board}/end-now", {"period": LONG, "confirm": "yes"}),
        (
            "post",
            "{game}/leaderboards/{board}/remove-entry",
            {"period": "1", "player_id": LONG, "confirm": "yes"},
        ),
    ],
)
def test_a_long_number_names_nothing(operator_client, game, board, player, method, path, body):
    submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
    url = path.format(game=f"/panel/games/{game.pk}", board=board.pk, long=LONG)

    response = getattr(operator_client, method)(url, body or {}, follow=True)

    assert response.status_code in (200, 404), response.status_code
    assert board.periods.get().state == "open"
    assert Entry.objects.filter(player=player).exists()


def test_a_rollback_over_a_long_live_version_changes_nothing(operator_client, game):
    set_key(game=game, actor=None, key="speed", value=1)
    publish(game=game, actor=None)
    set_key(game=game, actor=None, key="speed", value=2)
    publish(game=game, actor=None)

    response = operator_client.post(
        f"/panel/games/{game.pk}/config/rollback",
        {"version": "1", "confirm": "yes", "live": LONG},
        follow=True,
    )

    assert response.status_code == 200
    assert "Nothing changed" in response.content.decode()
    assert ConfigRelease.objects.filter(game=game).count() == 2


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", 42),
        ("9223372036854775807", 9223372036854775807),  # a bigint's largest
        ("99999999999999999999", 0),  # 20 digits: past any row
        (LONG, 0),
        ("", 0),
        ("-1", 0),
        ("\u00b2", 0),  # "²".isdigit() is True
        ("\u0661", 0),  # Arabic-Indic one
    ],
)
def test_typed_number(text, number):
    from apps.panel.selectors import typed_number

    assert typed_number(text) == number
