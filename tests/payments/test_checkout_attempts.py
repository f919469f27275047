"""Two attempts of one purchase (a client's retry under the same Idempotency-Key) and the
sweeper decide its checkout on the payment's row: whoever opens it hands it out and the
purchase stands; whoever ends it first ends it, and no checkout URL is handed out after."""

from __future__ import annotations

import pytest

from apps.payments.errors import ProviderUnavailable
from apps.payments.models import Payment
from apps.payments.services import checkout as checkout_service
from apps.shop.models import Purchase
from apps.shop.services.purchase import purchase_offer

pytestmark = pytest.mark.django_db


def test_an_attempt_whose_call_failed_after_a_retry_opened_the_checkout_answers_that_checkout(
    player, real_offer, monkeypatch
):
    """The first attempt's call to the processor timed out after the processor had made the
    session, and the client's retry got it and handed it out: the first attempt used to end
    the purchase (and free its stock), so the buyer paid for a failed purchase."""
    opened_by_the_retry = checkout_service.open_checkout

    def timed_out_after_the_retry_opened_it(**kwargs):
        opened_by_the_retry(**kwargs)
        raise ProviderUnavailable("The processor did not answer in time.")

    monkeypatch.setattr(checkout_service, "open_checkout", timed_out_after_the_retry_opened_it)

    first = purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")

    payment = Payment.objects.get()
    assert first.status_code == 202
    assert first.body["payment"]["checkout_url"] == payment.checkout_url != ""
    assert (Purchase.objects.get().status, payment.status) == ("pending", "created")
    monkeypatch.undo()
    again = purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    assert (again.status_code, again.body) == (202, first.body)


def test_a_checkout_opened_after_its_purchase_ended_is_not_handed_out(player, real_offer):
    """The other order: the failed attempt (or the sweeper) ended the purchase first; the
    retry's processor call then comes back with a session, which is not stored or answered."""
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    purchase = Purchase.objects.get()
    Payment.objects.filter(purchase=purchase).update(
        status=Payment.Status.FAILED, checkout_url="", external_id=""
    )

    with pytest.raises(ProviderUnavailable):
        checkout_service.open_checkout(
            purchase_id=purchase.pk, name="Pile of gems", quantity=1, unit_amount=199
        )

    assert Payment.objects.get().checkout_url == ""
