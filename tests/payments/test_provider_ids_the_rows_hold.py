"""Ids a provider hands us that go into size-limited columns: a Stripe checkout session's id
(the payment's external_id, 200) and url (checkout_url, 1000), a payment intent (the payment's
payment_reference, 500), a Google Play orderId (the store purchase's key, 200 with its
"google_play§" prefix, and the payment's external_id). Longer, the insert or update failed on
PostgreSQL: a 500 after Stripe opened the session, a notification's task failing until marked
failed, a Play purchase charged and never granted on any retry."""

import pytest
import responses

from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers.google_play import MAX_TOKEN_AS_ID
from apps.shop.models import Purchase
from tests.payments.conftest import SESSIONS, post_stripe, stripe_event
from tests.payments.test_google_play import (  # noqa: F401 - fixtures
    VOIDED_ENTRY,
    google,
    play,
    post_rtdn,
    purchase_state,
    redeem,
    rtdn,
    service_key,
    voided_list,
)
from tests.payments.test_stripe import start
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db

SESSION_ID_LENGTH = Payment._meta.get_field("external_id").max_length
URL_LENGTH = Payment._meta.get_field("checkout_url").max_length
REFERENCE_LENGTH = Payment._meta.get_field("payment_reference").max_length
URL = "https://checkout.stripe.com/c/pay/"


def opened(mocked_http, session_id: str, url: str) -> None:
    mocked_http.add(responses.POST, SESSIONS, json={"id": session_id, "url": url})


@pytest.mark.parametrize(
    ("session_id", "url"),
    [
        ("cs_" + "x" * (SESSION_ID_LENGTH - 2), URL + "cs_1"),
        ("cs_1", URL + "x" * (URL_LENGTH - len(URL) + 1)),
    ],
    ids=["long-id", "long-url"],
)
def test_a_checkout_session_the_payment_cannot_hold_is_503_not_a_500(
    player_client, real_offer, stripe_account, mocked_http, session_id, url
):
    opened(mocked_http, session_id, url)

    response = start(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert Purchase.objects.get().status == "failed"
    assert Payment.objects.get().checkout_url == ""


def test_a_checkout_session_as_long_as_the_columns_is_opened(
    player_client, real_offer, stripe_account, mocked_http
):
    session_id = "cs_" + "x" * (SESSION_ID_LENGTH - 3)
    url = URL + "y" * (URL_LENGTH - len(URL))
    opened(mocked_http, session_id, url)

    response = start(player_client, real_offer)

    assert response.status_code == 202
    payment = Payment.objects.get()
    assert (payment.external_id, payment.checkout_url) == (session_id, url)


def test_a_completion_naming_a_payment_intent_too_long_to_store_still_grants(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    body = stripe_event(
        "checkout.session.completed",
        {
            "id": "cs_test_1",
            "payment_status": "paid",
            "payment_intent": "pi_" + "x" * REFERENCE_LENGTH,
            "amount_total": 199,
            "currency": "usd",
            "client_reference_id": str(purchase_id),
            "metadata": {"purchase_id": str(purchase_id)},
        },
    )

    response = post_stripe(api_client, body)

    assert response.status_code == 200
    assert ProviderEvent.objects.get().status == "processed"
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
    assert Payment.objects.get().payment_reference == ""  # none of ours, not stored


def test_a_refund_naming_a_payment_intent_too_long_to_store_is_matched_by_purchase(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    metadata = {"purchase_id": str(purchase_id)}
    paid = {
        "id": "cs_test_1",
        "payment_status": "paid",
        "payment_intent": "pi_1",
        "amount_total": 199,
        "currency": "usd",
        "metadata": metadata,
    }
    post_stripe(api_client, stripe_event("checkout.session.completed", paid))
    long_intent = "pi_" + "x" * REFERENCE_LENGTH
    refund = {"payment_intent": long_intent, "refunded": True, "metadata": metadata}

    response = post_stripe(api_client, stripe_event("charge.refunded", refund, event_id="evt_2"))

    assert response.status_code == 200
    assert ProviderEvent.objects.get(event_id="evt_2").status == "processed"
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0


LONG_ORDER = "GPA." + "1" * (MAX_TOKEN_AS_ID - 3)  # one more than the purchase's key holds


def test_a_play_purchase_with_an_order_id_too_long_to_key_is_granted_once(
    player_client,
    player,
    real_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixtures
):
    purchase_state(play, orderId=LONG_ORDER)

    first = redeem(player_client, real_offer)
    again = redeem(player_client, real_offer)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert balance(player, "gems") == 100
    payment = Payment.objects.get()
    assert payment.external_id.startswith("order-sha256:") and len(payment.external_id) == 77
    assert first.json()["transaction_id"] == payment.external_id
    assert payment.payment_reference == "tok-1"


def test_a_play_order_id_as_long_as_the_key_holds_is_kept_as_it_is(
    player_client,
    real_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixtures
):
    order_id = LONG_ORDER[:-1]
    purchase_state(play, orderId=order_id)

    assert redeem(player_client, real_offer).status_code == 201
    assert Payment.objects.get().external_id == order_id


def test_a_voided_notice_of_a_long_order_id_refunds_its_purchase(
    api_client,
    player_client,
    player,
    real_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixtures
):
    purchase_state(play, orderId=LONG_ORDER)
    assert redeem(player_client, real_offer).status_code == 201
    voided_list(play, [{**VOIDED_ENTRY, "orderId": LONG_ORDER}])
    notice = {"purchaseToken": "tok-1", "orderId": LONG_ORDER, "productType": 2, "refundType": 1}

    response = post_rtdn(
        api_client, rtdn({"packageName": "com.example.game", "voidedPurchaseNotification": notice})
    )

    assert response.status_code == 200
    assert ProviderEvent.objects.get().status == "processed"
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0
