"""An event deleted in the admin (its page, or the list's bulk delete) while one of its rewards'
claims is under way: the deletion waits for the claim and is refused as for any claimed reward
(the page says it cannot delete it), never a 500 at commit on the claim's foreign key."""

import contextlib
import threading
from unittest import mock

import pytest
from django.test import Client

from apps.events import services
from apps.events.models import Event, EventRewardClaim
from apps.events.services import claim_event_reward
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.events.conftest import Requirement

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def delete_page(event: Event) -> tuple[str, dict[str, str]]:
    return f"/admin/events/event/{event.pk}/delete/", {"post": "yes"}


def bulk_delete(event: Event) -> tuple[str, dict[str, str]]:
    return "/admin/events/event/", {
        "action": "delete_selected",
        "_selected_action": str(event.pk),
        "post": "yes",
    }


@pytest.mark.parametrize("deletion", [delete_page, bulk_delete])
def test_deleting_an_event_whose_reward_is_being_claimed_waits_and_is_refused(
    player, event, make_reward, admin_user, deletion
):
    reward = make_reward(Requirement.NONE)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    url, data = deletion(event)
    inserted, release = threading.Event(), threading.Event()
    real_grant = services.grant_contents

    def hold_after_the_insert(**kwargs):
        inserted.set()
        release.wait(10)
        return real_grant(**kwargs)

    with mock.patch.object(services, "grant_contents", hold_after_the_insert):
        claim = in_thread(
            lambda: claim_event_reward(player=player, event_id=event.pk, reward_id=reward.pk)
        )
        assert inserted.wait(10)  # the claim's row inserted, not committed
        deleting = in_thread(lambda: client.post(url, data))
        # before the fix the deletion's DELETE waited (its check had passed); after, its lock
        with contextlib.suppress(AssertionError):
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        release.set()
        assert claim.result(10).reward_id == reward.pk
        response = deleting.result(10)

    # The confirmation page with the refusal, as for a reward claimed before (was a 500).
    assert response.status_code == 200
    assert "Cannot delete event" in response.content.decode()
    assert Event.objects.filter(pk=event.pk).exists()
    assert EventRewardClaim.objects.filter(player=player, reward=reward).count() == 1


def test_the_delete_page_itself_shows_outside_a_transaction(event, make_reward, admin_user):
    """Django answers the page's GET outside any transaction: it locks nothing (and is no 500)."""
    make_reward(Requirement.NONE)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)

    response = client.get(f"/admin/events/event/{event.pk}/delete/")

    assert response.status_code == 200
    assert Event.objects.filter(pk=event.pk).exists()
