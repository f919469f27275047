"""A real-money offer through the sandbox processor: 202 + checkout page, Pay, the processor's
own signed callback, Celery fulfilment, refunds."""

import time

import pytest
from rest_framework.test import APIClient

from apps.analytics.models import RawEvent
from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent
from apps.shop.models import Purchase
from tests.shop.helpers import balance

pytestmark = pytest.mark.usefixtures("sandbox_callbacks")


def start(player_client, offer, key="k1"):
    return player_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY=key
    )


def checkout_path(payment_id: int) -> str:
    """The checkout page's path: it names the payment by its public token, never by its id."""
    return f"/payments/sandbox/checkout/{Payment.objects.get(pk=payment_id).public_token}"


def pay(client, payment_id, action="paid"):
    return client.post(
        checkout_path(payment_id), {"action": action}, content_type="application/json"
    )


def test_real_money_purchase_is_202_pending_with_a_sandbox_checkout(player_client, real_offer):
    response = start(player_client, real_offer)

    assert response.status_code == 202
    body = response.json()
    payment = Payment.objects.get()
    assert body == {
        "purchase_id": payment.purchase_id,
        "status": "pending",
        "payment": {
            "provider": "sandbox",
            "payment_id": payment.pk,
            "checkout_url": f"http://panel.test/payments/sandbox/checkout/{payment.public_token}",
            "external_id": f"sbx_{payment.pk}",
            "amount": 199,
            "currency": "USD",
            "expires_at": payment.expires_at.isoformat().replace("+00:00", "Z"),
        },
    }
    assert Purchase.objects.get().status == "pending"
    assert not LedgerEntry.objects.exists()


def test_pay_sends_a_signed_callback_and_the_purchase_completes_once(
    client, player_client, player, real_offer, sandbox_callbacks, django_capture_on_commit_callbacks
):
    payment_id = start(player_client, real_offer).json()["payment"]["payment_id"]

    assert client.get(checkout_path(payment_id)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = pay(client, payment_id)

    assert response.status_code == 202
    assert len(sandbox_callbacks) == 1
    purchase = Purchase.objects.get()
    assert purchase.status == "completed"
    assert purchase.granted == [{"currency": "gems", "quantity": 100}]
    assert balance(player, "gems") == 100
    assert Payment.objects.get().status == "succeeded"
    event = ProviderEvent.objects.get()
    assert (event.provider, event.event_type, event.status) == (
        "sandbox",
        "payment.succeeded",
        "processed",
    )
    fact = RawEvent.objects.get(name="purchase_completed")
    assert fact.properties["real_money"] is True
    assert fact.properties["amount"] == 199

    # The same callback delivered again: stored once, nothing granted twice.
    with django_capture_on_commit_callbacks(execute=True):
        replay = APIClient().generic(
            "POST",
            "/api/v1/payments/webhooks/sandbox",
            sandbox_callbacks[0]["body"],
            content_type="application/json",
            HTTP_SANDBOX_SIGNATURE=sandbox_callbacks[0]["signature"],
        )
    assert replay.status_code == 200
    assert replay.json()["duplicate"] is True
    assert balance(player, "gems") == 100
    assert ProviderEvent.objects.count() == 1
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1


def post_unsigned_event(*, signature: str) -> object:
    """A sandbox webhook whose Sandbox-Signature header is `signature`, not the body's."""
    return APIClient().generic(
        "POST",
        "/api/v1/payments/webhooks/sandbox",
        b'{"id":"sbxevt_x","type":"payment.succeeded","data":{"game_id":1}}',
        content_type="application/json",
        HTTP_SANDBOX_SIGNATURE=signature,
    )


def test_callback_with_a_bad_signature_is_400_and_changes_nothing(
    player_client, player, real_offer, sandbox_callbacks
):
    start(player_client, real_offer)
    response = post_unsigned_event(signature="t=1,v1=deadbeef")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()
    assert Purchase.objects.get().status == "pending"


@pytest.mark.parametrize("signature", ["v1=\u00e9", "v1=abc\u00e9"], ids=["latin-1", "hex"])
def test_a_callback_signature_that_is_not_ascii_is_400_not_a_500(
    player_client, player, real_offer, sandbox_callbacks, signature
):
    # The webhook is public: hmac.compare_digest raised TypeError on a character beyond ASCII
    # (a header's bytes arrive as latin-1 text), a 500 instead of invalid_signature.
    start(player_client, real_offer)
    response = post_unsigned_event(signature=f"t={int(time.time())},{signature}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()
    assert Purchase.objects.get().status == "pending"


def test_same_key_returns_the_same_checkout(player_client, real_offer):
    first = start(player_client, real_offer)
    second = start(player_client, real_offer)

    assert second.status_code == 202
    assert second.json() == first.json()
    assert Payment.objects.count() == 1


def test_refund_claws_back_what_is_left_and_flags_the_rest(
    client, player_client, player, game, real_offer, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    from apps.inventory.services import change_balance
    from apps.payments.services.sandbox import operator_refund

    payment_id = start(player_client, real_offer).json()["payment"]["payment_id"]
    with django_capture_on_commit_callbacks(execute=True):
        pay(client, payment_id)
    change_balance(player=player, currency="gems", delta=-60, reason="spent", idempotency_key="s")
    operator = get_user_model().objects.create_user(username="oscar")

    with django_capture_on_commit_callbacks(execute=True):
        operator_refund(
            game_id=game.pk,
            purchase_id=Purchase.objects.get().pk,
            actor=operator,
            reason="asked by mail",
        )

    purchase = Purchase.objects.get()
    assert purchase.status == "refunded"
    assert purchase.needs_attention is True
    assert purchase.refund_shortfall == [{"currency": "gems", "quantity": 60}]
    assert balance(player, "gems") == 0
    assert Payment.objects.get().status == "refunded"
    assert RawEvent.objects.filter(name="purchase_refunded").count() == 1


def test_the_checkout_page_cannot_refund(
    client, player_client, player, real_offer, django_capture_on_commit_callbacks
):
    payment_id = start(player_client, real_offer).json()["payment"]["payment_id"]
    with django_capture_on_commit_callbacks(execute=True):
        pay(client, payment_id)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = pay(client, payment_id, action="refund")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "refund_by_operator_only"
    assert not callbacks
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100


def test_paying_twice_is_refused(
    client, player_client, real_offer, django_capture_on_commit_callbacks
):
    payment_id = start(player_client, real_offer).json()["payment"]["payment_id"]
    with django_capture_on_commit_callbacks(execute=True):
        pay(client, payment_id)

    again = pay(client, payment_id)

    assert again.status_code == 403
    assert again.json()["code"] == "sandbox_only"


def test_a_refused_action_says_in_words_what_cannot_be_done(client, player_client, real_offer):
    payment_id = start(player_client, real_offer).json()["payment"]["payment_id"]
    Payment.objects.filter(pk=payment_id).update(status=Payment.Status.FAILED)

    response = pay(client, payment_id, action="cancel")

    assert response.status_code == 403
    assert response.json()["code"] == "sandbox_only"
    assert response.json()["detail"] == "This payment cannot be cancelled: its status is failed."


def test_sandbox_is_refused_for_a_live_game(player_client, game, real_offer):
    game.sandbox = False
    game.save()

    response = start(player_client, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_provider_not_configured"
    assert not Payment.objects.exists()


def test_paid_contents_the_player_cannot_hold_keep_the_payment_and_flag_the_purchase(
    client, player_client, player, game, real_offer, django_capture_on_commit_callbacks
):
    from apps.inventory.services import Change, apply_changes
    from apps.shop.models import Offer

    Offer.objects.filter(pk=real_offer.pk).update(contents=[{"sku": "sword", "quantity": 1}])
    apply_changes(
        player=player, changes=[Change("item", "sword", 1)], reason="t", idempotency_key="s"
    )
    payment_id = start(player_client, real_offer).json()["payment"]["payment_id"]

    with django_capture_on_commit_callbacks(execute=True):
        pay(client, payment_id)

    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention) == ("pending", True)
    assert "Paid but not granted" in purchase.note
    assert Payment.objects.get().status == "succeeded"
    assert ProviderEvent.objects.get().status == "processed"
    assert not LedgerEntry.objects.filter(reason="purchase").exists()
