"""Google Play receipts through the Play Developer API, and RTDN refunds."""

import base64
import json
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.payments.models import Payment, ProviderAccount, ProviderEvent
from apps.shop.models import Purchase
from tests.payments.conftest import committed
from tests.shop.helpers import balance

TOKEN_URL = "https://oauth2.googleapis.com/token"
PRODUCT = (
    "https://androidpublisher.googleapis.com/androidpublisher/v3/applications/com.example.game"
    "/purchases/products/gems_100/tokens/tok-1"
)
RTDN_TOKEN = "push-secret"


@pytest.fixture(scope="module")
def service_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def google(game, service_key):
    pem = service_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = ProviderAccount(
        game=game, provider="google_play", config={"package_name": "com.example.game"}
    )
    account.set_secrets(
        {
            "service_account": {
                "client_email": "play@example.iam.gserviceaccount.com",
                "private_key": pem,
                "private_key_id": "kid-1",
            },
            "rtdn_token": RTDN_TOKEN,
        }
    )
    account.save()
    return account


@pytest.fixture
def play(mocked_http):
    mocked_http.add(responses.POST, TOKEN_URL, json={"access_token": "ya29.x", "expires_in": 3600})
    mocked_http.add(responses.POST, f"{PRODUCT}:consume", body="")
    return mocked_http


def purchase_state(play, **fields):
    body = {"purchaseState": 0, "orderId": "GPA.1234-5678", "purchaseType": 0, **fields}
    play.add(responses.GET, PRODUCT, json=body)


def redeem(client, offer, token="tok-1"):
    with committed():
        return client.post(
            "/api/v1/shop/receipts",
            {"provider": "google_play", "offer_id": offer.pk, "receipt": {"purchase_token": token}},
            format="json",
        )


def test_token_is_checked_as_the_service_account_granted_once_and_consumed(
    player_client, player, real_offer, google, play, service_key
):
    purchase_state(play)

    first = redeem(player_client, real_offer)
    again = redeem(player_client, real_offer)

    assert first.status_code == 201
    assert again.status_code == 200
    assert balance(player, "gems") == 100
    token_call = next(c for c in play.calls if c.request.url == TOKEN_URL)
    form = parse_qs(token_call.request.body)
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0], service_key.public_key(), algorithms=["RS256"], audience=TOKEN_URL
    )
    assert claims["iss"] == "play@example.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/androidpublisher"
    get_call = next(c for c in play.calls if c.request.method == "GET")
    assert get_call.request.headers["Authorization"] == "Bearer ya29.x"
    assert sum(c.request.url.endswith(":consume") for c in play.calls) == 1
    payment = Payment.objects.get()
    assert (payment.external_id, payment.payment_reference) == ("GPA.1234-5678", "tok-1")


@pytest.mark.parametrize("state", [1, 2])
def test_cancelled_or_pending_purchase_is_409(
    player_client, player, real_offer, google, play, state
):
    purchase_state(play, purchaseState=state)

    response = redeem(player_client, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "receipt_not_paid"
    assert not Purchase.objects.exists()


def test_unknown_token_is_400(player_client, real_offer, google, play):
    play.add(responses.GET, PRODUCT, status=404, json={"error": {"code": 404}})

    response = redeem(player_client, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


def test_test_purchases_are_refused_for_a_live_game(player_client, game, real_offer, google, play):
    game.sandbox = False
    game.save()
    purchase_state(play)

    response = redeem(player_client, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


def test_play_down_is_503_and_nothing_granted(player_client, player, real_offer, google, play):
    play.add(responses.GET, PRODUCT, status=503)

    response = redeem(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert balance(player, "gems") == 0


def rtdn(payload: dict, message_id: str = "m-1") -> str:
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return json.dumps({"message": {"data": data, "messageId": message_id}, "subscription": "s"})


def test_voided_purchase_notification_refunds(
    api_client, player_client, player, real_offer, google, play
):
    purchase_state(play)
    redeem(player_client, real_offer)
    body = rtdn(
        {
            "packageName": "com.example.game",
            "voidedPurchaseNotification": {
                "purchaseToken": "tok-1",
                "orderId": "GPA.1234-5678",
                "productType": 2,
                "refundType": 1,
            },
        }
    )

    with committed():
        response = api_client.post(
            f"/api/v1/payments/webhooks/google-play?token={RTDN_TOKEN}",
            body,
            content_type="application/json",
        )

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0
    assert ProviderEvent.objects.get().status == "processed"


def test_rtdn_with_the_wrong_push_token_is_400_and_stores_nothing(api_client, google):
    body = rtdn({"packageName": "com.example.game", "testNotification": {"version": "1.0"}})

    response = api_client.post(
        "/api/v1/payments/webhooks/google-play?token=guess", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()


def test_test_notification_is_stored_and_ignored(api_client, google):
    body = rtdn({"packageName": "com.example.game", "testNotification": {"version": "1.0"}})

    with committed():
        response = api_client.post(
            f"/api/v1/payments/webhooks/google-play?token={RTDN_TOKEN}",
            body,
            content_type="application/json",
        )

    assert response.status_code == 200
    assert ProviderEvent.objects.get().status == "ignored"


def voided_notice() -> str:
    return rtdn(
        {
            "packageName": "com.example.game",
            "voidedPurchaseNotification": {
                "purchaseToken": "tok-1",
                "orderId": "GPA.1234-5678",
                "productType": 2,
                "refundType": 1,
            },
        }
    )


@pytest.mark.parametrize("configured", [None, ""])
@pytest.mark.parametrize("query", ["", "?token=", "?token=guess"])
def test_rtdn_for_an_account_without_a_push_token_is_refused_and_changes_nothing(
    api_client, player_client, player, real_offer, google, play, configured, query
):
    purchase_state(play)
    redeem(player_client, real_offer)
    secrets = dict(google.secrets)
    if configured is None:
        secrets.pop("rtdn_token")
    else:
        secrets["rtdn_token"] = configured
    google.set_secrets(secrets)
    google.save()

    with committed():
        response = api_client.post(
            f"/api/v1/payments/webhooks/google-play{query}",
            voided_notice(),
            content_type="application/json",
        )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_signature"
    assert Purchase.objects.get().status != "refunded"
    assert balance(player, "gems") == 100
    assert not ProviderEvent.objects.exists()
