"""A season deleted in the admin (its page, or the list's bulk delete) while a claim of one of
its tiers is under way: the deletion waits for the claim and is refused as for any claimed tier
(the page says it cannot delete it), never a 500 at commit on the claim's foreign key."""

import contextlib
import threading
from unittest import mock

import pytest
from django.test import Client

from apps.battlepass import services
from apps.battlepass.models import Season, SeasonPass, TierClaim
from apps.battlepass.services import claim_tier
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def delete_page(season: Season) -> tuple[str, dict[str, str]]:
    return f"/admin/battlepass/season/{season.pk}/delete/", {"post": "yes"}


def bulk_delete(season: Season) -> tuple[str, dict[str, str]]:
    return "/admin/battlepass/season/", {
        "action": "delete_selected",
        "_selected_action": str(season.pk),
        "post": "yes",
    }


@pytest.mark.parametrize("deletion", [delete_page, bulk_delete])
def test_deleting_a_season_whose_tier_is_being_claimed_waits_and_is_refused(
    player, season, admin_user, deletion
):
    assert not SeasonPass.objects.filter(season=season).exists()  # nothing else protects it
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    url, data = deletion(season)
    inserted, release = threading.Event(), threading.Event()
    real_grant = services.grant_contents

    def hold_after_the_insert(**kwargs):
        inserted.set()
        release.wait(10)
        return real_grant(**kwargs)

    with mock.patch.object(services, "grant_contents", hold_after_the_insert):
        claim = in_thread(lambda: claim_tier(player=player, level=1, track="free"))  # 0 XP
        assert inserted.wait(10)  # the claim's row inserted, not committed
        deleting = in_thread(lambda: client.post(url, data))
        # before the fix the deletion's DELETE waited (its check had passed); after, its lock
        with contextlib.suppress(AssertionError):
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        release.set()
        assert claim.result(10).granted == [{"currency": "gold", "quantity": 10}]
        response = deleting.result(10)

    # The confirmation page with the refusal, as for a tier claimed before (was a 500).
    assert response.status_code == 200
    assert "Cannot delete season" in response.content.decode()
    assert Season.objects.filter(pk=season.pk).exists()
    assert TierClaim.objects.filter(player=player, tier__season=season).count() == 1


def test_a_season_with_no_claims_is_still_deleted(season, admin_user):
    client = Client()
    client.force_login(admin_user)
    url, data = delete_page(season)
    response = client.post(url, data)
    assert response.status_code == 302
    assert not Season.objects.filter(pk=season.pk).exists()


def test_the_delete_page_itself_shows_outside_a_transaction(season, admin_user):
    """Django answers the page's GET outside any transaction: it locks nothing (and is no 500)."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)

    response = client.get(f"/admin/battlepass/season/{season.pk}/delete/")

    assert response.status_code == 200
    assert Season.objects.filter(pk=season.pk).exists()
