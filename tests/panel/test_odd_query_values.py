"""Query values at the edges a form or a lookup reads: the calendar's first and last days,
digits that are not ASCII ("²".isdigit() is True, int("²") fails), U+0000 (which PostgreSQL
refuses in a query). Each page answers; none is a 500."""

from __future__ import annotations

import pytest

from apps.leaderboards.models import Board
from apps.leaderboards.services.periods import open_period

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "players/?created_before=9999-12-31",
        "players/?seen_before=9999-12-31",
        "players/?created_after=0001-01-01",
        "?end=0001-01-05",
        "?start=0001-01-01&end=0001-01-05",
        "export/daily.csv?end=0001-01-05",
        "players/?q=%C2%B2",  # ²
        "players/?q=%E2%91%A0",  # ①
        "leaderboards/{board}/?period=%C2%B2",
        "leaderboards/{board}/?player=%C2%B2",
        "leaderboards/{board}/?player=a%00b",  # U+0000: no name holds it
        "leaderboards/{board}/?player=99999999999999999999",  # past bigint
        "leaderboards/{board}/?period=99999999999999999999",
        "players/?q=99999999999999999999",
    ],
)
def test_edge_values_are_answered_never_a_500(operator_client, game, path):
    board = Board.objects.create(game=game, slug="weekly", name="Weekly")
    open_period(board=board)
    url = f"/panel/games/{game.pk}/" + path.format(board=board.pk)

    response = operator_client.get(url)

    assert response.status_code in (200, 404), (url, response.status_code)
    if response.status_code == 200 and url.endswith(".csv") is False:
        assert b"Server Error" not in response.content


def test_a_game_chosen_with_a_digit_that_is_not_ascii_is_ignored(operator_client):
    response = operator_client.get("/panel/?game=%C2%B2")
    assert response.status_code in (200, 302)


def test_a_draft_key_named_with_u0000_is_refused_not_a_500(operator_client, game):
    """No key holds U+0000 (KeyForm's pattern): deleting one is "no such key", as for any name
    the draft lacks, before PostgreSQL is asked (it refuses the character in a query)."""
    url = f"/panel/games/{game.pk}/config/delete-key"

    asked = operator_client.post(url, {"key": "a\x00b"})
    confirmed = operator_client.post(url, {"key": "a\x00b", "confirm": "yes"}, follow=True)

    assert asked.status_code == 302
    assert confirmed.status_code == 200
    assert "Nothing changed: No draft key" in confirmed.content.decode()
