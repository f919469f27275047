from datetime import timedelta

import pytest
from django.utils import timezone

from apps.battlepass.models import Season, Tier
from apps.inventory import demo as inventory_demo


@pytest.fixture
def economy(game):
    inventory_demo.seed(game)  # gold, gems; potion, sword, xp-boost


@pytest.fixture
def season(game, economy):
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30)
    )
    for level, xp in [(1, 0), (2, 100), (3, 300)]:
        Tier.objects.create(
            season=season,
            level=level,
            xp_required=xp,
            free_reward=[{"currency": "gold", "quantity": 10 * level}],
            premium_reward=[
                {"currency": "gems", "quantity": level},
                {"sku": "potion", "quantity": 2},
            ],
        )
    return season
