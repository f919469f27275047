"""App Store receipts (StoreKit 2 signed transactions) and Server Notifications v2."""

import json
import uuid

import pytest

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderAccount, ProviderEvent
from apps.shop.models import Purchase
from tests.payments.apple_chain import make_chain
from tests.payments.conftest import committed
from tests.shop.helpers import balance

BUNDLE = "com.example.game"


@pytest.fixture(scope="module")
def chain():
    return make_chain()


@pytest.fixture
def apple(game, chain, settings):
    settings.APPLE_APP_STORE_ROOT_CERTS = [chain.root_pem]
    return ProviderAccount.objects.create(game=game, provider="apple", config={"bundle_id": BUNDLE})


def transaction(**overrides):
    return {
        "transactionId": "2000000123",
        "originalTransactionId": "2000000123",
        "bundleId": BUNDLE,
        "productId": "com.example.gems100",
        "environment": "Sandbox",
        "quantity": 1,
        "type": "Consumable",
        **overrides,
    }


def redeem(client, receipt, offer):
    return client.post(
        "/api/v1/shop/receipts",
        {"provider": "apple", "offer_id": offer.pk, "receipt": receipt},
        format="json",
    )


def test_verified_transaction_grants_once_however_often_it_is_sent(
    player_client, player, real_offer, apple, chain
):
    jws = chain.sign(transaction())

    first = redeem(player_client, jws, real_offer)
    again = redeem(player_client, jws, real_offer)

    assert first.status_code == 201
    assert first.json()["status"] == "completed"
    assert first.json()["balances"] == {"gems": 100}
    assert again.status_code == 200
    assert again.json() == first.json()
    assert balance(player, "gems") == 100
    payment = Payment.objects.get()
    assert (payment.provider, payment.external_id, payment.status) == (
        "apple",
        "2000000123",
        "succeeded",
    )
    assert Purchase.objects.get().source == "receipt"


def test_another_player_cannot_redeem_the_same_transaction(
    api_client, player_client, player, game, real_offer, apple, chain
):
    from apps.accounts.models import Player

    jws = chain.sign(transaction())
    redeem(player_client, jws, real_offer)
    mallory = Player.objects.create(game=game, display_name="mallory")
    api_client.force_authenticate(user=mallory)

    response = redeem(api_client, jws, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "receipt_already_used"
    assert balance(mallory, "gems") == 0


@pytest.mark.parametrize(
    "overrides,code",
    [
        ({"bundleId": "com.other.app"}, "invalid_receipt"),
        ({"productId": "com.example.other"}, "receipt_product_mismatch"),
        ({"revocationDate": 1700000000000}, "receipt_not_paid"),
    ],
)
def test_mismatched_or_revoked_transactions_are_refused(
    player_client, player, real_offer, apple, chain, overrides, code
):
    response = redeem(player_client, chain.sign(transaction(**overrides)), real_offer)

    assert response.json()["code"] == code
    assert response.status_code in (400, 409)
    assert not Purchase.objects.exists()
    assert balance(player, "gems") == 0


def test_production_only_game_refuses_sandbox_transactions(
    player_client, game, real_offer, apple, chain
):
    game.sandbox = False
    game.save()

    response = redeem(player_client, chain.sign(transaction()), real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


def test_chain_from_an_untrusted_root_is_refused(player_client, player, real_offer, apple):
    forged = make_chain("Mallory Root CA")

    response = redeem(player_client, forged.sign(transaction()), real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"
    assert balance(player, "gems") == 0


def test_leaf_without_apples_marker_is_refused(player_client, real_offer, apple, chain):
    response = redeem(
        player_client,
        chain.sign(transaction(), chain=[chain.intermediate, chain.intermediate, chain.root]),
        real_offer,
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


@pytest.mark.parametrize("receipt", ["not-a-jws", 12, {"jws": "x"}, "\ud800", "a.\ud800.b"])
def test_garbage_receipts_are_400(player_client, real_offer, apple, receipt):
    body = {"provider": "apple", "offer_id": real_offer.pk, "receipt": receipt}
    # As JSON text (a lone surrogate escaped), as a client sends it.
    response = player_client.post(
        "/api/v1/shop/receipts", json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


@pytest.mark.parametrize("environment", [["Production"], {"x": 1}, 3, None])
def test_an_environment_that_is_not_a_name_is_400_before_any_signature_check(
    player_client, real_offer, apple, environment
):
    import jwt

    unsigned = jwt.encode({"environment": environment}, "not-apples-key", algorithm="HS256")
    response = redeem(player_client, unsigned, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


def post_refund(api_client, chain):
    """App Store's signed REFUND notification of the transaction `transaction()` makes."""
    notification = {
        "notificationType": "REFUND",
        "notificationUUID": str(uuid.uuid4()),
        "data": {
            "bundleId": BUNDLE,
            "environment": "Sandbox",
            "signedTransactionInfo": chain.sign(transaction(revocationDate=1)),
        },
    }
    body = json.dumps({"signedPayload": chain.sign(notification)})
    with committed():
        return api_client.post(
            "/api/v1/payments/webhooks/apple", body, content_type="application/json"
        )


def test_refund_notification_claws_the_grant_back(
    api_client, player_client, player, real_offer, apple, chain
):
    redeem(player_client, chain.sign(transaction()), real_offer)
    response = post_refund(api_client, chain)

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0
    assert LedgerEntry.objects.get(reason="refund").delta == -100
    event = ProviderEvent.objects.get()
    assert (event.event_type, event.status) == ("REFUND", "processed")


def test_a_refund_that_comes_before_the_receipt_makes_the_receipt_refused(
    api_client, player_client, player, real_offer, apple, chain
):
    refund = post_refund(api_client, chain)  # the client never redeemed it, then tries

    event = ProviderEvent.objects.get()
    assert refund.status_code == 200
    assert (event.status, event.reference) == ("unmatched", "2000000123")

    response = redeem(player_client, chain.sign(transaction()), real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "receipt_not_paid"
    assert balance(player, "gems") == 0
    assert not Purchase.objects.exists() and not Payment.objects.exists()


def test_an_unmatched_refund_reaches_a_receipt_redeemed_meanwhile(
    api_client, player_client, player, real_offer, apple, chain
):
    from apps.payments.services.processing import process_event

    post_refund(api_client, chain)
    event = ProviderEvent.objects.get()
    # The redeem passed its check before the refund was stored (they crossed): granted.
    ProviderEvent.objects.filter(pk=event.pk).update(reference="")
    assert redeem(player_client, chain.sign(transaction()), real_offer).status_code == 201
    assert balance(player, "gems") == 100

    process_event(event_pk=event.pk)  # the sweeper processes an unmatched refund again

    event.refresh_from_db()
    assert event.status == "processed"
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0


@pytest.mark.parametrize("payload", ["\ud800", "a.\ud800.b", "not-a-jws"])
def test_a_notification_that_is_not_a_jws_is_400(api_client, apple, payload):
    """A lone surrogate made the token's decoding raise past the check: a 500, logged each time."""
    body = json.dumps({"signedPayload": payload})

    response = api_client.post(
        "/api/v1/payments/webhooks/apple", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


def test_notification_signed_by_someone_else_is_400(api_client, apple):
    forged = make_chain("Mallory Root CA")
    body = json.dumps(
        {"signedPayload": forged.sign({"notificationType": "REFUND", "notificationUUID": "u"})}
    )

    response = api_client.post(
        "/api/v1/payments/webhooks/apple", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


def test_one_store_transaction_is_granted_in_one_game_only(
    player_client, player, other_game, real_offer, apple, chain, settings
):
    from rest_framework.test import APIClient

    from apps.accounts.models import Player
    from apps.inventory.models import Currency
    from apps.shop.models import Offer

    jws = chain.sign(transaction())
    assert redeem(player_client, jws, real_offer).status_code == 201
    # A second game whose settings name the same bundle id accepts the signature offline.
    ProviderAccount.objects.create(game=other_game, provider="apple", config={"bundle_id": BUNDLE})
    Currency.objects.create(game=other_game, code="gems", name="Gems")
    their_offer = Offer.objects.create(
        game=other_game,
        name="Gems",
        real_money=True,
        price_currency="USD",
        price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}],
        apple_product_id=real_offer.apple_product_id,
    )
    bob = Player.objects.create(game=other_game, display_name="bob")
    client = APIClient()
    client.force_authenticate(user=bob)

    response = redeem(client, jws, their_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "receipt_already_used"
    assert balance(bob, "gems") == 0
    assert Payment.objects.count() == 1


def test_a_refund_reaches_the_game_whose_purchase_it_is_when_games_share_an_app(
    api_client, other_game, real_offer, apple, chain
):
    from rest_framework.test import APIClient

    from apps.accounts.models import Player
    from apps.inventory.models import Currency
    from apps.shop.models import Offer

    # The second game's account comes after the first's: the first is the one a lookup by
    # bundle id alone finds.
    ProviderAccount.objects.create(game=other_game, provider="apple", config={"bundle_id": BUNDLE})
    Currency.objects.create(game=other_game, code="gems", name="Gems")
    their_offer = Offer.objects.create(
        game=other_game, name="Gems", real_money=True, price_currency="USD", price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}],
        apple_product_id=real_offer.apple_product_id,
    )  # fmt: skip
    bob = Player.objects.create(game=other_game, display_name="bob")
    client = APIClient()
    client.force_authenticate(user=bob)
    assert redeem(client, chain.sign(transaction()), their_offer).status_code == 201
    response = post_refund(api_client, chain)

    assert response.status_code == 200
    assert Purchase.objects.get(game=other_game).status == "refunded"
    assert balance(bob, "gems") == 0
    event = ProviderEvent.objects.get()
    assert (event.game_id, event.status) == (other_game.pk, "processed")


def test_a_transaction_of_three_units_grants_and_prices_three(
    player_client, player, real_offer, apple, chain
):
    response = redeem(player_client, chain.sign(transaction(quantity=3)), real_offer)

    assert response.status_code == 201
    assert balance(player, "gems") == 300
    purchase = Purchase.objects.get()
    assert (purchase.quantity, purchase.price_amount) == (3, real_offer.price_amount * 3)


def test_a_game_naming_another_games_bundle_cannot_make_its_notifications_fail(
    api_client, other_game, apple, chain
):
    """The first account by id (this game's, with no Apple id) names the bundle id of the
    other game's app: the other game's settings still verify that app's notifications."""
    ProviderAccount.objects.create(
        game=other_game, provider="apple", config={"bundle_id": BUNDLE, "app_apple_id": 4242}
    )
    notification = {
        "notificationType": "CONSUMPTION_REQUEST",
        "notificationUUID": str(uuid.uuid4()),
        "data": {"bundleId": BUNDLE, "environment": "Production", "appAppleId": 4242},
    }
    body = json.dumps({"signedPayload": chain.sign(notification)})

    with committed():
        response = api_client.post(
            "/api/v1/payments/webhooks/apple", body, content_type="application/json"
        )

    assert response.status_code == 200, response.json()
    assert ProviderEvent.objects.get().game_id == other_game.pk


def test_a_receipt_for_an_offer_priced_in_a_virtual_currency_is_refused(
    player_client, player, game, apple, chain
):
    """An offer priced in gold with a store product id (saved before such ids were refused on
    virtual offers) is not sold through the store: a payment of money recorded at its price
    would be 100 "gold" of revenue."""
    from tests.shop.helpers import make_economy, make_offer

    make_economy(game)
    gold_offer = make_offer(game, apple_product_id="com.example.gems100")

    refused = redeem(player_client, chain.sign(transaction()), gold_offer)

    assert refused.status_code == 409
    assert refused.json()["code"] == "not_a_store_offer"
    assert not Payment.objects.exists() and not Purchase.objects.exists()
    assert not LedgerEntry.objects.filter(player=player).exists()


def test_a_refund_after_the_account_was_disabled_reaches_the_purchase(
    api_client, player_client, player, real_offer, apple, chain
):
    assert redeem(player_client, chain.sign(transaction()), real_offer).status_code == 201
    ProviderAccount.objects.filter(pk=apple.pk).update(enabled=False)

    response = post_refund(api_client, chain)

    assert response.status_code == 200
    event = ProviderEvent.objects.get()
    assert (event.game_id, event.status) == (real_offer.game_id, "processed")
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0
    # Disabled, it redeems no new receipt.
    refused = redeem(player_client, chain.sign(transaction(transactionId="2000000124")), real_offer)
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment_provider_not_configured"
