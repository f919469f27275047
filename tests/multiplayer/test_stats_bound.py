"""A player's `stats` are counted before any of them is validated (BoundedDictField): a body of
thousands of stats is refused without checking each value."""

import pytest

from apps.accounts.api_base import StrictIntegerField
from apps.multiplayer.api import MAX_STATS_PER_PLAYER
from apps.multiplayer.models import Match
from tests.multiplayer.conftest import URL

TOO_MANY = {
    "type": "/docs/errors#validation_error",
    "title": "Invalid input",
    "status": 400,
    "detail": "See errors.",
    "code": "validation_error",
    "errors": {"players": [{"stats": ["At most 64 stats per player."]}]},
}


def result_with(player, stats: dict) -> dict:
    return {
        "match_id": "m-1",
        "players": [{"player_id": player.pk, "outcome": "win", "stats": stats}],
    }


@pytest.mark.django_db
def test_more_stats_than_allowed_answer_the_same_problem_as_before(server_client, make_players):
    (alice,) = make_players(1)
    stats = {f"s{n}": n for n in range(MAX_STATS_PER_PLAYER + 1)}

    response = server_client.post(URL, result_with(alice, stats), format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == TOO_MANY
    assert not Match.objects.exists()


@pytest.mark.django_db
def test_too_many_stats_are_refused_before_any_value_is_validated(
    server_client, make_players, monkeypatch
):
    (alice,) = make_players(1)
    checked = []
    validate = StrictIntegerField.to_internal_value

    def counting(field, data):
        checked.append(data)
        return validate(field, data)

    monkeypatch.setattr(StrictIntegerField, "to_internal_value", counting)
    # Values no stat takes: were they validated first, each would be named in the errors.
    stats = {f"s{n}": "not a number" for n in range(5_000)}

    response = server_client.post(URL, result_with(alice, stats), format="json")

    assert response.status_code == 400
    assert response.json() == TOO_MANY
    assert len(checked) == 1  # the player's id only, none of the 5,000 values


@pytest.mark.django_db
def test_as_many_stats_as_allowed_are_still_checked_one_by_one(server_client, make_players):
    (alice,) = make_players(1)
    stats = {f"s{n}": n for n in range(MAX_STATS_PER_PLAYER)} | {"s0": "x"}

    response = server_client.post(URL, result_with(alice, stats), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "players": [{"stats": {"s0": ["A valid integer is required."]}}]
    }
