"""A reward no player could ever claim is refused where the operator writes it: an item line (or
the item's lines together) above the item's holding limit (a durable is owned once, a stack has
its max_stack) was accepted, and then every claim of it answered holding_limit_reached for ever,
to every player."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.events.models import EventReward, EventRewardClaim
from apps.inventory.models import LedgerEntry
from tests.battlepass.admin_forms import form_as_shown
from tests.events.test_reward_integrity import operator_client, reward  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "contents, message",
    [
        ([{"sku": "sword", "quantity": 2}], "2 sword, above what a player may hold (1)"),
        (
            [{"sku": "sword", "quantity": 1}, {"sku": "sword", "quantity": 1}],
            "2 sword, above what a player may hold (1)",
        ),
        ([{"sku": "potion", "quantity": 100}], "100 potion, above what a player may hold (99)"),
    ],
)
def test_a_reward_of_more_of_an_item_than_a_player_may_hold_is_refused(event, contents, message):
    with pytest.raises(ValidationError) as refused:
        reward(event, contents=contents).full_clean()

    assert message in refused.value.message_dict["contents"][0]


def test_a_reward_up_to_the_holding_limit_is_accepted(event):
    contents = [
        {"sku": "sword", "quantity": 1},
        {"sku": "potion", "quantity": 98},
        {"sku": "potion", "quantity": 1},
        {"sku": "xp-boost", "quantity": 10**6},  # no limit
        {"currency": "gold", "quantity": 10**9},
    ]
    accepted = reward(event, contents=contents)

    accepted.full_clean()  # a refusal raises ValidationError

    assert accepted.contents == contents


def test_the_event_form_refuses_a_reward_above_the_holding_limit(operator_client, event):  # noqa: F811
    url = f"/admin/events/event/{event.pk}/change/"
    data = form_as_shown(operator_client, url)
    data.update(
        {
            "rewards-TOTAL_FORMS": "1",
            "rewards-0-position": "1",
            "rewards-0-name": "Two swords",
            "rewards-0-requirement": "none",
            "rewards-0-target": "1",
            "rewards-0-contents": '[{"sku": "sword", "quantity": 2}]',
            "rewards-0-battlepass_xp": "0",
        }
    )

    response = operator_client.post(url, data)

    assert response.status_code == 200
    assert "above what a player may hold (1)" in response.content.decode()
    assert not EventReward.objects.exists()
    assert not EventRewardClaim.objects.exists() and not LedgerEntry.objects.exists()
