"""A tier whose reward box an operator leaves empty (or types null, {} or "" in) grants no lines
on that track: the empty JSON values skip the field's validators (Django runs none on an empty
value), so the box left empty or null was a 500 (the column is NOT NULL) and {} or "" was
stored as such, not as a list of lines."""

from __future__ import annotations

import pytest

from apps.battlepass.models import SeasonPass, Tier
from tests.battlepass.admin_forms import form_as_shown
from tests.battlepass.test_season_integrity import change_url, operator_client  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["", "null", "{}", '""', "[]"])
def test_a_tier_whose_premium_reward_is_left_empty_grants_no_lines(
    operator_client,  # noqa: F811
    player_client,
    player,
    season,
    typed,
):
    data = form_as_shown(operator_client, change_url(season))
    data["tiers-0-premium_reward"] = typed

    response = operator_client.post(change_url(season), data)

    assert response.status_code == 302
    assert season.tiers.get(level=1).premium_reward == []
    SeasonPass.objects.create(player=player, season=season, premium=True)
    claimed = player_client.post(
        "/api/v1/battlepass/claim", {"tier": 1, "track": "premium"}, format="json"
    )
    assert claimed.status_code == 201
    assert claimed.json()["granted"] == []
    progress = player_client.get("/api/v1/battlepass/progress").json()
    assert progress["tiers"][0]["premium_reward"] == []


@pytest.mark.parametrize("value", [None, "", {}, ()])
def test_empty_tier_rewards_are_cleaned_to_no_lines(season, value):
    tier = Tier(season=season, level=9, xp_required=900, free_reward=value, premium_reward=value)

    tier.full_clean()

    assert (tier.free_reward, tier.premium_reward) == ([], [])
