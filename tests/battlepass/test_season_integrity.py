"""What an operator cannot break by editing a season: tier rewards name only what the game
defines, the XP a tier needs never falls as the tier rises, and claimed tiers and players'
passes are never deleted (deleting them would let players claim again, or lose a paid pass)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.battlepass.models import Season, SeasonPass, Tier, TierClaim
from apps.battlepass.services import grant_premium
from tests.battlepass.admin_forms import form_as_shown

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, game):
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def change_url(season: Season) -> str:
    return f"/admin/battlepass/season/{season.pk}/change/"


def test_a_tier_reward_naming_what_the_game_does_not_define_is_refused(season):
    tier = Tier(
        season=season,
        level=9,
        xp_required=900,
        free_reward=[{"currency": "rubies", "quantity": 5}],
        premium_reward=[{"sku": "laser", "quantity": 1}],
    )

    with pytest.raises(ValidationError) as refused:
        tier.full_clean()

    assert "This game has no currency rubies." in refused.value.message_dict["free_reward"]
    tier.free_reward = [{"currency": "gold", "quantity": 5}]
    with pytest.raises(ValidationError) as refused:
        tier.full_clean()
    assert "This game has no item laser." in refused.value.message_dict["premium_reward"]
    tier.premium_reward = [{"sku": "potion", "quantity": 1}]
    tier.full_clean()


def test_a_tier_reward_of_another_games_currency_is_refused(season, other_game):
    from apps.inventory.models import Currency

    Currency.objects.create(game=other_game, code="rubies", name="Rubies")
    tier = Tier(
        season=season, level=9, xp_required=900, free_reward=[{"currency": "rubies", "quantity": 5}]
    )

    with pytest.raises(ValidationError):
        tier.full_clean()


def test_the_season_add_form_refuses_tiers_of_unknown_codes(operator_client, game, economy):
    now = timezone.now() + timedelta(days=100)
    data = {
        "game": game.pk,
        "name": "S9",
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": "00:00:00",
        "ends_at_0": (now + timedelta(days=30)).strftime("%Y-%m-%d"),
        "ends_at_1": "00:00:00",
        "tiers-TOTAL_FORMS": "1",
        "tiers-INITIAL_FORMS": "0",
        "tiers-0-level": "1",
        "tiers-0-xp_required": "0",
        "tiers-0-free_reward": '[{"currency": "rubies", "quantity": 5}]',
        "tiers-0-premium_reward": "[]",
    }

    refused = operator_client.post("/admin/battlepass/season/add/", data)
    data["tiers-0-free_reward"] = '[{"currency": "gold", "quantity": 5}]'
    added = operator_client.post("/admin/battlepass/season/add/", data)

    assert refused.status_code == 200
    assert "This game has no currency rubies." in refused.content.decode()
    assert added.status_code == 302
    assert Season.objects.get(name="S9").tiers.get().free_reward == [
        {"currency": "gold", "quantity": 5}
    ]


def test_tier_xp_that_falls_as_the_tier_rises_is_refused(operator_client, season):
    data = form_as_shown(operator_client, change_url(season))
    data["tiers-2-xp_required"] = "50"  # tier 3 below tier 2's 100

    refused = operator_client.post(change_url(season), data)
    data["tiers-2-xp_required"] = "100"  # the same as tier 2: allowed
    saved = operator_client.post(change_url(season), data)

    assert refused.status_code == 200
    assert "Tier 3 needs 50 XP, less than tier 2 (100)" in refused.content.decode()
    assert saved.status_code == 302
    assert list(season.tiers.values_list("xp_required", flat=True)) == [0, 100, 100]


def test_a_claimed_tier_is_not_deleted(season, player):
    tier = season.tiers.get(level=1)
    TierClaim.objects.create(player=player, tier=tier, track=TierClaim.Track.FREE)

    with pytest.raises(ProtectedError):
        tier.delete()
    with pytest.raises(ProtectedError):
        season.delete()


def test_deleting_a_claimed_tier_in_the_season_form_is_a_form_error(
    operator_client, season, player
):
    tier = season.tiers.get(level=1)
    TierClaim.objects.create(player=player, tier=tier, track=TierClaim.Track.FREE)
    data = form_as_shown(operator_client, change_url(season))
    data["tiers-0-DELETE"] = "on"

    response = operator_client.post(change_url(season), data)

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert Tier.objects.filter(pk=tier.pk).exists()


def test_an_unclaimed_tier_is_still_deleted_in_the_season_form(operator_client, season):
    data = form_as_shown(operator_client, change_url(season))
    data["tiers-2-DELETE"] = "on"

    response = operator_client.post(change_url(season), data)

    assert response.status_code == 302
    assert list(season.tiers.values_list("level", flat=True)) == [1, 2]


def test_a_season_with_players_passes_is_not_deleted_and_the_admin_says_why(
    operator_client, season, player
):
    grant_premium(player=player, season_id=season.pk, idempotency_key="purchase:1")
    url = f"/admin/battlepass/season/{season.pk}/delete/"

    page = operator_client.get(url)
    response = operator_client.post(url, {"post": "yes"})

    assert page.status_code == response.status_code == 200
    assert "Cannot delete season" in page.content.decode()
    assert "season pass" in page.content.decode()  # what protects it
    assert Season.objects.filter(pk=season.pk).exists()
    assert SeasonPass.objects.get(player=player, season=season).premium is True
