"""A signed Stripe event whose `data`, `data.object` or metadata is not a JSON object: nothing of
it can be read (it was an AttributeError: a 500 in the webhook). It is refused 400
`invalid_notification` with nothing stored, as a body that is no event object is; one stored
before that is processed, not failed on every attempt."""

import json

import pytest

from apps.payments.models import ProviderEvent
from apps.payments.services.processing import process_event
from apps.shop.models import Purchase
from tests.payments.conftest import post_stripe, stripe_event
from tests.payments.test_stripe import start
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db


def event(data: object, event_type: str = "checkout.session.completed") -> bytes:
    return json.dumps({"id": "evt_1", "type": event_type, "data": data}).encode()


@pytest.mark.parametrize(
    "body",
    [
        event([{"id": "cs_test_1"}]),
        event("cs_test_1"),
        event({"object": [{"id": "cs_test_1"}]}),
        event({"object": "cs_test_1"}),
        stripe_event("checkout.session.completed", {"id": "cs_test_1", "metadata": ["x"]}),
        stripe_event("charge.refunded", {"payment_intent": "pi_1", "metadata": "game 1"}),
    ],
    ids=["data-list", "data-text", "object-list", "object-text", "metadata-list", "metadata-text"],
)
def test_a_signed_event_whose_parts_are_not_objects_is_400_and_stores_nothing(
    api_client, stripe_account, body
):
    response = post_stripe(api_client, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        event(None, "customer.created"),
        json.dumps({"id": "evt_1", "type": "customer.created"}).encode(),
        event({"object": None}, "customer.created"),
        stripe_event("customer.created", {"id": "cus_1", "metadata": None}),
    ],
    ids=["data-null", "no-data", "object-null", "metadata-null"],
)
def test_an_event_without_those_parts_is_still_stored(api_client, stripe_account, body):
    response = post_stripe(api_client, body)

    assert response.status_code == 200
    assert ProviderEvent.objects.get().status == "ignored"


def stored(game, payload: dict) -> ProviderEvent:
    return ProviderEvent.objects.create(
        game=game,
        provider="stripe",
        event_id=payload["id"],
        event_type=payload["type"],
        payload=payload,
    )


def test_a_misshapen_event_stored_before_is_ignored_not_failed(game, stripe_account):
    payload = {"id": "evt_1", "type": "charge.refunded", "data": {"object": [{"id": "ch_1"}]}}

    assert process_event(event_pk=stored(game, payload).pk).status == "ignored"


def test_a_completion_stored_before_with_list_metadata_still_grants(
    game, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    payload = json.loads(
        stripe_event(
            "checkout.session.completed",
            {
                "id": "cs_test_1",
                "payment_status": "paid",
                "payment_intent": "pi_1",
                "amount_total": 199,
                "currency": "usd",
                "client_reference_id": str(purchase_id),
                "metadata": [str(purchase_id)],
            },
        )
    )

    assert process_event(event_pk=stored(game, payload).pk).status == "processed"
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
