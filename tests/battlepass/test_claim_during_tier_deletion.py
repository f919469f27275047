"""A tier claim racing an admin's deletion of that tier from the season page: the deletion waits
for the claim and is refused with the form's message for a claimed tier, never a 500."""

import contextlib
import threading
from unittest import mock

import pytest
from django.test import Client

from apps.battlepass import services
from apps.battlepass.models import TierClaim
from apps.battlepass.services import add_season_xp, claim_tier
from tests.battlepass.admin_forms import form_as_shown, row_of
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_deletion_of_a_tier_whose_claim_is_under_way_waits_for_it_and_is_refused(
    game, player, season, admin_user
):
    add_season_xp(game_id=game.pk, xp_by_player={player.pk: 100})
    tier = season.tiers.get(level=2)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    url = f"/admin/battlepass/season/{season.pk}/change/"
    data = form_as_shown(client, url)
    data[f"{row_of(data, 'tiers', tier.pk)}-DELETE"] = "on"
    inserted, release = threading.Event(), threading.Event()
    real_grant = services.grant_contents

    def hold_after_the_insert(**kwargs):
        inserted.set()
        release.wait(10)
        return real_grant(**kwargs)

    with mock.patch.object(services, "grant_contents", hold_after_the_insert):
        claim = in_thread(lambda: claim_tier(player=player, level=2, track="free"))
        assert inserted.wait(10)  # the claim's row inserted, not committed
        deletion = in_thread(lambda: client.post(url, data))
        # before the fix the deletion's DELETE waited (its check had passed); after, its lock
        with contextlib.suppress(AssertionError):
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        release.set()
        assert claim.result(10).granted == [{"currency": "gold", "quantity": 20}]
        response = deletion.result(10)

    assert response.status_code == 200  # the form again, with the refusal (was a 500)
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert season.tiers.filter(pk=tier.pk).exists()
    assert TierClaim.objects.filter(player=player, tier=tier).count() == 1
