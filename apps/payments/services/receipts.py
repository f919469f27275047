"""Store receipts (App Store, Google Play), the provider side: verify a receipt with its store,
record the store's payment once per store transaction id, and finish it with the store later.
What the receipt buys and how it is granted is the shop's (`apps.shop.services.receipts`)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.payments.errors import (
    InvalidReceipt,
    ProviderNotConfigured,
    ReceiptNotPaid,
    ReceiptProductMismatch,
    UnknownProvider,
)
from apps.payments.models import Payment, Provider
from apps.payments.providers import apple, google_play
from apps.payments.providers.base import VerifiedReceipt
from apps.payments.selectors import enabled_account, reversed_before_known
from apps.payments.services import store_finish
from apps.payments.services.queueing import enqueue_after_commit
from apps.payments.services.store_finish import STORE_FINISH
from apps.payments.tasks import finish_google_purchase

STORES = (Provider.APPLE, Provider.GOOGLE_PLAY)


def verify_receipt(
    *, game_id: int, provider: str, product_id: str, receipt: object, player_id: int | None = None
) -> VerifiedReceipt:
    """The store's word on this receipt, for this product of this game's app (and, when the
    purchase names its buyer, for `player_id`)."""
    if provider not in STORES:
        raise UnknownProvider(f"Receipts come from {', '.join(STORES)}, not {provider!r}.")
    account = enabled_account(game_id=game_id, provider=provider)
    if account is None:
        raise ProviderNotConfigured(f"This game has no enabled {provider} account.")
    if provider == Provider.APPLE:
        verified = apple.verify_transaction(account=account, receipt=receipt, player_id=player_id)
    else:
        verified = google_play.verify_purchase(
            account=account, receipt=receipt, product_id=product_id, player_id=player_id
        )
    if verified.product_id != product_id:
        raise ReceiptProductMismatch(f"The receipt is for {verified.product_id}, not this offer.")
    # A store's refund can arrive before the receipt (a client that never redeemed it, then did):
    # the receipt itself still verifies, so the refund's notification has the last word.
    if reversed_before_known(
        provider=provider, references=[verified.transaction_id, verified.payment_reference]
    ):
        raise ReceiptNotPaid("The store refunded or revoked this transaction.")
    return verified


def store_quantity(verified: VerifiedReceipt) -> int:
    quantity = verified.details.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise InvalidReceipt("The store transaction has no valid quantity.")
    return quantity


def record_store_payment(
    *,
    game_id: int,
    purchase_id: int,
    provider: str,
    verified: VerifiedReceipt,
    amount: int,
    currency: str,
) -> Payment:
    """Inside the purchase's transaction. Unique per game, provider and store transaction id
    (and per store transaction id across games): a second one raises IntegrityError."""
    return Payment.objects.create(
        game_id=game_id,
        purchase_id=purchase_id,
        provider=provider,
        external_id=verified.transaction_id,
        payment_reference=verified.payment_reference,
        status=Payment.Status.SUCCEEDED,
        amount=amount,
        currency=currency,
        details={"environment": verified.environment, **verified.details},
    )


def finish_with_store_after_commit(*, payment: Payment, product_id: str, consume: bool) -> None:
    """Google Play wants a granted purchase consumed or acknowledged within three days: a task,
    once committed. The payment row says it is owed until the task has done it, so a broker
    that was down or a task out of retries is followed up by the sweeper. A purchase the shop
    did not grant is never finished: Google's automatic refund of unacknowledged purchases
    gives the buyer their money back, and the payment and purchase are flagged for an operator
    (services/store_finish.py)."""
    if payment.provider != Provider.GOOGLE_PLAY:
        return
    owed = {"product_id": product_id, "consume": consume}
    if reason := store_finish.withheld_reason(payment_id=payment.pk):
        store_finish.withhold(payment_id=payment.pk, reason=reason, owed=owed)
        return
    payment.details = {**payment.details, STORE_FINISH: owed}
    payment.store_finish_due_at = timezone.now() + timedelta(
        seconds=settings.PAYMENTS_SWEEP_GRACE_SECONDS
    )
    payment.save(update_fields=["details", "store_finish_due_at", "updated_at"])
    enqueue_after_commit(finish_google_purchase, payment.pk)


def finish_again_if_owed(*, payment: Payment) -> None:
    """A receipt sent again (Google Play's client resends purchases it has not seen finished):
    queue the finish once more if it is still owed."""
    if payment.store_finish_due_at is not None:
        enqueue_after_commit(finish_google_purchase, payment.pk)
