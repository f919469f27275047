"""A store receipt names only the store's product, so a product belongs to one offer of a game:
saving a second offer with it is refused, and a receipt of a product that rows saved before
share is refused (409 store_product_ambiguous) rather than granted as the offer the client
chose."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ValidationError

from apps.payments.models import ProviderAccount
from apps.shop.forms import OfferAdminForm
from apps.shop.models import Offer, Purchase
from apps.shop.services.authoring import clone_offer
from tests.payments.apple_chain import make_chain
from tests.shop.helpers import balance, make_economy, make_offer

pytestmark = pytest.mark.django_db

BUNDLE = "com.example.game"
PRODUCT = "com.example.gems100"


@pytest.fixture(scope="module")
def chain():
    return make_chain()


@pytest.fixture
def gems(game):
    make_economy(game)
    return make_offer(
        game, name="Gems", real_money=True, price_currency="USD", price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}], apple_product_id=PRODUCT,
        google_product_id="gems_100",
    )  # fmt: skip


def form(game, offer: Offer | None = None, **fields) -> OfferAdminForm:
    data = {
        "game": game.pk, "name": "Pack", "position": 0, "active": "on",
        "price_currency": "USD", "real_money": "on", "price": "1.99",
        "contents": '[{"currency": "gems", "quantity": 100}]', **fields,
    }  # fmt: skip
    return OfferAdminForm(data=data, instance=offer)


def test_a_second_offer_of_the_game_cannot_take_a_store_product(game, gems):
    taken = form(game, apple_product_id=PRODUCT)
    also_taken = form(game, google_product_id="gems_100")

    assert not taken.is_valid()
    assert f"Offer 'Gems' (id {gems.pk}) already sells" in taken.errors["apple_product_id"][0]
    assert not also_taken.is_valid()
    assert "google_product_id" in also_taken.errors
    with pytest.raises(ValidationError) as refused:
        Offer(
            game=game, name="Rich", real_money=True, price_currency="USD", price_amount=199,
            contents=[{"currency": "gems", "quantity": 9000}], apple_product_id=PRODUCT,
        ).full_clean()  # fmt: skip
    assert "apple_product_id" in refused.value.message_dict


def test_the_offer_keeps_its_own_products_and_other_games_and_stores_are_apart(
    game, other_game, gems
):
    edited = form(game, gems, name="Gems!", apple_product_id=PRODUCT, google_product_id="gems_100")
    assert edited.is_valid(), edited.errors
    edited.save()
    # Google's product ids and Apple's are different namespaces.
    assert form(game, google_product_id=PRODUCT).is_valid()
    make_economy(other_game)
    elsewhere = form(other_game, apple_product_id=PRODUCT)
    assert elsewhere.is_valid(), elsewhere.errors


def test_a_clone_drops_the_store_products_and_both_still_validate(game, gems):
    copy = clone_offer(offer=gems, actor=None)

    assert (copy.apple_product_id, copy.google_product_id) == ("", "")
    copy.full_clean()
    gems.full_clean()
    switched_on = form(game, copy, name=copy.name, active="on")
    assert switched_on.is_valid(), switched_on.errors


def redeem(client, receipt, offer):
    return client.post(
        "/api/v1/shop/receipts",
        {"provider": "apple", "offer_id": offer.pk, "receipt": receipt},
        format="json",
    )


def signed_transaction(chain, transaction_id: str = "2000000123") -> str:
    return chain.sign(
        {
            "transactionId": transaction_id, "originalTransactionId": transaction_id,
            "bundleId": BUNDLE, "productId": PRODUCT, "environment": "Sandbox", "quantity": 1,
            "type": "Consumable",
        }
    )  # fmt: skip


@pytest.fixture
def apple(game, chain, settings):
    settings.APPLE_APP_STORE_ROOT_CERTS = [chain.root_pem]
    return ProviderAccount.objects.create(game=game, provider="apple", config={"bundle_id": BUNDLE})


def test_a_receipt_of_a_product_two_stored_offers_share_is_refused_and_logged(
    player_client, player, game, gems, apple, chain, caplog
):
    # Saved before offers were checked for it (no clean): inactive, and far richer.
    rich = Offer.objects.create(
        game=game, name="Rich", active=False, real_money=True, price_currency="USD",
        price_amount=199, contents=[{"currency": "gems", "quantity": 9000}],
        apple_product_id=PRODUCT,
    )  # fmt: skip

    with caplog.at_level(logging.ERROR, logger="apps.shop.services.receipts"):
        refused = redeem(player_client, signed_transaction(chain), rich)
    also_refused = redeem(player_client, signed_transaction(chain), gems)

    assert (refused.status_code, also_refused.status_code) == (409, 409)
    assert refused.json()["code"] == "store_product_ambiguous"
    assert refused["Content-Type"].startswith("application/problem+json")
    assert also_refused.json()["code"] == "store_product_ambiguous"
    assert balance(player, "gems") == 0
    assert not Purchase.objects.exists()
    assert any(
        r.getMessage().startswith("ALERT shop:") and PRODUCT in r.getMessage()
        and str(rich.pk) in r.getMessage()
        for r in caplog.records
    )  # fmt: skip

    # An operator leaves the product on one offer: the receipt is granted as that offer.
    Offer.objects.filter(pk=rich.pk).update(apple_product_id="")
    granted = redeem(player_client, signed_transaction(chain), gems)
    assert granted.status_code == 201
    assert balance(player, "gems") == 100


def test_a_transaction_granted_before_the_duplicate_still_answers_its_replay(
    player_client, player, game, gems, apple, chain
):
    assert redeem(player_client, signed_transaction(chain), gems).status_code == 201
    Offer.objects.create(
        game=game, name="Rich", active=False, real_money=True, price_currency="USD",
        price_amount=199, contents=[{"currency": "gems", "quantity": 9000}],
        apple_product_id=PRODUCT,
    )  # fmt: skip

    again = redeem(player_client, signed_transaction(chain), gems)

    assert again.status_code == 200
    assert balance(player, "gems") == 100
