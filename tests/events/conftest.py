from datetime import timedelta

import pytest
from django.utils import timezone

from apps.battlepass.models import Season
from apps.events.models import Event, EventReward
from apps.inventory import demo as inventory_demo
from apps.stats.models import StatDefinition

Requirement = EventReward.Requirement


@pytest.fixture
def economy(game):
    inventory_demo.seed(game)  # gold, gems; potion, sword, xp-boost


@pytest.fixture
def event(game, economy):
    now = timezone.now()
    return Event.objects.create(
        game=game,
        name="Launch week",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=7),
    )


@pytest.fixture
def make_reward(event):
    def make(requirement=Requirement.NONE, **fields) -> EventReward:
        defaults = {
            "name": requirement,
            "target": 1,
            "contents": [{"currency": "gold", "quantity": 100}],
        }
        return EventReward.objects.create(
            event=fields.pop("event", event), requirement=requirement, **(defaults | fields)
        )

    return make


@pytest.fixture
def season(game):
    now = timezone.now()
    return Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=9)
    )


@pytest.fixture
def lap_and_kills(game):
    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    StatDefinition.objects.create(
        game=game, key="lap_ms", name="Lap", combine=StatDefinition.Combine.MIN
    )
