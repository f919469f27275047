"""What an `invalid_cursor` answer says: a cursor is refused when it cannot be read (or is of
another period), not for being one the API did not give: a well-formed cursor the API did not
give is read as the position it names (docs/guide/index.md), so the detail must not claim the
API tells its own cursors from others."""

from __future__ import annotations

import base64

import pytest

from tests.leaderboards.conftest import current

pytestmark = pytest.mark.django_db


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["bm90LWEtY3Vyc29y", "", "A" * 201])
def test_an_unreadable_cursor_is_refused_as_unreadable(player_client, board, cursor):
    current(board)
    response = player_client.get(f"/api/v1/leaderboards/high?cursor={cursor}")

    body = response.json()
    assert (response.status_code, body["code"]) == (400, "invalid_cursor")
    assert "cannot be read" in body["detail"]
    assert "gave" not in body["detail"]


def test_a_well_formed_cursor_the_api_did_not_give_is_read(player_client, board):
    period = current(board)
    built = _cursor(f"{period.pk}:1:0:0:1")

    response = player_client.get(f"/api/v1/leaderboards/high?cursor={built}")

    assert response.status_code == 200
