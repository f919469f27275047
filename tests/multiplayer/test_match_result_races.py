"""Concurrent posts against PostgreSQL: real threads, each on its own connection."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.analytics.models import RawEvent
from apps.battlepass.models import SeasonPass
from apps.multiplayer.models import Match, MatchResult
from apps.stats.models import PlayerProgress, PlayerStat
from tests.multiplayer.conftest import URL, match_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_concurrently(server_key: str, bodies: list[dict]) -> list[tuple[int, dict]]:
    start = Barrier(len(bodies))

    def post(body: dict) -> tuple[int, dict]:
        client = APIClient()
        client.credentials(HTTP_X_SERVER_KEY=server_key)
        try:
            start.wait()
            response = client.post(URL, body, format="json")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_same_match_posted_5_times_at_once_counts_once(
    server_key, make_players, stat_defs, curve, season
):
    alice, bob = make_players(2)
    body = match_body("m-race", [alice, bob], stats={"kills": 4, "best_score": 9})

    answers = post_concurrently(server_key, [body] * 5)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 200, 200, 200, 201]
    assert all(answer == answers[0][1] for _, answer in answers)
    assert Match.objects.count() == 1
    assert MatchResult.objects.count() == 2
    kills = PlayerStat.objects.get(player=alice, definition__key="kills")
    assert kills.value == 4
    assert PlayerProgress.objects.get(player=alice).xp == 100
    assert SeasonPass.objects.get(player=bob).xp == 25
    assert RawEvent.objects.filter(name="match_played").count() == 2


def test_different_matches_of_the_same_players_at_once_all_add_up(
    server_key, make_players, stat_defs, season
):
    players = make_players(6)
    # Each match lists the players in another order and outcome: locks must not deadlock.
    bodies = [match_body(f"m-{n}", players[n:] + players[:n], stats={"kills": 1}) for n in range(6)]

    answers = post_concurrently(server_key, bodies)

    assert sorted(status for status, _ in answers) == [201] * 6
    assert set(
        PlayerStat.objects.filter(definition__key="kills").values_list("value", flat=True)
    ) == {6}
    # Over six rotations every player won twice, lost twice and drew twice.
    assert set(PlayerProgress.objects.values_list("xp", flat=True)) == {2 * (100 + 25 + 50)}
    assert set(SeasonPass.objects.values_list("xp", flat=True)) == {2 * (100 + 25 + 50)}
