"""A Google Play purchase that was paid but not granted is never acknowledged or consumed:
acknowledging it would stop Google's automatic refund of purchases left unacknowledged for three
days, and the player would have paid for nothing. The payment and the purchase are flagged, with
an ALERT, so an operator sees it; Google's refund then reverses the purchase. A purchase refunded
before its acknowledgement was sent is not acknowledged either."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import responses

from apps.inventory.services import Change, apply_changes
from apps.payments import tasks
from apps.payments.models import Payment, ProviderEvent
from apps.payments.services import recovery
from apps.shop.models import Offer, Purchase
from tests.payments.conftest import committed
from tests.payments.test_google_play import (  # noqa: F401 (fixtures)
    PRODUCT,
    RTDN_TOKEN,
    TOKEN_URL,
    VOIDED_ENTRY,
    google,
    play,
    purchase_state,
    redeem,
    rtdn,
    service_key,
    voided_list,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("google")]


@pytest.fixture
def store(mocked_http):
    """Google Play answering the token endpoint, consume and acknowledge."""
    mocked_http.add(responses.POST, TOKEN_URL, json={"access_token": "ya29.x", "expires_in": 3600})
    mocked_http.add(responses.POST, f"{PRODUCT}:consume", body="")
    mocked_http.add(responses.POST, f"{PRODUCT}:acknowledge", body="")
    return mocked_http


def finishes(store) -> list[str]:
    return [
        c.request.url.rsplit(":", 1)[1]
        for c in store.calls
        if c.request.url.endswith((":consume", ":acknowledge"))
    ]


def a_sword_already_held(player, offer: Offer, *, consumable: bool) -> None:
    """The offer sells a durable sword the player already holds: the grant is refused."""
    Offer.objects.filter(pk=offer.pk).update(
        contents=[{"sku": "sword", "quantity": 1}], store_consumable=consumable
    )
    apply_changes(
        player=player, changes=[Change("item", "sword", 1)], reason="t", idempotency_key="s"
    )


def sweep(now):
    with committed():
        return recovery.sweep(
            event_task=tasks.process_provider_event,
            callback_task=tasks.deliver_sandbox_callback,
            finish_task=tasks.finish_google_purchase,
            now=now,
        )


@pytest.mark.parametrize("consumable", [True, False])
def test_a_paid_purchase_whose_grant_is_refused_is_not_acknowledged_and_is_flagged(
    player_client, player, real_offer, store, caplog, consumable
):
    a_sword_already_held(player, real_offer, consumable=consumable)
    purchase_state(store)

    with caplog.at_level(logging.ERROR, logger="apps.payments"):
        response = redeem(player_client, real_offer)

    assert response.status_code == 202
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention) == ("pending", True)
    assert "Paid but not granted" in purchase.note
    assert "Not acknowledged to Google Play (not granted)" in purchase.note
    assert finishes(store) == []  # Google refunds it after three days
    payment = Payment.objects.get()
    assert payment.store_finish_due_at is None  # nothing owed: neither replay nor sweep sends it
    assert payment.needs_attention
    assert "not granted" in payment.details["store_finish"]["withheld"]
    assert any(
        r.getMessage().startswith("ALERT") and f"payment {payment.pk}" in r.getMessage()
        for r in caplog.records
    )

    assert redeem(player_client, real_offer).status_code == 200  # the Play client resends it
    assert sweep(payment.created_at + timedelta(hours=1)).store_finishes_requeued == 0
    assert finishes(store) == []


def test_googles_refund_of_the_ungranted_purchase_then_ends_it(
    api_client, player_client, player, real_offer, store
):
    a_sword_already_held(player, real_offer, consumable=True)
    purchase_state(store)
    redeem(player_client, real_offer)
    voided_list(store, [VOIDED_ENTRY])
    notice = {
        "packageName": "com.example.game",
        "voidedPurchaseNotification": {
            "purchaseToken": "tok-1", "orderId": "GPA.1234-5678", "productType": 2,
            "refundType": 1,
        },
    }  # fmt: skip

    with committed():
        response = api_client.post(
            f"/api/v1/payments/webhooks/google-play?token={RTDN_TOKEN}",
            rtdn(notice),
            content_type="application/json",
        )

    assert response.status_code == 200
    assert ProviderEvent.objects.get().status == "processed"
    assert Purchase.objects.get().status == "refunded"
    assert Payment.objects.get().status == "refunded"
    assert finishes(store) == []


def test_a_granted_purchase_is_still_consumed(player_client, player, real_offer, store):
    purchase_state(store)

    assert redeem(player_client, real_offer).status_code == 201

    assert finishes(store) == ["consume"]
    payment = Payment.objects.get()
    assert (payment.store_finish_due_at, payment.needs_attention) == (None, False)


def test_a_purchase_refunded_before_its_consume_was_sent_is_not_consumed(
    api_client, player_client, player, real_offer, store, monkeypatch
):
    """The broker lost the consume; Google's refund came first: the sweeper's retry sends
    nothing (Google would refuse it, and the sweeper would end by saying Google refunds a
    purchase it already refunded)."""
    purchase_state(store)
    monkeypatch.setattr(tasks.finish_google_purchase, "delay", lambda *a, **k: None)  # lost
    assert redeem(player_client, real_offer).status_code == 201
    monkeypatch.undo()
    voided_list(store, [VOIDED_ENTRY])
    notice = {
        "packageName": "com.example.game",
        "voidedPurchaseNotification": {
            "purchaseToken": "tok-1", "orderId": "GPA.1234-5678", "productType": 2,
            "refundType": 1,
        },
    }  # fmt: skip
    with committed():
        api_client.post(
            f"/api/v1/payments/webhooks/google-play?token={RTDN_TOKEN}",
            rtdn(notice),
            content_type="application/json",
        )
    payment = Payment.objects.get()
    assert payment.status == "refunded"

    sweep(payment.store_finish_due_at)

    assert finishes(store) == []
    payment.refresh_from_db()
    assert payment.store_finish_due_at is None  # nothing owed any more
    assert not payment.needs_attention  # the refund ended it; no operator needed
    assert sweep(payment.created_at + timedelta(days=3, hours=1)).store_finishes_requeued == 0
