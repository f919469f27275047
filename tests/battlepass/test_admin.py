from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.battlepass.models import Season, Tier


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
