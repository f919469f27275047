"""Stripe: Checkout Session through its REST API; signed webhooks; refunds and disputes."""

import time
from urllib.parse import parse_qs

import pytest
import responses

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderAccount, ProviderEvent
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from tests.payments.conftest import SESSIONS, post_stripe, stripe_event
from tests.shop.helpers import balance


def start(player_client, offer, key="k1"):
    return player_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY=key
    )


def completed(
    session="cs_test_1", purchase_id=1, event_id="evt_1", amount_total=199, currency="usd"
):
    return stripe_event(
        "checkout.session.completed",
        {
            "id": session,
            "payment_status": "paid",
            "payment_intent": "pi_1",
            "amount_total": amount_total,
            "currency": currency,
            "client_reference_id": str(purchase_id),
            "metadata": {"purchase_id": str(purchase_id)},
        },
        event_id=event_id,
    )


def test_checkout_session_is_created_with_amount_and_an_idempotency_key(
    player_client, real_offer, checkout
):
    response = start(player_client, real_offer)

    assert response.status_code == 202
    assert (
        response.json()["payment"]["checkout_url"] == "https://checkout.stripe.com/c/pay/cs_test_1"
    )
    [call] = checkout.calls
    payment = Payment.objects.get()
    key = call.request.headers["Idempotency-Key"]
    assert key == f"gp-payment-{payment.pk}-{payment.public_token[:22]}"  # unique to this payment
    assert len(key) <= 255  # Stripe's limit
    assert call.request.headers["Authorization"] == "Bearer sk_test_123"
    form = parse_qs(call.request.body)
    assert form["line_items[0][price_data][unit_amount]"] == ["199"]
    assert form["line_items[0][price_data][currency]"] == ["usd"]
    assert form["line_items[0][quantity]"] == ["1"]
    assert form["metadata[purchase_id]"] == [str(payment.purchase_id)]
    assert form["payment_intent_data[metadata][game_id]"] == [str(payment.game_id)]
    assert (payment.provider, payment.external_id) == ("stripe", "cs_test_1")


def test_signed_completion_grants_once(api_client, player_client, player, real_offer, checkout):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    first = post_stripe(api_client, completed(purchase_id=purchase_id))
    again = post_stripe(api_client, completed(purchase_id=purchase_id))
    other_id = post_stripe(api_client, completed(purchase_id=purchase_id, event_id="evt_2"))

    assert first.status_code == again.status_code == other_id.status_code == 200
    assert again.json()["duplicate"] is True
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1
    assert Payment.objects.get().payment_reference == "pi_1"
    assert ProviderEvent.objects.count() == 2


@pytest.mark.parametrize(
    "kwargs",
    [{"secret": "whsec_wrong"}, {"timestamp": int(time.time()) - 301}],
    ids=["wrong secret", "older than 5 minutes"],
)
def test_bad_signature_or_stale_timestamp_is_400_and_changes_nothing(
    api_client, player_client, player, real_offer, checkout, kwargs
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    response = post_stripe(api_client, completed(purchase_id=purchase_id), **kwargs)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()
    assert balance(player, "gems") == 0


@pytest.mark.parametrize(
    "signature",
    ["v1=\u00e9", "v1=abc\u00e9", "v1=\u00e9,v1=deadbeef"],
    ids=["latin-1", "hex then latin-1", "two signatures"],
)
def test_a_signature_that_is_not_ascii_is_400_not_a_500(api_client, stripe_account, signature):
    # A header's bytes arrive as latin-1 text: the SDK's constant-time compare (hmac) raised
    # TypeError on any character beyond ASCII, before the timestamp was even looked at, so
    # anyone could make the public webhook answer 500 and log an error.
    body = stripe_event("customer.created", {"id": "cus_1"})

    response = api_client.generic(
        "POST",
        "/api/v1/payments/webhooks/stripe",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={int(time.time())},{signature}",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()


def test_missing_signature_header_is_400(api_client, stripe_account):
    response = api_client.post("/api/v1/payments/webhooks/stripe", {"id": "evt"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"


def test_unknown_event_types_are_stored_for_operators(api_client, stripe_account):
    response = post_stripe(api_client, stripe_event("customer.created", {"id": "cus_1"}))

    assert response.status_code == 200
    event = ProviderEvent.objects.get()
    assert (event.event_type, event.status) == ("customer.created", "ignored")
    assert event.payload["data"]["object"]["id"] == "cus_1"


def test_charge_refunded_reverses_the_grant(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    post_stripe(api_client, completed(purchase_id=purchase_id))

    refund = stripe_event(
        "charge.refunded",
        {"id": "ch_1", "payment_intent": "pi_1", "refunded": True, "amount": 199},
        event_id="evt_r",
    )
    response = post_stripe(api_client, refund)

    assert response.status_code == 200
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention) == ("refunded", False)
    assert balance(player, "gems") == 0
    assert LedgerEntry.objects.get(reason="refund").delta == -100


def test_a_refund_processed_before_the_payment_is_known_is_not_lost(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    # Its payment intent is not known yet (the completion's processing is late), but our
    # metadata names the purchase.
    refund = stripe_event(
        "charge.refunded",
        {
            "id": "ch_1",
            "payment_intent": "pi_1",
            "refunded": True,
            "amount": 199,
            "metadata": {"purchase_id": str(purchase_id)},
        },
        event_id="evt_r",
    )
    assert post_stripe(api_client, refund).status_code == 200
    assert post_stripe(api_client, completed(purchase_id=purchase_id)).status_code == 200

    purchase = Purchase.objects.get()
    assert purchase.status == "refunded"
    assert balance(player, "gems") == 0
    assert Payment.objects.get().status == "refunded"  # the late "paid" does not flip it back
    assert not LedgerEntry.objects.exists()


def test_dispute_is_a_chargeback_and_partial_refund_is_flagged(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    post_stripe(api_client, completed(purchase_id=purchase_id))
    partial = {"id": "ch_1", "payment_intent": "pi_1", "refunded": False, "amount": 199}
    post_stripe(
        api_client, stripe_event("charge.refunded", {**partial, "amount_refunded": 50}, "e2")
    )

    assert Purchase.objects.get().needs_attention is True
    assert balance(player, "gems") == 100

    dispute = {"id": "dp_1", "charge": "ch_1", "payment_intent": "pi_1"}
    post_stripe(api_client, stripe_event("charge.dispute.created", dispute, "e3"))

    assert Purchase.objects.get().status == "refunded"
    assert Payment.objects.get().status == "disputed"
    assert LedgerEntry.objects.get(reason="chargeback").delta == -100


def test_expired_checkout_ends_the_purchase_and_frees_the_limit(
    api_client, player_client, player, real_offer, checkout
):
    Offer.objects.filter(pk=real_offer.pk).update(per_player_limit=1)
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    expired = stripe_event("checkout.session.expired", {"id": "cs_test_1"}, "evt_x")
    post_stripe(api_client, expired)

    assert Purchase.objects.get(pk=purchase_id).status == "expired"
    assert OfferPurchaseCount.objects.get().count == 0
    assert Payment.objects.get().status == "expired"


def test_stripe_down_is_503_and_nothing_is_charged(
    player_client, player, real_offer, stripe_account, mocked_http
):
    mocked_http.add(responses.POST, SESSIONS, status=502)

    response = start(player_client, real_offer)
    replay = start(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert replay.status_code == 503
    assert Purchase.objects.get().status == "failed"
    assert Payment.objects.get().status == "failed"
    assert len(mocked_http.calls) == 1


def test_games_sharing_one_webhook_secret_are_told_apart_by_the_signed_metadata(
    other_game, stripe_account, game
):
    from apps.payments.providers import signing as signing_module
    from apps.payments.providers.stripe import parse_notification
    from tests.payments.conftest import WEBHOOK_SECRET

    shared = ProviderAccount(game=other_game, provider="stripe")
    shared.set_secrets({"secret_key": "sk_test_b", "webhook_secret": WEBHOOK_SECRET})
    shared.save()

    def notification_for(metadata_game_id):
        body = stripe_event(
            "checkout.session.completed",
            {"id": "cs_1", "metadata": {"game_id": str(metadata_game_id)}},
        )
        header = signing_module.sign(secret=WEBHOOK_SECRET, body=body, timestamp=int(time.time()))
        return parse_notification(body=body, headers={"Stripe-Signature": header})

    assert notification_for(game.pk).game_id == game.pk
    assert notification_for(other_game.pk).game_id == other_game.pk


def test_a_dispute_without_our_metadata_reaches_the_game_whose_payment_it_is(
    other_game, other_player, stripe_account, game
):
    from apps.payments.providers import signing as signing_module
    from apps.payments.providers.stripe import parse_notification
    from tests.payments.conftest import WEBHOOK_SECRET
    from tests.shop.helpers import make_offer

    shared = ProviderAccount(game=other_game, provider="stripe")
    shared.set_secrets({"secret_key": "sk_test_b", "webhook_secret": WEBHOOK_SECRET})
    shared.save()
    offer = make_offer(other_game, real_money=True, price_currency="USD", price_amount=499)
    purchase = Purchase.objects.create(
        game=other_game, player=other_player, offer=offer, real_money=True,
        price_currency="USD", price_amount=499,
    )  # fmt: skip
    Payment.objects.create(
        game=other_game, purchase=purchase, provider="stripe", payment_reference="pi_b",
        amount=499, currency="USD",
    )  # fmt: skip

    def notification_for(payment_intent):
        # Stripe's dispute object: the payment intent, and none of our session's metadata.
        body = stripe_event(
            "charge.dispute.created",
            {"id": "dp_1", "object": "dispute", "payment_intent": payment_intent, "metadata": {}},
        )
        header = signing_module.sign(secret=WEBHOOK_SECRET, body=body, timestamp=int(time.time()))
        return parse_notification(body=body, headers={"Stripe-Signature": header})

    assert notification_for("pi_b").game_id == other_game.pk  # not the first game's, ignored
    assert notification_for("pi_unknown").game_id == game.pk  # nothing to find: as before


def test_the_stripe_api_base_url_is_a_setting(player_client, real_offer, stripe_account, settings):
    settings.STRIPE_API_BASE_URL = "http://stripe-mock.test:12111"
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            "http://stripe-mock.test:12111/v1/checkout/sessions",
            json={
                "id": "cs_test_2",
                "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_2",
            },
        )

        response = start(player_client, real_offer)

    assert response.status_code == 202
    assert Payment.objects.get().external_id == "cs_test_2"


def test_stripe_refusing_the_session_is_503_with_its_message(
    player_client, real_offer, stripe_account, mocked_http
):
    # Stripe's documented error object.
    mocked_http.add(
        responses.POST,
        SESSIONS,
        status=400,
        json={
            "error": {
                "type": "invalid_request_error",
                "code": "parameter_invalid_integer",
                "param": "line_items[0][price_data][unit_amount]",
                "message": "Invalid integer: abc",
            }
        },
    )

    response = start(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert "Invalid integer: abc" in response.json()["detail"]
    assert len(mocked_http.calls) == 1  # the SDK's own retries are off


def test_stripe_unreachable_is_503(player_client, real_offer, stripe_account, mocked_http):
    import requests

    mocked_http.add(responses.POST, SESSIONS, body=requests.ConnectionError("refused"))

    response = start(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"


def test_a_header_with_several_signatures_verifies_by_any_of_them(api_client, stripe_account):
    # During a secret roll Stripe signs with the old and the new secret.
    from apps.payments.providers import signing as signing_module
    from tests.payments.conftest import WEBHOOK_SECRET

    body = stripe_event("customer.created", {"id": "cus_1"}, event_id="evt_roll")
    now = int(time.time())
    old = signing_module.sign(secret="whsec_old", body=body, timestamp=now)
    new = signing_module.sign(secret=WEBHOOK_SECRET, body=body, timestamp=now)
    header = f"{old},v1={new.split('v1=')[1]}"

    response = api_client.generic(
        "POST",
        "/api/v1/payments/webhooks/stripe",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )

    assert response.status_code == 200
    assert ProviderEvent.objects.get().event_id == "evt_roll"


@pytest.mark.parametrize(
    "body,code",
    [(b"\xff\xfe not utf-8", "invalid_signature"), (b"not json", "invalid_notification")],
)
def test_bodies_that_are_not_events_store_nothing(api_client, stripe_account, body, code):
    from apps.payments.providers import signing as signing_module
    from tests.payments.conftest import WEBHOOK_SECRET

    header = signing_module.sign(secret=WEBHOOK_SECRET, body=body)

    response = api_client.generic(
        "POST",
        "/api/v1/payments/webhooks/stripe",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not ProviderEvent.objects.exists()


def test_a_retry_while_the_first_request_opens_the_checkout_ends_nothing(
    player_client, player, real_offer, stripe_account, mocked_http
):
    # Stripe answers a second call with one idempotency key, while the first still runs, with
    # 409 idempotency_error. That retry must not end the purchase whose checkout the first
    # request is about to hand out.
    mocked_http.add(
        responses.POST,
        SESSIONS,
        status=409,
        json={
            "error": {
                "type": "idempotency_error",
                "message": "There is currently another in-progress request using this "
                "Idempotent Key. Please try again later.",
            }
        },
    )
    mocked_http.add(
        responses.POST,
        SESSIONS,
        json={"id": "cs_test_9", "object": "checkout.session", "url": "https://pay.test/cs_9"},
    )

    busy = start(player_client, real_offer)

    assert busy.status_code == 409
    assert (busy.json()["code"], busy["Retry-After"]) == ("request_in_progress", "1")
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.response_body) == ("pending", None)
    assert Payment.objects.get().status == "created"  # as before its checkout, not failed

    again = start(player_client, real_offer)  # the same key, a moment later

    assert again.status_code == 202
    assert again.json()["payment"]["checkout_url"] == "https://pay.test/cs_9"
    assert Purchase.objects.get().status == "pending"
    assert start(player_client, real_offer).json() == again.json()  # stored now
    assert len(mocked_http.calls) == 2


def test_a_replay_after_a_reprice_sends_stripe_the_price_the_purchase_was_made_at(
    player_client, player, real_offer, stripe_account, mocked_http
):
    # The first request's checkout is still being opened (Stripe 409): the purchase stays open
    # with no answer stored, and the retry opens it. The offer was repriced meanwhile; Stripe
    # refuses a changed request under the same key, and the buyer pays what they were shown.
    busy = {"error": {"type": "idempotency_error", "message": "in progress"}}
    mocked_http.add(responses.POST, SESSIONS, status=409, json=busy)
    mocked_http.add(
        responses.POST,
        SESSIONS,
        json={"id": "cs_test_7", "object": "checkout.session", "url": "https://pay.test/cs_7"},
    )
    assert start(player_client, real_offer).status_code == 409
    Offer.objects.filter(pk=real_offer.pk).update(price_amount=999)

    again = start(player_client, real_offer)

    assert again.status_code == 202
    sent = [parse_qs(call.request.body) for call in mocked_http.calls]
    amounts = [form["line_items[0][price_data][unit_amount]"] for form in sent]
    assert amounts == [["199"], ["199"]]
    assert again.json()["payment"]["amount"] == 199


def test_secrets_no_key_opens_are_409_not_configured_and_nothing_is_charged(
    player_client, real_offer, stripe_account, mocked_http, caplog
):
    from cryptography.fernet import Fernet

    lost_key = Fernet(Fernet.generate_key())
    stripe_account.secrets_encrypted = lost_key.encrypt(b'{"secret_key": "sk"}').decode()
    stripe_account.save()

    response = start(player_client, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_provider_not_configured"
    assert len(mocked_http.calls) == 0
    assert list(Purchase.objects.values_list("status", flat=True)) == ["failed"]
    assert any(r.message.startswith("ALERT stripe payment account") for r in caplog.records)


@pytest.mark.parametrize(
    "event_type, obj, payment_status",
    [
        ("charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "refunded": True}, "refunded"),
        ("charge.dispute.created", {"id": "dp_1", "payment_intent": "pi_1"}, "disputed"),
    ],
)
def test_a_disabled_account_still_verifies_refunds_and_disputes_of_what_it_sold(
    api_client, player_client, player, game, real_offer, checkout, event_type, obj, payment_status
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    post_stripe(api_client, completed(purchase_id=purchase_id))
    assert balance(player, "gems") == 100
    ProviderAccount.objects.filter(provider="stripe").update(enabled=False)

    response = post_stripe(api_client, stripe_event(event_type, obj, "e2"))

    assert response.status_code == 200
    assert ProviderEvent.objects.get(event_id="e2").status == "processed"
    assert Purchase.objects.get().status == "refunded"
    assert Payment.objects.get().status == payment_status
    assert balance(player, "gems") == 0
    # Its secret only verifies: no checkout opens with a disabled account.
    game.sandbox = False
    game.save()
    refused = start(player_client, real_offer, key="k2")
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment_provider_not_configured"
    assert len(checkout.calls) == 1
