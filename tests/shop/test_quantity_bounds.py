"""Quantities stay in range: operators cannot author a line or price past MAX_LINE_QUANTITY, and a
purchase or grant that would take a balance past its BIGINT column is a 409, never a 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.battlepass.contents import validate_contents
from apps.battlepass.models import Tier
from apps.events.models import EventReward
from apps.inventory.errors import HoldingLimitReached
from apps.inventory.models import MAX_AMOUNT, MAX_LINE_QUANTITY, LedgerEntry
from apps.inventory.services import change_balance
from apps.shop.models import Purchase
from apps.shop.validation import validate_offer
from tests.shop.helpers import balance, fund, make_economy, make_offer

URL = "/api/v1/shop/purchase"


@pytest.fixture
def economy(game):
    make_economy(game)


def test_a_grant_past_the_column_range_is_holding_limit_reached(player, economy):
    fund(player, 5)

    with pytest.raises(HoldingLimitReached):
        change_balance(
            player=player, currency="gold", delta=MAX_AMOUNT, reason="t", idempotency_key="big"
        )

    assert balance(player, "gold") == 5
    assert not LedgerEntry.objects.filter(operation_key="big").exists()


def test_a_balance_may_reach_the_column_range_exactly(player, economy):
    change_balance(
        player=player, currency="gold", delta=MAX_AMOUNT, reason="t", idempotency_key="all"
    )

    assert balance(player, "gold") == MAX_AMOUNT


@pytest.mark.parametrize(("funded", "quantity"), [(1, 1), (0, 2)])
def test_buying_an_offer_that_would_overflow_is_409_and_changes_nothing(
    buyer_client, player, game, economy, funded, quantity
):
    # Written straight to the table: an offer from before the authoring bound existed.
    offer = make_offer(
        game, price_amount=0, contents=[{"currency": "gold", "quantity": MAX_AMOUNT}]
    )
    if funded:
        fund(player, funded)

    response = buyer_client.post(
        URL, {"offer_id": offer.pk, "quantity": quantity}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "holding_limit_reached"
    assert balance(player, "gold") == funded
    assert Purchase.objects.filter(status=Purchase.Status.COMPLETED).count() == 0
    assert LedgerEntry.objects.filter(player=player).count() == (1 if funded else 0)


def test_an_offer_line_or_price_past_the_bound_is_refused(game, economy):
    at_bound = make_offer(
        game,
        price_amount=MAX_LINE_QUANTITY,
        contents=[{"currency": "gold", "quantity": MAX_LINE_QUANTITY}],
    )
    assert validate_offer(at_bound) == {}

    past = make_offer(
        game,
        price_amount=MAX_LINE_QUANTITY + 1,
        contents=[{"currency": "gold", "quantity": MAX_AMOUNT}],
    )
    errors = validate_offer(past)

    assert "up to 1,000,000,000,000" in errors["contents"][0]
    assert errors["price_amount"] == ["At most 1,000,000,000,000."]


@pytest.mark.parametrize("quantity", [MAX_LINE_QUANTITY + 1, MAX_AMOUNT, 2**64])
def test_event_and_tier_reward_lines_past_the_bound_are_refused(quantity):
    # Event rewards and battle-pass tiers share this validator (their model fields name it).
    with pytest.raises(ValidationError, match="up to 1,000,000,000,000"):
        validate_contents([{"currency": "gold", "quantity": quantity}])
    validate_contents([{"currency": "gold", "quantity": MAX_LINE_QUANTITY}])


@pytest.mark.parametrize(
    ("model", "field"),
    [(EventReward, "contents"), (Tier, "free_reward"), (Tier, "premium_reward")],
)
def test_event_rewards_and_tiers_validate_their_contents_with_the_bound(model, field):
    assert validate_contents in model._meta.get_field(field).validators


def test_buying_units_whose_total_price_would_overflow_is_409(buyer_client, player, game, economy):
    offer = make_offer(game, price_amount=MAX_AMOUNT)  # legacy: before the authoring bound
    fund(player, 10)

    response = buyer_client.post(
        URL, {"offer_id": offer.pk, "quantity": 2}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "insufficient_funds"
    assert balance(player, "gold") == 10
    assert Purchase.objects.filter(status=Purchase.Status.COMPLETED).count() == 0
