"""A season deleted in the admin while season XP (a match result, an event reward) or a premium
pass (a purchase's reservation, its grant) is being added to it: the pass's insert checks its season only at commit (Django's foreign
keys are deferred), so the deletion found no pass, deleted the season, and the grant failed at
commit on its foreign key (a 500, the match result or the claim lost). Now the deletion waits for
the grant and is refused as for any season with passes."""

import contextlib
import threading

import pytest
from django.db import transaction
from django.test import Client

from apps.battlepass.models import Season, SeasonPass
from apps.battlepass.services import add_season_xp, grant_premium, lock_premium_passes
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def held_open(work, inserted: threading.Event, release: threading.Event):
    def run():
        with transaction.atomic():
            result = work()
            inserted.set()
            release.wait(10)
        return result

    return run


@pytest.mark.parametrize(
    "grant",
    [
        lambda player, season: add_season_xp(game_id=season.game_id, xp_by_player={player.pk: 40}),
        lambda player, season: grant_premium(
            player=player, season_id=season.pk, idempotency_key="purchase-1"
        ),
        lambda player, season: lock_premium_passes(player=player, season_ids={season.pk}),
    ],
    ids=["season_xp", "premium", "premium_purchase"],
)
def test_deleting_a_season_while_a_pass_is_being_granted_waits_and_is_refused(
    player, season, admin_user, grant
):
    assert not SeasonPass.objects.filter(season=season).exists()  # nothing protects it yet
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    inserted, release = threading.Event(), threading.Event()

    granting = in_thread(held_open(lambda: grant(player, season), inserted, release))
    assert inserted.wait(10)  # the pass inserted, not committed
    deleting = in_thread(
        lambda: client.post(f"/admin/battlepass/season/{season.pk}/delete/", {"post": "yes"})
    )
    with contextlib.suppress(AssertionError):  # before the fix the deletion did not wait
        wait_until_a_statement_waits_for_a_lock(timeout=3)
    release.set()
    granting.result(10)  # committed: was an IntegrityError on the pass's season
    response = deleting.result(10)

    assert response.status_code == 200
    assert "Cannot delete season" in response.content.decode()
    assert Season.objects.filter(pk=season.pk).exists()
    assert SeasonPass.objects.filter(player=player, season=season).count() == 1


def test_season_xp_added_after_its_season_was_deleted_counts_in_none(player, season, admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post(f"/admin/battlepass/season/{season.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302

    assert add_season_xp(game_id=season.game_id, xp_by_player={player.pk: 40}) is None
    assert not SeasonPass.objects.exists()
