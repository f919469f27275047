import threading
import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from apps.events.models import EventReward, EventRewardClaim
from apps.inventory.models import LedgerEntry, Wallet
from tests.conftest import in_thread
from tests.events.conftest import Requirement

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_8_concurrent_claims_of_one_reward_grant_once(player, make_reward):
    reward = make_reward(Requirement.NONE)
    start = Barrier(8)

    def claim(_: int) -> tuple[int, str]:
        client = APIClient()
        client.force_authenticate(user=player)
        try:
            start.wait()
            response = client.post(
                "/api/v1/events/claim-reward",
                {"event_id": reward.event_id, "reward_id": reward.pk},
                format="json",
            )
            return response.status_code, response.json().get("code", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(claim, range(8)))

    assert sorted(answers) == [(201, "")] + [(409, "already_claimed")] * 7
    assert EventRewardClaim.objects.count() == 1
    assert LedgerEntry.objects.filter(player=player).count() == 1
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 100


def test_a_claim_waiting_on_the_deletion_of_its_reward_is_reward_not_found(player, make_reward):
    reward = make_reward(Requirement.NONE)
    deleted, release = threading.Event(), threading.Event()

    def delete_and_hold() -> None:
        with transaction.atomic():  # an operator deleting the reward, not committed yet
            EventReward.objects.filter(pk=reward.pk).delete()
            deleted.set()
            release.wait(10)

    def claim() -> tuple[int, str]:
        client = APIClient()
        client.force_authenticate(user=player)
        response = client.post(
            "/api/v1/events/claim-reward",
            {"event_id": reward.event_id, "reward_id": reward.pk},
            format="json",
        )
        return response.status_code, response.json().get("code", "")

    deletion = in_thread(delete_and_hold)
    assert deleted.wait(10)
    claiming = in_thread(claim)
    time.sleep(0.3)
    assert not claiming.done()  # waiting on the reward the deletion holds
    release.set()
    deletion.result(10)

    assert claiming.result(10) == (404, "reward_not_found")
    assert not EventRewardClaim.objects.exists()
    assert not LedgerEntry.objects.filter(player=player).exists()
