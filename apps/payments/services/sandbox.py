"""The sandbox processor's side: the buyer pressed Pay or Cancel on the checkout page, or an
operator of the game refunded from the panel. Each asks the processor for one signed callback
(`SandboxCallback`, written in this transaction, delivered by a task after commit)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record_action
from apps.payments.errors import (
    CheckoutAlreadySubmitted,
    CheckoutExpired,
    PaymentNotFound,
    PaymentNotRefundable,
    RefundByOperatorOnly,
    SandboxOnly,
    UnknownCheckoutAction,
)
from apps.payments.models import Payment, Provider, SandboxCallback
from apps.payments.providers import sandbox
from apps.payments.selectors import payment_by_token, payment_of_purchase
from apps.payments.services.queueing import enqueue_after_commit
from apps.payments.tasks import deliver_sandbox_callback

BUYER_ACTIONS = (SandboxCallback.Action.PAID, SandboxCallback.Action.CANCEL)
# The payment status each action needs.
NEEDS = {
    SandboxCallback.Action.PAID: Payment.Status.CREATED,
    SandboxCallback.Action.CANCEL: Payment.Status.CREATED,
    SandboxCallback.Action.REFUND: Payment.Status.SUCCEEDED,
}
# How a refusal names each action: "cannot be cancelled".
DONE = {
    SandboxCallback.Action.PAID: "paid",
    SandboxCallback.Action.CANCEL: "cancelled",
    SandboxCallback.Action.REFUND: "refunded",
}


def buyer_action(*, token: str, action: str) -> SandboxCallback:
    """The checkout page's buttons: pay or cancel the payment its token names. Idempotent:
    pressing the same button again returns the callback already on its way."""
    payment = payment_by_token(token=token)
    if payment is None:
        raise PaymentNotFound("No sandbox checkout here.")
    _check_sandbox(payment)
    if action == SandboxCallback.Action.REFUND:
        raise RefundByOperatorOnly(
            "A buyer cannot refund: an operator of the game refunds from the panel."
        )
    if action not in BUYER_ACTIONS:
        actions = " or ".join(f"'{name}'" for name in BUYER_ACTIONS)
        raise UnknownCheckoutAction(f"The checkout page's action is {actions}, not {action!r}.")
    return _request(payment, action, actor=None)[0]


def operator_refund(*, game_id: int, purchase_id: int, actor: User, reason: str) -> SandboxCallback:
    """An operator of the game refunds a paid sandbox payment from the panel: the processor
    sends its `payment.refunded` callback, which reverses the purchase as a real refund would.
    Audited (`payments.refund`) in the same transaction."""
    payment = payment_of_purchase(game_id=game_id, purchase_id=purchase_id)
    if payment is None:
        raise PaymentNotFound("This purchase has no payment to refund.")
    if payment.provider != Provider.SANDBOX:
        raise PaymentNotRefundable(
            f"Refund {payment.get_provider_display()} payments with {payment.provider} itself; "
            "its refund notification reverses the purchase here."
        )
    _check_sandbox(payment)
    with transaction.atomic():
        callback, requested = _request(payment, SandboxCallback.Action.REFUND, actor=actor)
        if not requested:  # a second press while the first refund is on its way: one entry
            return callback
        record_action(
            actor=actor,
            game=payment.game,
            action="payments.refund",
            target=payment,
            before={"status": payment.status},
            after={"refund": "requested", "callback": callback.event_id},
            reason=reason,
        )
    return callback


def _check_sandbox(payment: Payment) -> None:
    if payment.provider != Provider.SANDBOX or not payment.game.sandbox:
        raise SandboxOnly("Only sandbox payments of sandbox games can be simulated.")


@transaction.atomic
def _request(payment: Payment, action: str, *, actor: User | None) -> tuple[SandboxCallback, bool]:
    """The callback asked for (pending, or new), and whether this call asked for it."""
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if action in BUYER_ACTIONS:
        _check_not_expired(locked)
    if locked.status != NEEDS[SandboxCallback.Action(action)]:
        raise SandboxOnly(
            f"This payment cannot be {DONE[SandboxCallback.Action(action)]}: its status is "
            f"{locked.get_status_display().lower()}."
        )
    pending = SandboxCallback.objects.filter(payment=locked, action__in=_same_step(action))
    existing = pending.first()
    if existing is not None:
        if existing.action != action:
            raise CheckoutAlreadySubmitted(
                f"This checkout was already submitted ({existing.get_action_display().lower()})."
            )
        return existing, False
    callback = SandboxCallback.objects.create(
        payment=locked, action=action, event_id=sandbox.new_event_id(), requested_by=actor
    )
    if action in BUYER_ACTIONS:
        # Submitted in time: its callback ends the checkout, not the clock (the expiry sweep
        # skips a payment without an end, and one whose row this transaction holds).
        locked.expires_at = None
        locked.save(update_fields=["expires_at", "updated_at"])
    enqueue_after_commit(deliver_sandbox_callback, callback.pk)
    return callback, True


def _check_not_expired(payment: Payment) -> None:
    """A checkout past its end is closed to the buyer, as a processor's expired session is, even
    in the minutes before the expiry sweep marks it expired."""
    ended = payment.status == Payment.Status.EXPIRED or (
        payment.status == Payment.Status.CREATED
        and payment.expires_at is not None
        and payment.expires_at <= timezone.now()
    )
    if ended:
        raise CheckoutExpired("This checkout expired before it was paid; nothing was charged.")


def _same_step(action: str) -> tuple[str, ...]:
    """Pay and cancel answer the same checkout: only one of them is ever sent."""
    return BUYER_ACTIONS if action in BUYER_ACTIONS else (action,)
