from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.battlepass.models import Season, Tier, TierClaim
from tests.battlepass.admin_forms import form_as_shown, row_of


@pytest.mark.django_db
def test_seasons_of_one_game_may_not_overlap(game, season):
    clash = Season(
        game=game,
        name="S1b",
        starts_at=season.ends_at - timedelta(days=1),
        ends_at=season.ends_at + timedelta(days=5),
    )

    with pytest.raises(ValidationError):
        clash.full_clean()


@pytest.mark.django_db
def test_tier_rewards_must_be_content_lines(season):
    tier = Tier(season=season, level=9, xp_required=1, free_reward=[{"gold": 5}])

    with pytest.raises(ValidationError):
        tier.full_clean()


@pytest.mark.django_db
def test_superuser_sees_seasons_with_tiers(admin_client, season):
    listing = admin_client.get("/admin/battlepass/season/")
    page = admin_client.get(f"/admin/battlepass/season/{season.pk}/change/")

    assert listing.status_code == 200
    assert page.status_code == 200
    assert "tiers-TOTAL_FORMS" in page.content.decode()


@pytest.mark.django_db
def test_the_admin_refuses_to_change_what_a_claimed_tier_needs_or_grants(
    admin_client, season, player
):
    claimed, unclaimed = season.tiers.get(level=2), season.tiers.get(level=3)
    TierClaim.objects.create(player=player, tier=claimed, track=TierClaim.Track.FREE)
    url = f"/admin/battlepass/season/{season.pk}/change/"
    data = form_as_shown(admin_client, url)
    row = row_of(data, "tiers", claimed.pk)
    data[f"{row}-xp_required"] = 50
    data[f"{row}-free_reward"] = '[{"currency": "gold", "quantity": 999}]'

    response = admin_client.post(url, data)

    assert response.status_code == 200  # the form again, with the refusal
    assert "Players have claimed this tier" in response.content.decode()
    claimed.refresh_from_db()
    assert (claimed.xp_required, claimed.free_reward) == (
        100,
        [{"currency": "gold", "quantity": 20}],
    )
    # A tier nobody claimed changes as before.
    data = form_as_shown(admin_client, url)
    data[f"{row_of(data, 'tiers', unclaimed.pk)}-xp_required"] = 400
    assert admin_client.post(url, data).status_code == 302
    assert season.tiers.get(level=3).xp_required == 400
