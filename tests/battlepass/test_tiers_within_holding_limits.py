"""A tier no player could ever claim on a track is refused where the operator writes it: an item
line (or the item's lines together) above the item's holding limit (a durable is owned once, a
stack has its max_stack) was accepted by the season form and by "generate tiers" (where a
reward growth carried a stack past it), and then every claim of it answered
holding_limit_reached for ever, to every player."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.models import GameAccess
from apps.battlepass.authoring import TierPattern, generate_tiers
from apps.battlepass.models import Tier
from tests.battlepass.test_authoring import PATTERN, generate_url, user

pytestmark = pytest.mark.django_db


def test_a_tier_of_more_of_an_item_than_a_player_may_hold_is_refused(season):
    tier = Tier(
        season=season,
        level=9,
        xp_required=900,
        free_reward=[{"sku": "potion", "quantity": 60}, {"sku": "potion", "quantity": 40}],
        premium_reward=[{"sku": "sword", "quantity": 2}],
    )

    with pytest.raises(ValidationError) as refused:
        tier.full_clean()

    assert (
        "100 potion, above what a player may hold (99)"
        in (refused.value.message_dict["free_reward"][0])
    )
    tier.free_reward = [{"sku": "potion", "quantity": 99}]
    with pytest.raises(ValidationError) as refused:
        tier.full_clean()
    assert (
        "2 sword, above what a player may hold (1)"
        in (refused.value.message_dict["premium_reward"][0])
    )
    tier.premium_reward = [{"sku": "sword", "quantity": 1}]
    tier.full_clean()


def test_generating_tiers_whose_rewards_grow_past_the_holding_limit_is_refused(
    client, game, season
):
    client.force_login(user(game, "olga", GameAccess.Role.OPERATOR))
    pattern = {**PATTERN, "premium_quantity": 50, "reward_growth_percent": 100, "generate": "1"}

    response = client.post(generate_url(season), pattern, follow=True)

    assert "Nothing changed" in response.content.decode()
    assert "potion" in response.content.decode()
    assert season.tiers.count() == 3  # the season's tiers as they were


def test_generate_tiers_refuses_a_durable_twice(season):
    pattern = TierPattern(count=2, first_xp=10, free_lines=({"sku": "sword", "quantity": 2},))

    with pytest.raises(ValidationError):
        generate_tiers(season=season, pattern=pattern, actor=None)

    assert season.tiers.count() == 3
