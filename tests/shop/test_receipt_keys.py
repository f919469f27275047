"""A store purchase's row is keyed by its store transaction in the column that holds clients'
Idempotency-Keys: the two can never be the same key, so a client's key never stops a paid
receipt from being granted, nor a redeemed receipt a client's purchase."""

from __future__ import annotations

import re

import pytest

from apps.payments.models import Payment
from apps.payments.providers.base import VerifiedReceipt
from apps.shop.models import Purchase
from apps.shop.services import receipts
from apps.shop.services.receipts import store_purchase_key
from gamingpanel.idempotency import IDEMPOTENCY_KEY_PATTERN
from tests.payments.conftest import mocked_http, real_offer  # noqa: F401 - fixtures
from tests.payments.test_google_play import (  # noqa: F401 - fixtures
    google,
    play,
    purchase_state,
    redeem,
    service_key,
)
from tests.shop.helpers import balance, fund, make_offer

ORDER = "GPA.1234-5678"  # the order id purchase_state's answer carries


def buy_virtual(client, offer, key: str):
    return client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY=key
    )


@pytest.fixture
def virtual_offer(game, real_offer):  # noqa: F811 - real_offer makes the economy
    return make_offer(game, name="Gold pack", price_currency="gold", price_amount=10)


def test_a_receipt_whose_order_id_a_virtual_purchase_used_as_its_key_is_granted(
    player_client,
    player,
    real_offer,  # noqa: F811 - fixture
    virtual_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
):
    """The reviewer's reproduction: was 409 receipt_already_used, paid and nothing granted."""
    fund(player, 100)
    assert buy_virtual(player_client, virtual_offer, f"google_play:{ORDER}").status_code == 201
    purchase_state(play)

    first = redeem(player_client, real_offer)

    assert first.status_code == 201, first.json()
    assert first.json()["transaction_id"] == ORDER
    assert balance(player, "gems") == 100 + 10  # the receipt's 100, the virtual purchase's 10
    payment = Payment.objects.get(provider="google_play")
    assert payment.external_id == ORDER
    assert [call.request.url for call in play.calls if call.request.url.endswith(":consume")]
    # Sent again: the same answer, nothing granted twice.
    again = redeem(player_client, real_offer)
    assert (again.status_code, again.json()) == (200, first.json())
    assert balance(player, "gems") == 110
    assert Purchase.objects.filter(source="receipt").count() == 1


def test_a_virtual_purchase_may_use_a_redeemed_receipts_order_id_as_its_key(
    player_client,
    player,
    real_offer,  # noqa: F811 - fixture
    virtual_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
):
    """The other way round: was 422 idempotency_key_reused."""
    purchase_state(play)
    assert redeem(player_client, real_offer).status_code == 201
    fund(player, 100)

    bought = buy_virtual(player_client, virtual_offer, f"google_play:{ORDER}")

    assert bought.status_code == 201, bought.json()
    assert balance(player, "gold") == 90


def test_a_receipt_redeemed_under_the_old_key_is_still_a_replay(
    player_client,
    player,
    real_offer,  # noqa: F811 - fixture
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
):
    """A row the previous release keyed "google_play:<order id>": sending its receipt again
    answers what it answered, and grants nothing more."""
    purchase_state(play)
    first = redeem(player_client, real_offer)
    assert first.status_code == 201
    Purchase.objects.update(idempotency_key=f"google_play:{ORDER}")  # as it was stored before

    again = redeem(player_client, real_offer)

    assert (again.status_code, again.json()) == (200, first.json())
    assert balance(player, "gems") == 100
    assert Purchase.objects.count() == Payment.objects.count() == 1


@pytest.mark.parametrize("provider", ["apple", "google_play"])
def test_every_stores_receipt_is_granted_whatever_keys_the_player_used(
    monkeypatch,
    player_client,
    player,
    real_offer,  # noqa: F811 - fixture
    virtual_offer,
    provider,
):
    transaction_id = "2000000123456789" if provider == "apple" else ORDER
    monkeypatch.setattr(
        receipts,
        "verify_receipt",
        lambda **given: VerifiedReceipt(
            transaction_id=transaction_id, product_id=given["product_id"]
        ),
    )
    fund(player, 100)
    for key in (f"{provider}:{transaction_id}", transaction_id):
        assert buy_virtual(player_client, virtual_offer, key).status_code == 201

    result = receipts.redeem_receipt(
        player=player, provider=provider, offer_id=real_offer.pk, receipt={}
    )

    assert result.status_code == 201, result.body
    assert balance(player, "gems") == 100 + 20


@pytest.mark.parametrize("provider", ["apple", "google_play"])
@pytest.mark.parametrize(
    "transaction_id",
    ["1", "GPA.1234-5678", "token-sha256:" + "a" * 64, "t" * (200 - len("google_play:"))],
)
def test_no_idempotency_key_is_a_store_purchases_key(provider, transaction_id):
    key = store_purchase_key(provider, transaction_id)

    assert re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key) is None
    # The longest transaction id google_play keeps as it is still fits the column.
    assert len(key) <= Purchase._meta.get_field("idempotency_key").max_length
