"""What an unauthenticated or forged webhook notification can make the panel do: nothing
stored, and no other game's purchase touched."""

import base64
import json

import jwt
import pytest
from rest_framework.test import APIClient

from apps.payments.models import ProviderEvent
from apps.shop.models import Purchase
from tests.payments.test_apple import apple, chain  # noqa: F401 - fixtures
from tests.payments.test_google_play import (  # noqa: F401 - fixtures
    VOIDED_ENTRY,
    google,
    play,
    play_account,
    post_rtdn,
    purchase_state,
    redeem,
    rtdn,
    service_key,
    voided_list,
)
from tests.shop.helpers import balance, make_economy, make_offer

# U+0000 and a lone surrogate: neither can be sent to PostgreSQL as text or jsonb.
UNSTORABLE = ["com.example\x00game", "com.example\ud800game"]


@pytest.mark.parametrize("bundle_id", UNSTORABLE)
def test_an_apple_notification_naming_an_unstorable_bundle_id_is_400_not_a_500(
    api_client,
    apple,  # noqa: F811 - fixture
    bundle_id,
):
    """Nobody signs it: the bundle id was looked up before any signature check (a 500)."""
    claims = {"data": {"bundleId": bundle_id, "environment": "Sandbox"}, "notificationUUID": "u"}
    unsigned = jwt.encode(claims, "not-apples-key-not-apples-key-00", algorithm="HS256")

    response = api_client.post(
        "/api/v1/payments/webhooks/apple",
        json.dumps({"signedPayload": unsigned}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize("package", UNSTORABLE)
def test_a_google_push_naming_an_unstorable_package_is_400_not_a_500(
    api_client,
    google,  # noqa: F811 - fixture
    package,
):
    """Before the push is authenticated: the package was looked up first (a 500)."""
    data = base64.b64encode(json.dumps({"packageName": package, "testNotification": {}}).encode())
    body = json.dumps({"message": {"data": data.decode(), "messageId": "m-1"}})

    response = api_client.post(
        "/api/v1/payments/webhooks/google-play?token=guess", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


def test_a_voided_notice_revokes_only_the_order_google_confirms_voided(
    api_client,
    game,
    other_game,
    other_player,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
    service_key,  # noqa: F811 - fixture
):
    """Game A (`google`, push token push-secret) names the package game B sells through, as
    games sharing an app do. A's owner posts a voided notice, authenticated with A's push
    token, whose purchaseToken Google does list as voided (a purchase the sender refunded
    themselves) but whose orderId is a B player's paid order: only Google's voided order may be
    revoked, never the order the notice names beside it."""
    play_account(
        other_game, service_key, email="b@example.iam.gserviceaccount.com", rtdn_token="push-b"
    ).save()
    make_economy(other_game)
    offer = make_offer(
        other_game, real_money=True, price_currency="USD", price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}], google_product_id="gems_100",
    )  # fmt: skip
    buyer = APIClient()
    buyer.force_authenticate(user=other_player)
    purchase_state(play)
    assert redeem(buyer, offer).status_code == 201  # B's player: order GPA.1234-5678, tok-1
    assert balance(other_player, "gems") == 100
    refunded = {**VOIDED_ENTRY, "purchaseToken": "tok-refunded", "orderId": "GPA.0000-0001"}
    voided_list(play, [refunded])
    forged = {
        "packageName": "com.example.game",
        "voidedPurchaseNotification": {
            "purchaseToken": "tok-refunded", "orderId": "GPA.1234-5678", "productType": 2,
            "refundType": 1,
        },
    }  # fmt: skip

    response = post_rtdn(api_client, rtdn(forged, message_id="m-forged"))  # A's push token

    assert response.status_code == 200
    assert Purchase.objects.get().status == "completed"
    assert balance(other_player, "gems") == 100
    event = ProviderEvent.objects.get()
    assert event.payment_id is None
    # Kept as the reversal of the order Google voided, which no payment of ours has yet.
    assert (event.status, event.reference) == ("unmatched", "GPA.0000-0001")
