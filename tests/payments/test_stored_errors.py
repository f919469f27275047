"""What a failure leaves on a payments row the admin lists (a notification's `outcome`, a sandbox
callback's `last_error`) is scrubbed as a log line is: a provider's error text can quote a key or
a token, and the admin shows these columns in clear."""

from __future__ import annotations

import pytest
import requests
import responses

from apps.payments.models import Payment, ProviderEvent, SandboxCallback
from apps.payments.providers import sandbox
from apps.payments.services import callbacks, processing
from apps.payments.tasks import process_provider_event
from apps.shop.services.purchase import purchase_offer

pytestmark = pytest.mark.django_db

STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
PROXY_PASSWORD = "hunter2proxy"


@pytest.fixture
def stored_event(player, real_offer):
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    return ProviderEvent.objects.create(
        provider="sandbox",
        event_id="sbxevt_failing",
        game_id=player.game_id,
        event_type="payment.succeeded",
        payload={},
    )


def test_a_notification_whose_retries_ran_out_keeps_its_error_without_the_key(
    stored_event, monkeypatch
):
    calls = []

    def provider_quotes_the_key(*, event_pk):
        calls.append(event_pk)
        raise RuntimeError(
            f"Invalid API Key provided: {STRIPE_KEY}; retry with Authorization: Bearer {STRIPE_KEY}"
        )

    monkeypatch.setattr(processing, "process_event", provider_quotes_the_key)

    last_try = process_provider_event.max_retries
    result = process_provider_event.apply(args=[stored_event.pk], retries=last_try, throw=False)

    assert result.failed()
    assert calls == [stored_event.pk]
    stored_event.refresh_from_db()
    assert stored_event.status == "failed"
    assert stored_event.outcome.startswith("RuntimeError: Invalid API Key provided: [redacted]")
    assert STRIPE_KEY not in stored_event.outcome
    assert STRIPE_KEY[:12] not in stored_event.outcome


def test_mark_failed_scrubs_whatever_its_caller_passes(stored_event):
    # The key straddles the column's 200 characters: scrubbed whole, then cut.
    secret = "x" * 160 + f" token={STRIPE_KEY}"

    processing.mark_failed(event_pk=stored_event.pk, error=f"ProviderDown: {secret}")

    stored_event.refresh_from_db()
    assert "sk_live" not in stored_event.outcome
    assert len(stored_event.outcome) <= 200


def test_a_sandbox_callback_that_could_not_be_delivered_keeps_its_error_without_the_password(
    player, real_offer, settings, mocked_http
):
    settings.PUBLIC_BASE_URL = "http://panel.test"
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    callback = SandboxCallback.objects.create(
        payment=Payment.objects.get(), action="paid", event_id=sandbox.new_event_id()
    )
    mocked_http.add(
        responses.POST,
        "http://panel.test/api/v1/payments/webhooks/sandbox",
        body=requests.exceptions.ProxyError(
            f"Unable to connect to proxy http://ops:{PROXY_PASSWORD}@proxy.internal:3128"
        ),
    )

    with pytest.raises(requests.exceptions.ProxyError):
        callbacks.deliver(callback_pk=callback.pk)

    callback.refresh_from_db()
    assert callback.last_error.startswith("ProxyError: Unable to connect to proxy http://ops:")
    assert "[redacted]" in callback.last_error
    assert PROXY_PASSWORD not in callback.last_error
