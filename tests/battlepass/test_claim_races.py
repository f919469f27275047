from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.analytics.models import RawEvent
from apps.battlepass.models import TierClaim
from apps.battlepass.services import add_season_xp
from apps.inventory.models import LedgerEntry, Wallet

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
