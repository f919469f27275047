"""App Store: StoreKit 1 transaction ids looked up with the App Store Server API (Get
Transaction Info, In-App Purchase key as an ES256 JWT), verified as StoreKit 2 JWS is; the
buyer a transaction names (`appAccountToken`); what Apple does not sign (Xcode); production
notifications and the app's Apple id; OCSP."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apps.payments.models import Payment, ProviderAccount, ProviderEvent
from apps.payments.providers.base import player_account_token
from apps.shop.models import Purchase
from tests.payments.apple_chain import make_chain
from tests.payments.conftest import committed
from tests.shop.helpers import balance

BUNDLE = "com.example.game"
PRODUCTION = "https://api.storekit.apple.com/inApps/v1/transactions/"
SANDBOX = "https://api.storekit-sandbox.apple.com/inApps/v1/transactions/"
ISSUER = "57246542-96fe-1a63-e053-0824d011072a"
KEY_ID = "2X9R4HXF34"
APP_APPLE_ID = 1234567890


@pytest.fixture(scope="module")
def chain():
    return make_chain()


@pytest.fixture(scope="module")
def iap_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def apple(game, chain, iap_key, settings):
    settings.APPLE_APP_STORE_ROOT_CERTS = [chain.root_pem]
    account = ProviderAccount(
        game=game,
        provider="apple",
        config={"bundle_id": BUNDLE, "issuer_id": ISSUER, "key_id": KEY_ID},
    )
    pem = iap_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account.set_secrets({"private_key": pem})
    account.save()
    return account


def transaction(**overrides):
    """A JWSTransaction's payload, as Apple documents it."""
    now = int(time.time() * 1000)
    return {
        "transactionId": "2000000123",
        "originalTransactionId": "2000000123",
        "bundleId": BUNDLE,
        "productId": "com.example.gems100",
        "purchaseDate": now - 60_000,
        "originalPurchaseDate": now - 60_000,
        "quantity": 1,
        "type": "Consumable",
        "inAppOwnershipType": "PURCHASED",
        "signedDate": now,
        "environment": "Production",
        "transactionReason": "PURCHASE",
        "storefront": "USA",
        "storefrontId": "143441",
        "price": 1990,
        "currency": "USD",
        **overrides,
    }


def not_found():
    return {"errorCode": 4040010, "errorMessage": "Transaction id not found."}


def redeem(client, receipt, offer):
    with committed():
        return client.post(
            "/api/v1/shop/receipts",
            {"provider": "apple", "offer_id": offer.pk, "receipt": receipt},
            format="json",
        )


def test_storekit1_transaction_id_is_looked_up_verified_and_granted(
    player_client, player, real_offer, apple, chain, iap_key, mocked_http
):
    mocked_http.add(
        responses.GET,
        PRODUCTION + "2000000123",
        json={"signedTransactionInfo": chain.sign(transaction())},
    )

    response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.status_code == 201
    assert balance(player, "gems") == 100
    payment = Payment.objects.get()
    assert (payment.external_id, payment.details["environment"]) == ("2000000123", "Production")
    [call] = mocked_http.calls
    scheme, token = call.request.headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}
    claims = jwt.decode(
        token, iap_key.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1"
    )
    assert (claims["iss"], claims["bid"]) == (ISSUER, BUNDLE)
    assert claims["exp"] <= time.time() + 3600


def test_a_sandbox_purchase_is_found_in_the_sandbox_after_production_says_not_found(
    player_client, player, real_offer, apple, chain, mocked_http
):
    mocked_http.add(responses.GET, PRODUCTION + "2000000123", status=404, json=not_found())
    mocked_http.add(
        responses.GET,
        SANDBOX + "2000000123",
        json={"signedTransactionInfo": chain.sign(transaction(environment="Sandbox"))},
    )

    response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.status_code == 201
    assert balance(player, "gems") == 100
    assert [c.request.url.split("/inApps")[0] for c in mocked_http.calls] == [
        "https://api.storekit.apple.com",
        "https://api.storekit-sandbox.apple.com",
    ]


def test_a_live_game_never_asks_the_sandbox(
    player_client, game, player, real_offer, apple, mocked_http
):
    game.sandbox = False
    game.save()
    mocked_http.add(responses.GET, PRODUCTION + "2000000123", status=404, json=not_found())

    response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"
    assert len(mocked_http.calls) == 1
    assert balance(player, "gems") == 0


def test_the_server_api_base_urls_are_settings(
    player_client, player, real_offer, apple, chain, settings
):
    settings.APPLE_APP_STORE_API_BASE_URL = "http://apple-fake.test/"
    settings.APPLE_APP_STORE_SANDBOX_API_BASE_URL = "http://apple-sandbox-fake.test"
    with responses.RequestsMock() as mock:
        mock.add(
            responses.GET,
            "http://apple-fake.test/inApps/v1/transactions/2000000123",
            status=404,
            json=not_found(),
        )
        mock.add(
            responses.GET,
            "http://apple-sandbox-fake.test/inApps/v1/transactions/2000000123",
            json={"signedTransactionInfo": chain.sign(transaction(environment="Sandbox"))},
        )

        response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)
        timeouts = [call.request.req_kwargs["timeout"] for call in mock.calls]

    assert response.status_code == 201
    # The library's own 30 s timeout is replaced by the payment timeout.
    assert timeouts == [settings.PAYMENT_HTTP_TIMEOUT] * 2


@pytest.mark.parametrize(
    "status,body,code",
    [
        (401, None, "payment_provider_not_configured"),
        (400, {"errorCode": 4000006, "errorMessage": "Invalid transaction id."}, "invalid_receipt"),
        (
            429,
            {"errorCode": 4290000, "errorMessage": "Rate limit exceeded."},
            "payment_provider_unavailable",
        ),
        (
            500,
            {"errorCode": 5000000, "errorMessage": "An unknown error occurred."},
            "payment_provider_unavailable",
        ),
    ],
)
def test_server_api_errors(
    player_client, player, real_offer, apple, mocked_http, status, body, code
):
    mocked_http.add(responses.GET, PRODUCTION + "2000000123", status=status, json=body)

    response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.json()["code"] == code
    assert response.status_code == {
        "payment_provider_not_configured": 409,
        "invalid_receipt": 400,
    }.get(code, 503)
    assert not Purchase.objects.exists()


def test_server_api_unreachable_is_503(player_client, real_offer, apple, mocked_http):
    mocked_http.add(
        responses.GET, PRODUCTION + "2000000123", body=requests.ConnectionError("refused")
    )

    response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"


def test_without_an_in_app_purchase_key_storekit1_is_409(
    player_client, real_offer, apple, mocked_http
):
    apple.set_secrets({})
    apple.save()

    response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_provider_not_configured"
    assert not mocked_http.calls


@pytest.mark.parametrize("transaction_id", ["../../apps", "12a", "", "1" * 41])
def test_transaction_ids_that_are_not_numbers_are_400_without_a_call(
    player_client, real_offer, apple, mocked_http, transaction_id
):
    response = redeem(player_client, {"transaction_id": transaction_id}, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"
    assert not mocked_http.calls


def test_a_looked_up_transaction_signed_by_someone_else_is_400(
    player_client, player, real_offer, apple, mocked_http
):
    forged = make_chain("Mallory Root CA")
    mocked_http.add(
        responses.GET,
        PRODUCTION + "2000000123",
        json={"signedTransactionInfo": forged.sign(transaction())},
    )

    response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"
    assert balance(player, "gems") == 0


def test_a_looked_up_transaction_of_another_app_is_400(
    player_client, real_offer, apple, chain, mocked_http
):
    mocked_http.add(
        responses.GET,
        PRODUCTION + "2000000123",
        json={"signedTransactionInfo": chain.sign(transaction(bundleId="com.other.app"))},
    )

    response = redeem(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


# --- appAccountToken: the buyer the purchase names must be the redeeming player ---


@pytest.mark.parametrize("storekit", [1, 2])
def test_a_transaction_for_this_player_is_granted(
    player_client, player, real_offer, apple, chain, mocked_http, storekit
):
    jws = chain.sign(transaction(appAccountToken=player_account_token(player.pk)))
    mocked_http.add(responses.GET, PRODUCTION + "2000000123", json={"signedTransactionInfo": jws})
    receipt = jws if storekit == 2 else {"transaction_id": "2000000123"}

    response = redeem(player_client, receipt, real_offer)

    assert response.status_code == 201
    assert balance(player, "gems") == 100


@pytest.mark.parametrize("storekit", [1, 2])
def test_a_transaction_for_another_player_is_403_and_grants_nothing(
    player_client, player, real_offer, apple, chain, mocked_http, storekit
):
    jws = chain.sign(transaction(appAccountToken=str(uuid.uuid4())))
    mocked_http.add(responses.GET, PRODUCTION + "2000000123", json={"signedTransactionInfo": jws})
    receipt = jws if storekit == 2 else {"transaction_id": "2000000123"}

    response = redeem(player_client, receipt, real_offer)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "receipt_account_mismatch"
    assert not Purchase.objects.exists()
    assert not Payment.objects.exists()
    assert balance(player, "gems") == 0


def test_the_account_token_is_a_uuid5_of_the_player_id():
    assert player_account_token(42) == "899409a3-857b-5c2f-af3e-a4322d42bee8"
    assert player_account_token(42) == str(
        uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, "https://gamingpanel/store-account"), "42")
    )


# --- what Apple does not sign is never accepted ---


@pytest.mark.parametrize("environment", ["Xcode", "LocalTesting"])
def test_unsigned_environments_are_refused_even_in_a_sandbox_game(
    player_client, player, real_offer, apple, chain, environment
):
    # The library skips the signature for these environments: they must not get that far.
    unsigned = jwt.encode(transaction(environment=environment), "k" * 32, algorithm="HS256")

    for receipt in (unsigned, chain.sign(transaction(environment=environment))):
        response = redeem(player_client, receipt, real_offer)

        assert response.status_code == 400
        assert response.json()["code"] == "invalid_receipt"
    assert balance(player, "gems") == 0


# --- production notifications are checked against the app's Apple id ---


def production_refund(chain, app_apple_id):
    notification = {
        "notificationType": "REFUND",
        "notificationUUID": str(uuid.uuid4()),
        "version": "2.0",
        "signedDate": int(time.time() * 1000),
        "data": {
            "appAppleId": app_apple_id,
            "bundleId": BUNDLE,
            "bundleVersion": "1.0",
            "environment": "Production",
            "signedTransactionInfo": chain.sign(transaction(revocationDate=1, revocationReason=0)),
        },
    }
    return json.dumps({"signedPayload": chain.sign(notification)})


def post_notification(client, body):
    with committed():
        return client.post("/api/v1/payments/webhooks/apple", body, content_type="application/json")


def test_production_refund_for_the_configured_app_is_processed(
    api_client, player_client, player, real_offer, apple, chain, mocked_http
):
    apple.config = {**apple.config, "app_apple_id": APP_APPLE_ID}
    apple.save()
    redeem(player_client, chain.sign(transaction()), real_offer)

    response = post_notification(api_client, production_refund(chain, APP_APPLE_ID))

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0


def test_production_notification_for_another_apple_id_is_400(api_client, apple, chain):
    apple.config = {**apple.config, "app_apple_id": APP_APPLE_ID}
    apple.save()

    response = post_notification(api_client, production_refund(chain, 999))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


def test_production_notification_without_a_configured_apple_id_is_409(api_client, apple, chain):
    response = post_notification(api_client, production_refund(chain, APP_APPLE_ID))

    assert response.status_code == 409
    assert response.json()["code"] == "payment_provider_not_configured"
    assert not ProviderEvent.objects.exists()


# --- OCSP (APPLE_APP_STORE_ONLINE_CHECKS) ---


def test_with_online_checks_an_unreachable_ocsp_responder_is_503(
    player_client, player, real_offer, apple, mocked_http, settings
):
    ocsp_chain = make_chain("OCSP Root", ocsp="http://ocsp.apple-fake.test/ocsp")
    settings.APPLE_APP_STORE_ROOT_CERTS = [ocsp_chain.root_pem]
    settings.APPLE_APP_STORE_ONLINE_CHECKS = True
    mocked_http.add(responses.POST, "http://ocsp.apple-fake.test/ocsp", status=503)

    response = redeem(player_client, ocsp_chain.sign(transaction()), real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert mocked_http.calls[0].request.headers["Content-Type"] == "application/ocsp-request"
    assert balance(player, "gems") == 0


def test_a_summary_notification_is_verified_against_its_summary_and_stored(
    api_client, apple, chain
):
    notification = {
        "notificationType": "RENEWAL_EXTENSION",
        "subtype": "SUMMARY",
        "notificationUUID": str(uuid.uuid4()),
        "version": "2.0",
        "signedDate": int(time.time() * 1000),
        "summary": {
            "requestIdentifier": str(uuid.uuid4()),
            "environment": "Sandbox",
            "appAppleId": APP_APPLE_ID,
            "bundleId": BUNDLE,
            "productId": "com.example.season",
            "storefrontCountryCodes": ["USA"],
            "succeededCount": 5,
            "failedCount": 0,
        },
    }

    response = post_notification(
        api_client, json.dumps({"signedPayload": chain.sign(notification)})
    )

    assert response.status_code == 200
    event = ProviderEvent.objects.get()
    assert (event.event_type, event.game_id, event.status) == (
        "RENEWAL_EXTENSION/SUMMARY",
        apple.game_id,
        "ignored",
    )
