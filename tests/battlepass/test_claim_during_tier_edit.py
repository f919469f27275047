"""A tier claim racing an admin's edit of that tier: the claim grants what the tier grants as
saved, and an edit of a tier whose claim is under way is refused as for a claimed tier."""

import contextlib
import threading
from unittest import mock

import pytest
from django.test import Client

from apps.battlepass import services
from apps.battlepass.admin import SeasonAdmin
from apps.battlepass.models import TierClaim
from apps.battlepass.services import add_season_xp, claim_tier
from apps.inventory.models import Wallet
from tests.battlepass.admin_forms import form_as_shown, row_of
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEW_REWARD = '[{"currency": "gold", "quantity": 999}]'


def _edit_of_tier_2(admin_user, season) -> tuple[Client, str, dict]:
    client = Client()
    client.force_login(admin_user)
    url = f"/admin/battlepass/season/{season.pk}/change/"
    data = form_as_shown(client, url)
    data[f"{row_of(data, 'tiers', season.tiers.get(level=2).pk)}-free_reward"] = NEW_REWARD
    return client, url, data


def _gold(player) -> int:
    wallet = Wallet.objects.filter(player=player, currency__code="gold").first()
    return wallet.balance if wallet else 0


def test_an_edit_of_a_tier_whose_claim_is_under_way_waits_for_it_and_is_refused(
    game, player, season, admin_user
):
    add_season_xp(game_id=game.pk, xp_by_player={player.pk: 100})
    client, url, data = _edit_of_tier_2(admin_user, season)
    inserted, release = threading.Event(), threading.Event()
    real_grant = services.grant_contents

    def hold_after_the_insert(**kwargs):
        inserted.set()
        release.wait(10)
        return real_grant(**kwargs)

    with mock.patch.object(services, "grant_contents", hold_after_the_insert):
        claim = in_thread(lambda: claim_tier(player=player, level=2, track="free"))
        assert inserted.wait(10)
        edit = in_thread(lambda: client.post(url, data))
        # before the fix the edit went through at once; the checks below say so
        with contextlib.suppress(AssertionError):
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        release.set()
        assert claim.result(10).granted == [{"currency": "gold", "quantity": 20}]
        response = edit.result(10)

    assert response.status_code == 200  # the form again, with the refusal
    assert "Players have claimed this tier" in response.content.decode()
    assert season.tiers.get(level=2).free_reward == [{"currency": "gold", "quantity": 20}]
    assert _gold(player) == 20


def test_a_claim_waiting_on_an_edit_of_its_tier_grants_the_tier_as_edited(
    game, player, season, admin_user
):
    add_season_xp(game_id=game.pk, xp_by_player={player.pk: 100})
    client, url, data = _edit_of_tier_2(admin_user, season)
    saved, release = threading.Event(), threading.Event()
    real_log_change = SeasonAdmin.log_change

    def hold_after_the_save(self, *args, **kwargs):
        saved.set()
        release.wait(10)
        return real_log_change(self, *args, **kwargs)

    with mock.patch.object(SeasonAdmin, "log_change", hold_after_the_save):
        edit = in_thread(lambda: client.post(url, data))
        assert saved.wait(10)  # the tier updated, not committed yet
        claim = in_thread(lambda: claim_tier(player=player, level=2, track="free"))
        # before the fix the claim went through at once; the checks below say so
        with contextlib.suppress(AssertionError):
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        release.set()
        assert edit.result(10).status_code == 302
        result = claim.result(10)

    assert result.granted == [{"currency": "gold", "quantity": 999}]
    assert _gold(player) == 999
    assert season.tiers.get(level=2).free_reward == [{"currency": "gold", "quantity": 999}]
    assert TierClaim.objects.filter(player=player).count() == 1
