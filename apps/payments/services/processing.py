"""Processing a stored notification (a Celery task): what it means for the payment, then for
its purchase, through the handler the shop registers (`register_purchase_outcomes`). Payments
is the provider library under the shop: it knows payments, never how a purchase is granted."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Protocol, cast

from django.db import transaction
from django.db.models import ForeignKey, Model
from django.utils import timezone

from apps.accounts.models import Player
from apps.payments.models import UNMATCHED_REVIEW, Payment, ProviderEvent
from apps.payments.payloads import keep_what_is_read
from apps.payments.providers import apple, google_play, sandbox, stripe
from apps.payments.providers.base import (
    REFUND_NEWS_SIGNED,
    REFUND_UNDONE,
    Outcome,
    PaidAmount,
)
from apps.payments.services import closing
from gamingpanel.logging import scrub
from gamingpanel.metrics import PAYMENT_EVENTS
from gamingpanel.sql import CompiledQuery, row_lock

INTERPRETERS: dict[str, Callable[[str, dict[str, Any]], Outcome]] = {
    "stripe": stripe.interpret,
    "sandbox": sandbox.interpret,
    "apple": apple.interpret,
    "google_play": google_play.interpret,
}


class PurchaseOutcomes(Protocol):
    """What a payment's news means for its purchase; called inside the event's transaction."""

    def paid(self, *, purchase_id: int, paid: PaidAmount | None) -> str:
        """Grant once if `paid` (None: not reported) matches the price; returns why it was
        not granted, or ""."""
        ...

    def reversed(self, *, purchase_id: int, kind: str, note: str) -> None: ...

    def closed(self, *, purchase_id: int, outcome: str, note: str, reason: str = "") -> None:
        """End the unpaid purchase (`outcome`: the payment's status, "expired" or "failed") and
        release its reservation; `reason` is why (services/closing.REASONS; empty: the
        default of `outcome`)."""
        ...

    def flagged(self, *, purchase_id: int, note: str) -> None: ...


class NoPurchaseHandler(RuntimeError):
    """No app registered what payments mean for purchases (the shop does, in its ready())."""


_outcomes: list[PurchaseOutcomes] = []


def register_purchase_outcomes(handler: PurchaseOutcomes) -> None:
    """The shop registers its handler once, at start-up; a second registration replaces it."""
    _outcomes[:] = [handler]


def purchase_outcomes() -> PurchaseOutcomes:
    """The registered handler, for payments code outside processing (the sweeper)."""
    return _purchase_outcomes()


def _purchase_outcomes() -> PurchaseOutcomes:
    if not _outcomes:
        raise NoPurchaseHandler("No purchase handler registered: is apps.shop installed?")
    return _outcomes[0]


@transaction.atomic
def process_event(*, event_pk: int) -> ProviderEvent:
    """Idempotent: the event row is locked and marked processed in the same transaction as the
    grant or reversal it causes, so a redelivered task finds it done."""
    event = ProviderEvent.objects.select_for_update().get(pk=event_pk)
    if event.status in (ProviderEvent.Status.PROCESSED, ProviderEvent.Status.IGNORED):
        return event
    outcome = INTERPRETERS[event.provider](event.event_type, event.payload)
    cleared = False
    payment = find_payment(event, outcome) if outcome.action != "none" else None
    reference = outcome.external_id or outcome.payment_reference
    if payment is None and outcome.action in KEPT and len(reference) > MAX_REFERENCE_LENGTH:
        # No payment holds an id this long, nor does any receipt redeem one (each is refused
        # first): cut to the column it would name another transaction sharing its start.
        event.status = ProviderEvent.Status.IGNORED
        event.outcome = f"{outcome.action} of an id longer than any payment's; nothing to reverse"
    elif payment is None and outcome.action in KEPT and reference:
        # Kept, not dropped: a receipt of this transaction redeemed later is refused (a
        # reversal's; a flag's is granted), the payment's own news applies it (_apply), and
        # the sweeper processes it again a few times in case the payment's news was on its way.
        event.status = ProviderEvent.Status.UNMATCHED
        event.reference = reference
        event.outcome = f"{outcome.action} of a payment not known yet"
        if outcome.action == "flag":
            event.outcome = f"{UNMATCHED_REVIEW}of a payment not known yet: {outcome.note}"[:200]
    elif payment is None:
        event.status = ProviderEvent.Status.IGNORED
        event.outcome = outcome.note or "no payment of ours matches this notification"
    else:
        # Before the payment's and purchase's rows are touched, as the erasure locks the player
        # before it clears their payments: neither waits on the other holding what it needs.
        erased = _buyer_erased(payment)
        note = _apply(event, outcome, payment, erased=erased) or outcome.note
        event.status = ProviderEvent.Status.PROCESSED
        event.outcome = f"{outcome.action} {note}".strip()[:200]
        if erased:
            # The buyer's name, e-mail or address a notification may carry goes; what was
            # made of it (ids, type, status, outcome) stays with the payment.
            event.payload, cleared = {}, True
    event.payment = payment
    event.attempts += 1
    event.processed_at = timezone.now()
    fields = ["status", "outcome", "reference", "payment", "attempts", "processed_at"]
    event.save(update_fields=[*fields, "payload"] if cleared else fields)
    PAYMENT_EVENTS.labels(event.provider, event.status).inc()
    return event


@transaction.atomic
def mark_failed(*, event_pk: int, error: str) -> None:
    """The event's retries ran out. `error` (an exception's text, often a provider's answer)
    is stored scrubbed: the admin lists it, and a provider's error can quote a key or token.
    One about an erased buyer's payment that came after the erasure keeps only what processing
    reads of its payload, as the erasure leaves the buyer's pending ones (apps.payments.privacy):
    it is still processed again (the sweeper, the processor sending it again)."""
    event = (
        ProviderEvent.objects.select_for_update()
        .exclude(status=ProviderEvent.Status.PROCESSED)
        .filter(pk=event_pk)
        .first()
    )
    if event is None:
        return
    event.status, event.outcome = ProviderEvent.Status.FAILED, scrub(error)[:200]
    fields = ["status", "outcome"]
    # The event's lock, then the buyer's (FOR SHARE), as processing takes them.
    if event.payload and (payment := matched_payment(event)) and _buyer_erased(payment):
        keep_what_is_read(event, INTERPRETERS[event.provider], save=False)
        fields += ["payload", "needs_attention"]
    event.save(update_fields=fields)
    PAYMENT_EVENTS.labels(event.provider, event.status).inc()


def matched_payment(event: ProviderEvent) -> Payment | None:
    """The payment processing would apply the event to, as it finds it; None when none, or when
    the interpreter cannot read the payload (processing fails on it too)."""
    interpret = INTERPRETERS.get(event.provider)
    if interpret is None or not isinstance(event.payload, dict):
        return None
    try:
        outcome = interpret(event.event_type, event.payload)
    except Exception:  # a payload processing cannot read either: no payment is known to be its
        return None
    if outcome.action == "none":
        return None
    return find_payment(event, outcome)


REVERSALS = ("refund", "chargeback")
# Kept `unmatched` when no payment has their ids yet: reversals, and the news an operator
# reviews (a partial refund), which would be lost if the payment was not known when it came.
KEPT = (*REVERSALS, "flag")
# What an unmatched reversal's reference holds (ProviderEvent.reference).
MAX_REFERENCE_LENGTH = ProviderEvent._meta.get_field("reference").max_length or 0


@cache
def _buyer_erased_at() -> CompiledQuery:
    """The erased_at of the player whose purchase a payment is, FOR SHARE of the player's row
    to the event's commit: an erasure (which holds it FOR NO KEY UPDATE, then clears the
    processed notifications' payloads) either waits for this event and clears it too, or has
    committed and this event clears its own. Compiled on first use: the purchase is the shop's
    model, which payments, below the shop, names only through the payment's foreign key."""
    purchase = cast(type[Model], Payment._meta.get_field("purchase").related_model)
    buyer = cast(ForeignKey, purchase._meta.get_field("player")).column
    return CompiledQuery.compile(
        "SELECT p.erased_at FROM {player} AS p"  # noqa: S608 - table and column names only
        f" JOIN {{purchase}} AS u ON u.{buyer} = p.id WHERE u.id = %s" + row_lock("FOR SHARE OF p"),
        player=Player,
        purchase=purchase,
    )


def _buyer_erased(payment: Payment) -> bool:
    row = _buyer_erased_at().row([payment.purchase_id])
    return row is None or row[0] is not None


def find_payment(event: ProviderEvent, outcome: Outcome) -> Payment | None:
    """By each id the notification carries, in turn: a refund can name the money movement
    (Stripe's payment intent) before the payment has learnt it, and still carry our purchase."""
    if event.game_id is None:
        return None
    payments = Payment.objects.filter(game_id=event.game_id, provider=event.provider)
    for field, value in (
        ("external_id", outcome.external_id),
        ("payment_reference", outcome.payment_reference),
    ):
        if value and (found := payments.filter(**{field: value}).first()) is not None:
            return found
    if not outcome.purchase_id:
        return None
    found = payments.filter(purchase_id=outcome.purchase_id).first()
    if found is None or _names_another_transaction(found, outcome):
        return None
    return found


def _names_another_transaction(payment: Payment, outcome: Outcome) -> bool:
    """A purchase id is a small number any other integration of the processor account may put
    in its own checkouts (Stripe's `client_reference_id`, another deployment's metadata), and
    the account's endpoint receives their events too: a notification whose checkout or money
    movement is not the one the payment already holds is about someone else's purchase."""
    return any(
        theirs and ours and theirs != ours
        for theirs, ours in (
            (outcome.external_id, payment.external_id),
            (outcome.payment_reference, payment.payment_reference),
        )
    )


# Notifications whose "failed" is the buyer's cancel, not a failed payment. Only the sandbox
# reports one: Stripe's cancel URL sends no event (its session stays payable until it expires),
# and a store purchase the buyer cancelled never reaches us as a purchase (its receipt is
# refused, `receipt_not_paid`, before anything is reserved).
CANCELLATIONS = frozenset({("sandbox", "payment.canceled")})


def closing_reason(event: ProviderEvent, outcome: Outcome) -> str:
    """Why the processor's news ends the checkout unpaid (services/closing.REASONS)."""
    if outcome.action == "expired":
        return closing.CHECKOUT_EXPIRED
    if (event.provider, event.event_type) in CANCELLATIONS:
        return closing.PAYMENT_CANCELLED
    return closing.PAYMENT_FAILED


def _apply(
    event: ProviderEvent, outcome: Outcome, payment: Payment, *, erased: bool = False
) -> str:
    """Returns what the purchase side said, when it did not do as told (or "")."""
    purchase_id, purchases = payment.purchase_id, _purchase_outcomes()
    if REFUND_NEWS_SIGNED in outcome.details and (stale := _older_refund_news(outcome, payment)):
        return stale
    if outcome.action == "paid":
        reference = outcome.details.get("payment_reference") or payment.payment_reference
        early = _received_first(event, payment, reference)
        said = _paid(outcome, payment, reference, early, erased=erased)
        for review in early:
            if review.outcome.startswith(UNMATCHED_REVIEW):
                _review_received_first(review, payment, erased=erased)
        return said
    elif outcome.action in ("refund", "chargeback"):
        status = Payment.Status.REFUNDED if outcome.action == "refund" else Payment.Status.DISPUTED
        Payment.objects.filter(pk=payment.pk).update(status=status, updated_at=timezone.now())
        purchases.reversed(purchase_id=purchase_id, kind=outcome.action, note=outcome.note)
    elif outcome.action == "submitted":
        # The processor decides from here: the expiry sweep leaves an open payment without an end.
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED).update(
            expires_at=None, updated_at=timezone.now()
        )
    elif outcome.action in ("expired", "failed"):
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED).update(
            status=outcome.action, updated_at=timezone.now()
        )
        reason = closing_reason(event, outcome)
        purchases.closed(
            purchase_id=purchase_id,
            outcome=outcome.action,
            note=f"checkout {outcome.action}",
            reason=reason,
        )
    elif outcome.action == "flag":
        if outcome.details.get(REFUND_UNDONE) and payment.status != Payment.Status.REFUNDED:
            # Its refund was never applied here (processed later, it is older: _older_refund_news).
            return "of a refund not applied; nothing taken back, nothing to re-grant"
        purchases.flagged(purchase_id=purchase_id, note=outcome.note)
    return ""


def _older_refund_news(outcome: Outcome, payment: Payment) -> str:
    """A refund, or a refund's reversal, that the provider signed before the one last applied
    to the payment: what it says is no longer so (a REFUND processed after its REFUND_REVERSED
    would take back what the buyer paid for after all), so nothing is done; returns why. Else
    "", and the payment remembers when this one was signed (its row locked to the event's
    commit: a concurrent one of the same payment waits, then compares with this)."""
    signed = outcome.details[REFUND_NEWS_SIGNED]
    details, status = (
        Payment.objects.select_for_update().values_list("details", "status").get(pk=payment.pk)
    )
    applied = details.get(REFUND_NEWS_SIGNED)
    if isinstance(applied, int) and applied > signed:
        return "signed before the refund news already applied; superseded, nothing done"
    Payment.objects.filter(pk=payment.pk).update(
        details={**details, REFUND_NEWS_SIGNED: signed}, updated_at=timezone.now()
    )
    payment.status = status
    return ""


def _paid(
    outcome: Outcome,
    payment: Payment,
    reference: str,
    early: list[ProviderEvent],
    *,
    erased: bool,
) -> str:
    """The payment's "paid" news: granted, unless a reversal came first."""
    purchase_id, purchases = payment.purchase_id, _purchase_outcomes()
    reversals = [found for found in early if not found.outcome.startswith(UNMATCHED_REVIEW)]
    if reversals:
        return _reverse_before_grant(reversals[0], payment, reference, erased=erased)
    # Checked where it is written: a refund or chargeback another event's task committed
    # after this one read the payment keeps its status (the UPDATE waits for that row and
    # reads it again), and nothing is granted.
    reversed_first = (Payment.Status.REFUNDED, Payment.Status.DISPUTED)
    succeeded = (
        Payment.objects.filter(pk=payment.pk)
        .exclude(status__in=reversed_first)
        .update(
            status=Payment.Status.SUCCEEDED,
            payment_reference=reference,
            updated_at=timezone.now(),
        )
    )
    if not succeeded:
        # The refund's news came first: the money went back, nothing is granted.
        status = Payment.objects.values_list("status", flat=True).get(pk=payment.pk)
        return f"paid, but the payment was {status} before; not granted"
    payment.status, payment.payment_reference = Payment.Status.SUCCEEDED, reference
    # The processor did take the money, so the payment succeeded even if it is not granted.
    return purchases.paid(purchase_id=purchase_id, paid=outcome.paid)


def _received_first(event: ProviderEvent, payment: Payment, reference: str) -> list[ProviderEvent]:
    """The news of this payment processed before its own came, kept `unmatched` under the id it
    named (a dispute names only the payment intent, which the payment learns from this very
    news), locked, oldest first: refunds and chargebacks, and flags (UNMATCHED_REVIEW). Read
    before the payment's row is written, so the events' locks are taken before the payment's,
    as processing those events takes them."""
    ids = [found for found in (payment.external_id, reference) if found]
    if not ids:
        return []
    return list(
        ProviderEvent.objects.select_for_update()
        .filter(provider=event.provider, status=ProviderEvent.Status.UNMATCHED, reference__in=ids)
        .exclude(pk=event.pk)
        .order_by("pk")
    )


def _review_received_first(review: ProviderEvent, payment: Payment, *, erased: bool) -> None:
    """A flag (a partial refund) processed before the payment's news came: applied now, with
    its payment, rather than left to the sweeper, which may have given up on it."""
    note = INTERPRETERS[review.provider](review.event_type, review.payload).note
    _purchase_outcomes().flagged(
        purchase_id=payment.purchase_id, note=f"{note} (received before the payment)"
    )
    _processed_with(
        review,
        payment,
        outcome=f"flag received before the payment, applied when it was paid: {note}",
        erased=erased,
    )


def _reverse_before_grant(
    early: ProviderEvent, payment: Payment, reference: str, *, erased: bool
) -> str:
    """The money went back before the payment's news came: the purchase is reversed, never
    granted (as a store receipt whose refund came first is refused), and the early reversal is
    processed here, with its payment, rather than left to the sweeper, which may have given up
    on it."""
    kind = INTERPRETERS[early.provider](early.event_type, early.payload).action
    kind = kind if kind in REVERSALS else "refund"
    status = Payment.Status.REFUNDED if kind == "refund" else Payment.Status.DISPUTED
    Payment.objects.filter(pk=payment.pk).update(
        status=status, payment_reference=reference, updated_at=timezone.now()
    )
    payment.status, payment.payment_reference = status, reference
    _purchase_outcomes().reversed(
        purchase_id=payment.purchase_id, kind=kind, note=f"{kind} received before the payment"
    )
    _processed_with(
        early,
        payment,
        outcome=f"{kind} received before the payment; applied when it was paid",
        erased=erased,
    )
    return f"paid, but the payment was {status} before; not granted"


def _processed_with(early: ProviderEvent, payment: Payment, *, outcome: str, erased: bool) -> None:
    """News received before its payment's, applied with it now: processed, against the
    payment, its payload cleared if the buyer was erased (as any event processed for them)."""
    early.status = ProviderEvent.Status.PROCESSED
    early.outcome = outcome[:200]
    early.payment = payment
    early.attempts += 1
    early.processed_at = timezone.now()
    fields = ["status", "outcome", "payment", "attempts", "processed_at"]
    if erased:
        early.payload = {}
    early.save(update_fields=[*fields, "payload"] if erased else fields)
    PAYMENT_EVENTS.labels(early.provider, early.status).inc()
