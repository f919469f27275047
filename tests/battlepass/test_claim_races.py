from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.analytics.models import RawEvent
from apps.battlepass.models import TierClaim
from apps.battlepass.services import add_season_xp
from apps.inventory.models import LedgerEntry, Wallet
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_8_concurrent_claims_of_one_tier_grant_once(game, player, season):
    add_season_xp(game_id=game.pk, xp_by_player={player.pk: 100})
    start = Barrier(8)

    def claim(_: int) -> tuple[int, str]:
        client = APIClient()
        client.force_authenticate(user=player)
        try:
            start.wait()
            response = client.post(
                "/api/v1/battlepass/claim", {"level": 2, "track": "free"}, format="json"
            )
            return response.status_code, response.json().get("code", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(claim, range(8)))

    assert sorted(answers) == [(201, "")] + [(409, "already_claimed")] * 7
    assert TierClaim.objects.filter(player=player).count() == 1
    assert LedgerEntry.objects.filter(player=player, reason="battlepass_tier").count() == 1
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 20
    assert RawEvent.objects.filter(name="battlepass_tier_claimed", player=player).count() == 1


def test_a_claim_waiting_on_a_regeneration_of_its_tiers_is_tier_not_found(game, player, season):
    import threading
    from unittest import mock

    from apps.battlepass import authoring
    from apps.battlepass.authoring import TierPattern, generate_tiers
    from apps.battlepass.errors import TierNotFound
    from apps.battlepass.services import claim_tier

    add_season_xp(game_id=game.pk, xp_by_player={player.pk: 100})
    deleted, release = threading.Event(), threading.Event()
    real_record = authoring.record_action

    def hold_after_the_delete(**kwargs):
        deleted.set()
        release.wait(10)
        return real_record(**kwargs)

    pattern = TierPattern(count=3, first_xp=50, free_lines=({"currency": "gold", "quantity": 1},))
    with mock.patch.object(authoring, "record_action", hold_after_the_delete):
        regenerate = in_thread(lambda: generate_tiers(season=season, pattern=pattern, actor=None))
        assert deleted.wait(10)
        claim = in_thread(lambda: claim_tier(player=player, level=2, track="free"))
        wait_until_a_statement_waits_for_a_lock()
        assert not claim.done()  # waiting on the tier the regeneration deleted
        release.set()
        regenerate.result(10)
        with pytest.raises(TierNotFound):
            claim.result(10)

    assert not TierClaim.objects.exists()


def test_a_regeneration_while_a_claim_of_its_tiers_is_under_way_is_refused(game, player, season):
    import threading
    from unittest import mock

    from apps.battlepass import services
    from apps.battlepass.authoring import TierPattern, generate_tiers
    from apps.battlepass.errors import SeasonHasClaims

    add_season_xp(game_id=game.pk, xp_by_player={player.pk: 100})
    inserted, release = threading.Event(), threading.Event()
    real_grant = services.grant_contents

    def hold_after_the_insert(**kwargs):
        inserted.set()
        release.wait(10)
        return real_grant(**kwargs)

    pattern = TierPattern(count=3, first_xp=50, free_lines=({"currency": "gold", "quantity": 1},))
    with mock.patch.object(services, "grant_contents", hold_after_the_insert):
        claim = in_thread(lambda: services.claim_tier(player=player, level=2, track="free"))
        assert inserted.wait(10)
        regenerate = in_thread(lambda: generate_tiers(season=season, pattern=pattern, actor=None))
        with pytest.raises(SeasonHasClaims):  # at once: a claim of its tiers is under way
            regenerate.result(10)
        release.set()
        claim.result(10)

    assert TierClaim.objects.filter(player=player).count() == 1
    assert season.tiers.count() == 3 and season.tiers.get(level=2).xp_required == 100
