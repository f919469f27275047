"""A claim retried after an operator switched the event off: the reward the player claimed
answers 409 already_claimed (docs/guide/offline.md: done), not 404 reward_not_found; one they
never claimed stays reward_not_found, and a claim of a running event costs no query more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Player
from apps.events.models import Event, EventRewardClaim
from apps.events.services import KEY_SHARE_REWARD
from apps.inventory.models import LedgerEntry
from tests.events.conftest import Requirement

URL = "/api/v1/events/claim-reward"

pytestmark = pytest.mark.django_db


def claim(client, reward):
    return client.post(URL, {"event_id": reward.event_id, "reward_id": reward.pk}, format="json")


def switch_off(event: Event) -> None:
    Event.objects.filter(pk=event.pk).update(active=False)


def test_a_claim_retried_after_the_event_was_switched_off_is_already_claimed(
    player_client, player, event, make_reward
):
    reward = make_reward(Requirement.NONE)
    assert claim(player_client, reward).status_code == 201  # the answer the client lost
    switch_off(event)

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (409, "already_claimed")
    assert EventRewardClaim.objects.filter(player=player, reward=reward).count() == 1
    assert LedgerEntry.objects.filter(player=player).count() == 1


def test_an_unclaimed_reward_of_a_switched_off_event_is_still_not_found(
    player_client, player, event, make_reward
):
    reward = make_reward(Requirement.NONE)
    switch_off(event)

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (404, "reward_not_found")
    assert not EventRewardClaim.objects.exists()
    assert not LedgerEntry.objects.filter(player=player).exists()


def test_another_players_claim_does_not_open_a_switched_off_event(
    player_client, player, event, make_reward
):
    reward = make_reward(Requirement.NONE)
    other = Player.objects.create(game=player.game, display_name="carol")
    EventRewardClaim.objects.create(player=other, reward=reward)
    switch_off(event)

    response = claim(player_client, reward)

    assert (response.status_code, response.json()["code"]) == (404, "reward_not_found")
    assert not EventRewardClaim.objects.filter(player=player).exists()


def test_a_claim_of_a_running_event_reads_claims_only_in_the_locking_statement(
    player_client, make_reward
):
    reward = make_reward(Requirement.NONE)

    with CaptureQueriesContext(connection) as captured:
        assert claim(player_client, reward).status_code == 201

    statements = [query["sql"] for query in captured.captured_queries]
    reads = [
        sql
        for sql in statements
        if ("eventrewardclaim" in sql and not sql.lstrip().upper().startswith("INSERT"))
        or KEY_SHARE_REWARD.statement in sql
    ]
    assert len(reads) == 1  # the claim is read with the reward's lock, not by a query of its own
