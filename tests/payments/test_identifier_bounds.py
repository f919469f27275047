"""Ids the processors and stores hand us, at the sizes they document and beyond: a Stripe object
id of up to 255 characters is opened, stored and matched whole; an App Store transaction id no
store sends (5,000 characters, not a decimal number) is 400 `invalid_receipt`, never a 500 nor
a row holding part of it; a Play Developer API purchase without a purchaseState (`{}`) is the
store answering nothing usable, a 503 `payment_provider_unavailable` like its other malformed
answers, not a 409 `receipt_not_paid`."""

import json
import uuid

import pytest
import responses

from apps.payments.models import Payment, ProviderEvent
from apps.shop.models import Purchase
from tests.payments.conftest import SESSIONS, committed, post_stripe, stripe_event
from tests.payments.test_apple import (  # noqa: F401 - fixtures
    BUNDLE,
    apple,
    chain,
    transaction,
)
from tests.payments.test_apple import redeem as redeem_apple
from tests.payments.test_google_play import (  # noqa: F401 - fixtures
    PRODUCT,
    google,
    play,
    redeem,
    service_key,
)
from tests.payments.test_stripe import start
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db

# Stripe: "object IDs ... can be up to 255 characters" (its API upgrade notes).
STRIPE_MAX_ID = 255
LONGEST_SESSION = "cs_live_" + "a" * (STRIPE_MAX_ID - len("cs_live_"))


def test_the_payment_holds_the_longest_id_stripe_documents():
    assert Payment._meta.get_field("external_id").max_length == STRIPE_MAX_ID


@pytest.mark.parametrize("length", [201, STRIPE_MAX_ID])
def test_a_stripe_session_id_up_to_255_characters_is_opened_and_paid_by_it(
    api_client, player_client, player, real_offer, stripe_account, mocked_http, length
):
    """It was 503 `payment_provider_unavailable` after Stripe had opened the session, the
    purchase failed: a checkout Stripe may hand any account refused by the panel."""
    session_id = LONGEST_SESSION[:length]
    url = "https://checkout.stripe.com/c/pay/" + session_id
    mocked_http.add(responses.POST, SESSIONS, json={"id": session_id, "url": url})

    opened = start(player_client, real_offer)

    assert opened.status_code == 202, opened.json()
    payment = Payment.objects.get()
    assert (payment.external_id, payment.checkout_url) == (session_id, url)
    # Completed, found by its session id alone (no purchase id of ours in it).
    paid = {
        "id": session_id,
        "payment_status": "paid",
        "payment_intent": "pi_1",
        "amount_total": 199,
        "currency": "usd",
    }
    response = post_stripe(api_client, stripe_event("checkout.session.completed", paid))

    assert response.status_code == 200
    event = ProviderEvent.objects.get()
    assert (event.status, event.payment_id) == ("processed", payment.pk)
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100


def test_a_stripe_session_id_longer_than_stripe_documents_is_still_503_not_a_500(
    player_client, real_offer, stripe_account, mocked_http
):
    session_id = LONGEST_SESSION + "b"
    mocked_http.add(responses.POST, SESSIONS, json={"id": session_id, "url": "https://x.test/"})

    response = start(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert Payment.objects.get().external_id == ""


@pytest.mark.parametrize(
    "overrides",
    [
        {"transactionId": "2" * 5000},
        {"originalTransactionId": "2" * 5000},
        # Two ids a 200-character column would have cut to the same prefix.
        {"transactionId": "2" * 200 + "1"},
        {"transactionId": "2" * 200 + "2"},
        {"transactionId": "2000000123-a"},
        {"transactionId": 2000000123.5},
        {"originalTransactionId": "x" * 41},
    ],
    ids=["5000-id", "5000-original", "long-1", "long-2", "not-decimal", "float", "text-original"],
)
def test_an_apple_transaction_id_no_store_sends_is_400_and_nothing_is_stored(
    player_client,
    player,
    real_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
    overrides,
):
    response = redeem_apple(player_client, chain.sign(transaction(**overrides)), real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"
    assert not Purchase.objects.exists()
    assert not Payment.objects.exists()
    assert balance(player, "gems") == 0


def test_apple_transaction_ids_of_forty_digits_are_granted_whole(
    player_client,
    real_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    long_id = "9" * 40

    response = redeem_apple(
        player_client,
        chain.sign(transaction(transactionId=long_id, originalTransactionId=long_id)),
        real_offer,
    )

    assert response.status_code == 201
    payment = Payment.objects.get()
    assert (payment.external_id, payment.payment_reference) == (long_id, long_id)


def test_a_refund_of_an_id_no_payment_can_hold_is_ignored_not_kept_cut_short(
    api_client,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    """Kept as an unmatched reversal it was cut to the reference's 500 characters: two such
    refunds sharing their first 500 characters named the same transaction."""
    notification = {
        "notificationType": "REFUND",
        "notificationUUID": str(uuid.uuid4()),
        "data": {
            "bundleId": BUNDLE,
            "environment": "Sandbox",
            "signedTransactionInfo": chain.sign(
                transaction(transactionId="3" * 5000, revocationDate=1)
            ),
        },
    }
    body = json.dumps({"signedPayload": chain.sign(notification)})
    with committed():
        response = api_client.post(
            "/api/v1/payments/webhooks/apple", body, content_type="application/json"
        )

    assert response.status_code == 200
    event = ProviderEvent.objects.get()
    assert (event.status, event.reference) == ("ignored", "")


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"orderId": "GPA.1234-5678", "purchaseType": 0},
        {"purchaseState": None},
        {"purchaseState": "0"},
        {"purchaseState": True},
    ],
    ids=["empty", "no-state", "null", "text", "boolean"],
)
def test_a_play_purchase_without_a_purchase_state_is_503_like_googles_other_bad_answers(
    player_client,
    player,
    real_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
    answer,
):
    """It was 409 `receipt_not_paid` ("The purchase is in state None"): the client was told
    the player had not paid, when Google said nothing about it."""
    play.add(responses.GET, PRODUCT, json=answer)

    response = redeem(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert not Purchase.objects.exists()
    assert balance(player, "gems") == 0


@pytest.mark.parametrize("state", [1, 2, 3])
def test_a_play_purchase_in_a_state_other_than_purchased_is_still_409(
    player_client,
    real_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
    state,
):
    play.add(responses.GET, PRODUCT, json={"purchaseState": state, "purchaseType": 0})

    response = redeem(player_client, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "receipt_not_paid"
