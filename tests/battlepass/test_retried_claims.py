"""A tier claim retried after its first answer was lost (docs/guide/offline.md: `already_claimed`
means done): a tier the player claimed answers 409 already_claimed whatever changed since (its
season ended or was ended early, the premium pass is gone), never no_active_season and the
like, and the claim costs no query more than it did."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.battlepass.models import Season, SeasonPass, TierClaim
from apps.battlepass.services import (
    KEY_SHARE_TIER,
    add_season_xp,
    grant_premium,
)
from apps.inventory.models import LedgerEntry

CLAIM = "/api/v1/battlepass/claim"

pytestmark = pytest.mark.django_db


def claim(client, tier: int, track: str = "free"):
    return client.post(CLAIM, {"tier": tier, "track": track}, format="json")


def end(season: Season) -> None:
    Season.objects.filter(pk=season.pk).update(ends_at=timezone.now() - timedelta(seconds=1))


def test_a_claim_retried_after_its_season_ended_is_already_claimed(player_client, player, season):
    assert claim(player_client, 1).status_code == 201  # the answer the client lost
    end(season)

    response = claim(player_client, 1)

    assert (response.status_code, response.json()["code"]) == (409, "already_claimed")
    assert TierClaim.objects.filter(player=player).count() == 1
    assert LedgerEntry.objects.filter(player=player).count() == 1


def test_a_claim_retried_after_the_premium_pass_went_is_already_claimed(
    player_client, player, season
):
    grant_premium(player=player, season_id=season.pk, idempotency_key="order-1")
    assert claim(player_client, 1, "premium").status_code == 201
    SeasonPass.objects.filter(player=player, season=season).update(premium=False)  # refunded

    response = claim(player_client, 1, "premium")

    assert (response.status_code, response.json()["code"]) == (409, "already_claimed")


def test_after_the_season_ended_an_unclaimed_tier_or_track_is_still_no_active_season(
    player_client, player, season
):
    add_season_xp(game_id=season.game_id, xp_by_player={player.pk: 100})
    assert claim(player_client, 1).status_code == 201
    end(season)

    for tier, track in [(2, "free"), (1, "premium")]:
        response = claim(player_client, tier, track)
        assert (response.status_code, response.json()["code"]) == (409, "no_active_season")


def test_a_claim_in_an_earlier_season_is_not_the_ended_ones(player_client, player, season, game):
    """Only the season that ended last is taken for the one a retry meant."""
    assert claim(player_client, 1).status_code == 201
    now = timezone.now()
    Season.objects.filter(pk=season.pk).update(
        starts_at=now - timedelta(days=30), ends_at=now - timedelta(days=20)
    )
    Season.objects.create(
        game=game, name="S2", starts_at=now - timedelta(days=10), ends_at=now - timedelta(days=1)
    )

    response = claim(player_client, 1)

    assert (response.status_code, response.json()["code"]) == (409, "no_active_season")


def test_the_claims_are_looked_for_in_the_statements_already_sent(player_client, player, season):
    with CaptureQueriesContext(connection) as first:
        assert claim(player_client, 1).status_code == 201
    with CaptureQueriesContext(connection) as retried:
        assert claim(player_client, 1).json()["code"] == "already_claimed"

    def compiled(sql: str) -> bool:  # PostgreSQL EXECUTEs them by name; SQLite's text
        return KEY_SHARE_TIER.statement in sql or KEY_SHARE_TIER.sql.split("%s")[0] in sql

    assert sum(compiled(query["sql"]) for query in first.captured_queries) == 1
    of_their_own = [
        query["sql"]
        for query in first.captured_queries
        if "battlepass_tierclaim" in query["sql"]
        and "INSERT" not in query["sql"]
        and not compiled(query["sql"])
    ]
    assert of_their_own == []  # the claim is read in the tier's lock statement
    # The retry stops at the tier's lock: the season, the tier, the lock (and the request's own).
    assert len(retried.captured_queries) < len(first.captured_queries)
