"""An event reward claim that waited on an operator's edit of the reward grants the reward as
edited (the edit locks the reward FOR UPDATE before looking for claims): it granted the
contents of the unlocked read before its lock, the old reward under the new one."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from apps.events.models import EventReward
from apps.events.services import claim_event_reward
from apps.inventory.models import Wallet
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_claim_waiting_on_an_edit_of_its_reward_grants_the_reward_as_edited(
    player, event, make_reward
):
    reward = make_reward()  # 100 gold
    saved, release = threading.Event(), threading.Event()

    def edit() -> None:
        try:
            with transaction.atomic():
                # As the admin's save: the row locked FOR UPDATE, then updated.
                list(EventReward.objects.select_for_update().filter(pk=reward.pk))
                EventReward.objects.filter(pk=reward.pk).update(
                    contents=[{"currency": "gold", "quantity": 999}]
                )
                saved.set()
                release.wait(10)
        finally:
            connection.close()

    editing = in_thread(edit)
    assert saved.wait(10)
    claim = in_thread(
        lambda: claim_event_reward(player=player, event_id=event.pk, reward_id=reward.pk)
    )
    try:
        wait_until_a_statement_waits_for_a_lock()  # the claim, for the reward's row
    finally:
        release.set()
    editing.result(10)
    claimed = claim.result(10)

    assert claimed.contents == [{"currency": "gold", "quantity": 999}]
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 999
