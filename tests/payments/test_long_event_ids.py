"""A Stripe event id as long as Stripe documents ids (255 characters) is stored and processed;
one character more is refused before anything is stored. The event row's column held 200, and a
signed event with a 201 to 255 character id was refused `400 invalid_notification`, never
processed."""

from __future__ import annotations

import pytest

from apps.inventory.models import LedgerEntry
from apps.payments.models import ProviderEvent
from apps.payments.providers.base import MAX_EVENT_ID_LENGTH
from apps.shop.models import Purchase
from tests.payments.conftest import post_stripe, stripe_event
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db

LONGEST = "evt_" + "x" * 251  # 255 characters


def completion(purchase_id: int, event_id: str) -> bytes:
    return stripe_event(
        "checkout.session.completed",
        {
            "id": "cs_test_1",
            "payment_status": "paid",
            "payment_intent": "pi_1",
            "amount_total": 199,
            "currency": "usd",
            "client_reference_id": str(purchase_id),
            "metadata": {"purchase_id": str(purchase_id)},
        },
        event_id=event_id,
    )


def test_the_event_rows_column_holds_stripes_longest_ids():
    assert len(LONGEST) == 255
    assert ProviderEvent._meta.get_field("event_id").max_length == 255


def test_a_signed_completion_with_a_255_character_id_grants_once(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = player_client.post(
        "/api/v1/shop/purchase", {"offer_id": real_offer.pk}, HTTP_IDEMPOTENCY_KEY="k1"
    ).json()["purchase_id"]

    first = post_stripe(api_client, completion(purchase_id, LONGEST))
    again = post_stripe(api_client, completion(purchase_id, LONGEST))

    assert first.status_code == again.status_code == 200
    assert first.json() == {"received": True, "event_id": LONGEST, "duplicate": False}
    assert again.json()["duplicate"] is True
    event = ProviderEvent.objects.get()
    assert (event.event_id, event.status) == (LONGEST, "processed")
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1


def test_a_signed_event_with_a_256_character_id_is_400_and_stores_nothing(
    api_client, stripe_account
):
    response = post_stripe(api_client, stripe_event("charge.refunded", {}, event_id=LONGEST + "x"))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize("provider", ["stripe", "sandbox", "apple", "google-play"])
def test_the_webhooks_schema_states_the_id_limit_the_webhook_keeps(api_client, provider):
    # The schema said 200 characters while the webhook took 255: a client (or a proxy rule)
    # written from it refused Stripe's longest ids.
    schema = api_client.get("/api/v1/schema/?format=json").json()
    [path] = [p for p in schema["paths"] if p.endswith(f"/payments/webhooks/{provider}")]
    description = schema["paths"][path]["post"]["description"]

    assert f"longer than {MAX_EVENT_ID_LENGTH} characters" in description
    assert "200 characters" not in description
