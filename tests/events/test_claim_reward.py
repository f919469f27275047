from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.analytics.models import RawEvent
from apps.battlepass.models import SeasonPass
from apps.battlepass.selectors import season_runs
from apps.events.models import Event, EventRewardClaim
from apps.events.services import claim_event_reward
from apps.inventory.models import LedgerEntry, PlayerItem, Wallet
from tests.conftest import wallet_lock_at
from tests.events.conftest import Requirement
from tests.events.test_active_events import play

URL = "/api/v1/events/claim-reward"


def gold(player) -> int:
    wallet = Wallet.objects.filter(player=player, currency__code="gold").first()
    return wallet.balance if wallet else 0


def claim(client, reward):
    return client.post(URL, {"event_id": reward.event_id, "reward_id": reward.pk}, format="json")


@pytest.mark.django_db
def test_login_reward_grants_through_the_ledger_and_records_analytics(
    player_client, player, make_reward
):
    reward = make_reward(Requirement.NONE)

    response = claim(player_client, reward)

    assert response.status_code == 201
    body = response.json()
    assert (body["event_id"], body["reward_id"]) == (reward.event_id, reward.pk)
    assert body["granted"] == {
        "contents": [{"currency": "gold", "quantity": 100}],
        "battlepass_xp": 0,
    }
    assert gold(player) == 100
    entry = LedgerEntry.objects.get(player=player)
    assert (entry.reason, entry.reference) == ("event_reward", f"event:{reward.event_id}")
    analytics = RawEvent.objects.get(name="event_reward_claimed")
    assert analytics.properties == {"event_id": reward.event_id, "reward_id": reward.pk}


@pytest.mark.django_db
def test_second_claim_is_409_already_claimed_and_grants_nothing(player_client, player, make_reward):
    reward = make_reward(Requirement.NONE)
    claim(player_client, reward)

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (409, "already_claimed")
    assert gold(player) == 100
    assert LedgerEntry.objects.count() == 1
    assert RawEvent.objects.filter(name="event_reward_claimed").count() == 1


@pytest.mark.django_db
def test_unmet_requirement_is_409_requirement_not_met(player_client, game, player, make_reward):
    reward = make_reward(Requirement.MATCHES_WON, target=2)
    play(game, player, "m1", "win")

    response = claim(player_client, reward)

    assert response.status_code == 409
    assert response.json()["code"] == "requirement_not_met"
    assert (response.json()["progress"], response.json()["target"]) == (1, 2)
    assert not EventRewardClaim.objects.exists()
    assert gold(player) == 0


@pytest.mark.django_db
def test_met_requirement_grants_items_and_battle_pass_xp(
    player_client, game, player, make_reward, season
):
    reward = make_reward(
        Requirement.MATCHES_PLAYED,
        target=2,
        contents=[{"sku": "potion", "quantity": 3}],
        battlepass_xp=200,
    )
    play(game, player, "m1", "loss")
    play(game, player, "m2", "draw")

    response = claim(player_client, reward)

    assert response.status_code == 201
    assert response.json()["granted"]["battlepass_xp"] == 200
    assert PlayerItem.objects.get(player=player, item__sku="potion").quantity == 3
    assert SeasonPass.objects.get(player=player).xp == 25 + 50 + 200  # two matches + reward


@pytest.mark.django_db
def test_claim_after_the_event_is_409_event_ended(player_client, player, event, make_reward):
    reward = make_reward(Requirement.NONE)
    Event.objects.filter(pk=event.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (409, "event_ended")
    assert not EventRewardClaim.objects.exists()
    assert gold(player) == 0


@pytest.mark.django_db
def test_claim_before_the_event_is_409_event_not_started(player_client, event, make_reward):
    reward = make_reward(Requirement.NONE)
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() + timedelta(hours=1))

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (409, "event_not_started")


@pytest.mark.django_db
def test_reward_of_another_event_or_game_is_404(player_client, other_game, event, make_reward):
    reward = make_reward(Requirement.NONE)
    theirs = Event.objects.create(
        game=other_game, name="B", starts_at=event.starts_at, ends_at=event.ends_at
    )
    their_reward = make_reward(Requirement.NONE, event=theirs)

    wrong_event = player_client.post(
        URL, {"event_id": reward.event_id + 999, "reward_id": reward.pk}, format="json"
    )
    other_game_reward = claim(player_client, their_reward)

    assert (wrong_event.status_code, wrong_event.json()["code"]) == (404, "reward_not_found")
    assert other_game_reward.status_code == 404
    assert not EventRewardClaim.objects.exists()


@pytest.mark.parametrize("body", [{}, {"event_id": "x", "reward_id": 1}, {"event_id": 1}])
@pytest.mark.django_db
def test_malformed_claim_is_400_validation_error(player_client, body):
    response = player_client.post(URL, body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


@pytest.mark.django_db
def test_a_grant_the_economy_refuses_leaves_no_claim(player_client, player, make_reward):
    reward = make_reward(Requirement.NONE, contents=[{"currency": "rubies", "quantity": 1}])

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (400, "unknown_currency")
    assert not EventRewardClaim.objects.exists()
    assert not RawEvent.objects.exists()


@pytest.mark.django_db
def test_server_key_on_claim_is_403_wrong_credential_kind(server_client, make_reward):
    response = claim(server_client, make_reward(Requirement.NONE))

    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")
    assert not EventRewardClaim.objects.exists()


@pytest.mark.django_db
def test_the_claim_fact_travels_with_the_wallet_lock(player_client, player, make_reward):
    reward = make_reward(Requirement.NONE)

    with CaptureQueriesContext(connection) as captured:
        assert claim(player_client, reward).status_code == 201

    fact = [q["sql"] for q in captured.captured_queries if "analytics_rawevent" in q["sql"]]
    assert len(fact) == 1
    if connection.vendor == "postgresql":  # one message: the insert, then the lock
        assert fact[0].index("analytics_rawevent") < wallet_lock_at(fact[0])
    assert RawEvent.objects.filter(name="event_reward_claimed").count() == 1


@pytest.mark.django_db
def test_a_reward_of_battle_pass_xp_only_records_its_fact_and_moves_nothing(
    player_client, player, make_reward, season
):
    reward = make_reward(Requirement.NONE, contents=[], battlepass_xp=50)

    response = claim(player_client, reward)

    assert response.status_code == 201
    assert response.json()["granted"]["contents"] == []
    assert SeasonPass.objects.get(player=player).xp == 50
    assert not LedgerEntry.objects.exists()
    analytics = RawEvent.objects.get(name="event_reward_claimed")
    assert analytics.properties == {"event_id": reward.event_id, "reward_id": reward.pk}


@pytest.mark.django_db
def test_a_claim_made_while_the_season_runs_gets_its_xp_though_the_season_ends_just_after(
    player, make_reward, season
):
    # The claim reads the clock once: the season it checked is the season its XP goes to, even
    # when the season ends before the grant itself runs (the grant reading the clock again
    # spent the claim and granted nothing).
    reward = make_reward(Requirement.NONE, contents=[], battlepass_xp=50)
    season.ends_at = timezone.now() + timedelta(hours=1)
    season.save()
    claimed_at = season.ends_at - timedelta(microseconds=1)
    assert season_runs(
        game_id=player.game_id, at=claimed_at
    )  # the definitions a warm process keeps
    with (
        mock.patch("apps.events.services.timezone", SimpleNamespace(now=lambda: claimed_at)),
        mock.patch(
            "apps.battlepass.selectors.timezone", SimpleNamespace(now=lambda: season.ends_at)
        ),
    ):
        claimed = claim_event_reward(player=player, event_id=reward.event_id, reward_id=reward.pk)

    assert claimed.battlepass_xp == 50
    assert SeasonPass.objects.get(player=player, season=season).xp == 50


@pytest.mark.django_db
def test_a_reward_of_battle_pass_xp_only_waits_for_a_season(player_client, player, make_reward):
    reward = make_reward(Requirement.NONE, contents=[], battlepass_xp=50)
    listed = player_client.get("/api/v1/events/active").json()[0]["rewards"][0]

    response = claim(player_client, reward)

    assert (listed["claimable"], listed["claimed"]) == (False, False)
    assert (response.status_code, response.json()["code"]) == (409, "no_active_season")
    assert not EventRewardClaim.objects.exists()  # still there to claim once a season runs
    assert not RawEvent.objects.filter(name="event_reward_claimed").exists()


@pytest.mark.django_db
def test_a_reward_of_battle_pass_xp_only_is_not_spent_when_the_season_ended_under_the_kept_one(
    player_client, player, make_reward, season
):
    # A warm process keeps the seasons for 2 s (battlepass.selectors.DEFINITIONS_SECONDS). An
    # operator ends the running season now (or deletes it) within them: the claim's grant,
    # read from the database, finds no season. The reward waits for the next one, as when none
    # runs; it was spent for 0 XP.
    reward = make_reward(Requirement.NONE, contents=[], battlepass_xp=50)
    assert season_runs(game_id=player.game_id)  # the definitions a warm process keeps
    season.ends_at = timezone.now()
    season.save()

    response = claim(player_client, reward)

    assert (response.status_code, response.json().get("code")) == (409, "no_active_season")
    assert not EventRewardClaim.objects.exists()  # still there to claim once a season runs
    assert not SeasonPass.objects.exists()
    assert not RawEvent.objects.filter(name="event_reward_claimed").exists()
