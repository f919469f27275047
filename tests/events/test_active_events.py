from datetime import timedelta

import pytest
from django.utils import timezone

from apps.events.models import Event
from apps.multiplayer.services.matches import PlayerLine, record_match_result
from tests.events.conftest import Requirement

URL = "/api/v1/events/active"


def play(game, player, match_id: str, outcome: str = "win", **stats) -> None:
    now = timezone.now()
    record_match_result(
        game=game,
        match_id=match_id,
        mode="duel",
        started_at=now - timedelta(minutes=5),
        ended_at=now,
        players=[PlayerLine(player_id=player.pk, outcome=outcome, stats=stats)],
    )


@pytest.mark.django_db
def test_running_events_list_rewards_with_progress(
    player_client, game, player, event, make_reward, lap_and_kills
):
    login = make_reward(Requirement.NONE, position=1)
    played = make_reward(Requirement.MATCHES_PLAYED, target=3, position=2, battlepass_xp=50)
    won = make_reward(Requirement.MATCHES_WON, target=1, position=3)
    play(game, player, "m1", "loss", kills=4)
    play(game, player, "m2", "loss", kills=3)

    response = player_client.get(URL)

    assert response.status_code == 200
    (listed,) = response.json()
    assert (listed["id"], listed["name"]) == (event.pk, "Launch week")
    assert [(r["id"], r["progress"], r["claimable"], r["claimed"]) for r in listed["rewards"]] == [
        (login.pk, 1, True, False),
        (played.pk, 2, False, False),
        (won.pk, 0, False, False),
    ]
    assert listed["rewards"][1]["requirement"] == {
        "kind": "matches_played",
        "stat": None,
        "target": 3,
    }
    assert listed["rewards"][1]["grant"] == {
        "contents": [{"currency": "gold", "quantity": 100}],
        "battlepass_xp": 50,
    }


@pytest.mark.django_db
def test_only_matches_during_the_event_count(player_client, game, player, event, make_reward):
    make_reward(Requirement.MATCHES_PLAYED, target=1)
    play(game, player, "before")
    from apps.multiplayer.models import MatchResult

    MatchResult.objects.update(recorded_at=event.starts_at - timedelta(minutes=1))

    (listed,) = player_client.get(URL).json()

    assert (listed["rewards"][0]["progress"], listed["rewards"][0]["claimable"]) == (0, False)


@pytest.mark.django_db
def test_stat_progress_combines_by_the_stats_definition(
    player_client, game, player, make_reward, lap_and_kills
):
    make_reward(Requirement.STAT, stat_key="kills", target=10, position=1)
    make_reward(Requirement.STAT, stat_key="lap_ms", target=60_000, position=2)
    play(game, player, "m1", kills=6, lap_ms=65_000)
    play(game, player, "m2", kills=5, lap_ms=59_500)

    (listed,) = player_client.get(URL).json()

    kills, lap = listed["rewards"]
    assert (kills["progress"], kills["claimable"]) == (11, True)
    # a "min" stat reaches its target by going down to it
    assert (lap["progress"], lap["claimable"]) == (59_500, True)
    assert lap["requirement"] == {"kind": "stat", "stat": "lap_ms", "target": 60_000}


@pytest.mark.django_db
def test_ended_upcoming_and_other_games_events_are_not_listed(
    player_client, game, other_game, event
):
    now = timezone.now()
    Event.objects.create(
        game=game, name="Old", starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=1)
    )
    Event.objects.create(
        game=game, name="Soon", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2)
    )
    Event.objects.create(
        game=other_game,
        name="Theirs",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(1),
    )

    assert [e["name"] for e in player_client.get(URL).json()] == ["Launch week"]


@pytest.mark.django_db
def test_active_events_cost_a_fixed_number_of_queries(
    player_client, game, player, make_reward, lap_and_kills, django_assert_max_num_queries
):
    for n in range(8):
        make_reward(Requirement.MATCHES_PLAYED, target=n + 1)
        make_reward(Requirement.STAT, stat_key="kills", target=n + 1)
    for n in range(5):
        play(game, player, f"m{n}", kills=1)

    with django_assert_max_num_queries(5):
        response = player_client.get(URL)

    assert len(response.json()[0]["rewards"]) == 16


@pytest.mark.django_db
def test_server_key_on_active_events_is_403_wrong_credential_kind(server_client):
    response = server_client.get(URL)

    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")
