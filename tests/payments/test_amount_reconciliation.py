"""What a processor says it charged is reconciled with the purchase's price before any grant:
a mismatch is not granted, the purchase is flagged `needs_attention`, the event's outcome says
why, and an ALERT is logged."""

import json
import logging

import pytest
from django.conf import settings

from apps.analytics.models import RawEvent
from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers import sandbox, signing
from apps.shop.models import Purchase
from apps.shop.services.purchase import purchase_offer
from tests.payments.conftest import committed, post_stripe
from tests.payments.test_stripe import completed, start
from tests.shop.helpers import balance


def assert_flagged_not_granted(player, note_parts):
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention) == ("pending", True)
    for part in note_parts:
        assert part in purchase.note
    assert not purchase.granted
    assert not LedgerEntry.objects.exists()
    assert balance(player, "gems") == 0
    assert not RawEvent.objects.filter(name="purchase_completed").exists()
    event = ProviderEvent.objects.get()
    assert event.status == "processed"
    assert event.outcome.startswith("paid Paid ")
    assert "not granted" in event.outcome
    # The processor did take the money: the payment stays succeeded for an operator to refund.
    assert Payment.objects.get().status == "succeeded"


@pytest.mark.parametrize(
    ("amount_total", "currency", "paid"),
    [
        (1, "jpy", "1 JPY"),  # the reported attack: 1 yen for a 199 USD order
        (198, "usd", "198 USD"),
        (199, "eur", "199 EUR"),
        (None, "usd", "None USD"),
        ("199", "usd", "None USD"),
    ],
    ids=["1 jpy", "too low", "wrong currency", "no amount", "amount as a string"],
)
def test_stripe_completion_that_does_not_match_the_price_is_flagged_not_granted(
    api_client, player_client, player, real_offer, checkout, caplog, amount_total, currency, paid
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    with caplog.at_level(logging.ERROR, logger="apps.shop.services.fulfilment"):
        response = post_stripe(
            api_client,
            completed(purchase_id=purchase_id, amount_total=amount_total, currency=currency),
        )

    assert response.status_code == 200
    assert_flagged_not_granted(player, [f"Paid {paid}", "the price is 199 USD"])
    [alert] = [r for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert f"purchase {purchase_id}" in alert.getMessage()
    assert alert.levelno == logging.ERROR


@pytest.mark.parametrize("currency", ["usd", "USD"])
def test_stripe_completion_matching_the_price_completes(
    api_client, player_client, player, real_offer, checkout, caplog, currency
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    with caplog.at_level(logging.ERROR):
        post_stripe(api_client, completed(purchase_id=purchase_id, currency=currency))

    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention, purchase.note) == ("completed", False, "")
    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1
    assert ProviderEvent.objects.get().outcome == "paid"
    assert not [r for r in caplog.records if "ALERT" in r.getMessage()]


def test_a_later_matching_completion_still_grants_once(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    post_stripe(api_client, completed(purchase_id=purchase_id, amount_total=1, event_id="evt_1"))
    post_stripe(api_client, completed(purchase_id=purchase_id, event_id="evt_2"))

    purchase = Purchase.objects.get()
    assert purchase.status == "completed"
    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1


def sandbox_paid_event(*, payment, **data):
    """The sandbox's own signed callback, with the fields in `data` changed."""
    body, _ = sandbox.build_event(payment=payment, action="paid")
    event = json.loads(body)
    event["data"].update(data)
    body = json.dumps(event).encode()
    return body, signing.sign(secret=settings.SANDBOX_PAYMENT_SECRET, body=body)


def deliver_sandbox(api_client, body, signature):
    with committed():
        return api_client.generic(
            "POST",
            "/api/v1/payments/webhooks/sandbox",
            body,
            content_type="application/json",
            HTTP_SANDBOX_SIGNATURE=signature,
        )


@pytest.mark.parametrize(
    ("data", "paid"),
    [({"amount": 1}, "1 USD"), ({"currency": "JPY"}, "199 JPY"), ({"amount": None}, "None USD")],
    ids=["amount", "currency", "no amount"],
)
def test_sandbox_callback_with_another_amount_is_flagged_not_granted(
    api_client, player, real_offer, data, paid
):
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    payment = Payment.objects.get()

    response = deliver_sandbox(api_client, *sandbox_paid_event(payment=payment, **data))

    assert response.status_code == 200
    assert_flagged_not_granted(player, [f"Paid {paid}", "the price is 199 USD"])


def test_sandbox_callback_with_the_price_completes(api_client, player, real_offer):
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")

    deliver_sandbox(api_client, *sandbox_paid_event(payment=Payment.objects.get(), currency="usd"))

    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
