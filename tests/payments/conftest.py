"""Payments fixtures: a real-money offer, a Stripe account, and the sandbox's outbound callback
routed (through `responses`) into this test's own webhook endpoint."""

from __future__ import annotations

import json
import time

import pytest
import responses
from django.test import TestCase
from rest_framework.test import APIClient

from apps.payments.models import ProviderAccount
from apps.payments.providers import signing
from tests.shop.helpers import make_economy, make_offer

WEBHOOK_SECRET = "whsec_test_secret"
SESSIONS = "https://api.stripe.com/v1/checkout/sessions"


@pytest.fixture
def real_offer(game):
    make_economy(game)
    return make_offer(
        game,
        name="Pile of gems",
        real_money=True,
        price_currency="USD",
        price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}],
        apple_product_id="com.example.gems100",
        google_product_id="gems_100",
    )


@pytest.fixture
def stripe_account(game):
    account = ProviderAccount(game=game, provider="stripe")
    account.set_secrets({"secret_key": "sk_test_123", "webhook_secret": WEBHOOK_SECRET})
    account.save()
    return account


@pytest.fixture
def mocked_http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def checkout(mocked_http, stripe_account):
    """Stripe's API opens checkout session cs_test_1."""
    mocked_http.add(
        responses.POST,
        SESSIONS,
        json={"id": "cs_test_1", "url": "https://checkout.stripe.com/c/pay/cs_test_1"},
    )
    return mocked_http


@pytest.fixture
def sandbox_callbacks(mocked_http, settings):
    """The sandbox POSTs its signed callback to PUBLIC_BASE_URL; deliver it to our webhook."""
    settings.PUBLIC_BASE_URL = "http://panel.test"
    delivered: list[dict] = []

    def forward(request):
        client = APIClient()
        response = client.generic(
            "POST",
            "/api/v1/payments/webhooks/sandbox",
            request.body,
            content_type="application/json",
            HTTP_SANDBOX_SIGNATURE=request.headers["Sandbox-Signature"],
        )
        delivered.append({"body": request.body, "signature": request.headers["Sandbox-Signature"]})
        return response.status_code, {}, response.content

    mocked_http.add_callback(
        responses.POST, "http://panel.test/api/v1/payments/webhooks/sandbox", callback=forward
    )
    return delivered


def stripe_event(event_type: str, obj: dict, event_id: str = "evt_1") -> bytes:
    return json.dumps({"id": event_id, "type": event_type, "data": {"object": obj}}).encode()


def post_stripe(client, body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    header = signing.sign(secret=secret, body=body, timestamp=timestamp or int(time.time()))
    with committed():
        return client.generic(
            "POST",
            "/api/v1/payments/webhooks/stripe",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )


def committed():
    """Run what the request hands to `transaction.on_commit` (the Celery task, eagerly) when
    the request ends, as a real commit would; tests run inside one rolled-back transaction."""
    return TestCase.captureOnCommitCallbacks(execute=True)
