"""A claim retried after its first answer was lost (docs/guide/offline.md: `already_claimed`
means done): a reward the player claimed answers 409 already_claimed whatever changed since
(the event ended, was moved, the season its XP needs ended), never event_ended and the like,
and without one more query than a claim costs."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.battlepass.models import Season
from apps.events.models import Event, EventRewardClaim
from apps.events.services import KEY_SHARE_REWARD
from apps.inventory.models import LedgerEntry
from tests.events.conftest import Requirement

URL = "/api/v1/events/claim-reward"

pytestmark = pytest.mark.django_db


def claim(client, reward):
    return client.post(URL, {"event_id": reward.event_id, "reward_id": reward.pk}, format="json")


def ended(event: Event) -> None:
    now = timezone.now()
    Event.objects.filter(pk=event.pk).update(
        starts_at=now - timedelta(days=8), ends_at=now - timedelta(seconds=1)
    )


def not_started(event: Event) -> None:
    now = timezone.now()
    Event.objects.filter(pk=event.pk).update(
        starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=8)
    )


@pytest.mark.parametrize("change", [ended, not_started])
def test_a_claim_retried_after_the_events_window_changed_is_already_claimed(
    player_client, player, event, make_reward, change
):
    reward = make_reward(Requirement.NONE)
    assert claim(player_client, reward).status_code == 201  # the answer the client lost
    change(event)

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (409, "already_claimed")
    assert EventRewardClaim.objects.filter(player=player, reward=reward).count() == 1
    assert LedgerEntry.objects.filter(player=player).count() == 1


def test_a_retried_claim_of_battle_pass_xp_after_the_season_ended_is_already_claimed(
    player_client, player, make_reward, season
):
    reward = make_reward(Requirement.NONE, contents=[], battlepass_xp=50)
    assert claim(player_client, reward).status_code == 201
    now = timezone.now()
    Season.objects.filter(pk=season.pk).update(ends_at=now - timedelta(seconds=1))

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (409, "already_claimed")


def test_an_unclaimed_reward_of_an_ended_event_is_still_event_ended(
    player_client, player, event, make_reward
):
    reward = make_reward(Requirement.NONE)
    ended(event)

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (409, "event_ended")
    assert not EventRewardClaim.objects.exists()


def test_the_claim_is_looked_for_in_the_statement_that_locks_the_reward(player_client, make_reward):
    reward = make_reward(Requirement.NONE)
    assert claim(player_client, reward).status_code == 201

    with CaptureQueriesContext(connection) as captured:
        assert claim(player_client, reward).json()["code"] == "already_claimed"

    statements = [query["sql"] for query in captured.captured_queries]
    # On PostgreSQL the statement runs prepared: its EXECUTE names it.
    claims = [
        sql for sql in statements if "eventrewardclaim" in sql or KEY_SHARE_REWARD.statement in sql
    ]
    assert len(claims) == 1  # no query of its own: read with the reward and the player
