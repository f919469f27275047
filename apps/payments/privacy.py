"""The payments of the player's purchases: in the data export with the provider's id of each,
and without provider secrets, purchase tokens (masked where one is the id), checkout links or
the processors' notifications (the processor's data, which may carry its credentials)
(apps.accounts.privacy). Erasure keeps the payments (accounting), but clears their checkout
links and the payloads of the provider notifications already processed: a processor's
notification can carry the buyer's name, e-mail or address (a Stripe checkout's customer
details). A notification sent later (a refund, a chargeback) is stored without its payload once
processed, and keeps only what processing reads of it if it fails for good first
(apps.payments.services.processing.mark_failed, with apps.payments.payloads as below).

A notification about one of the player's payments that is not processed yet when the erasure
runs (`received`: queued; `failed`: its task's retries ran out, and the sweeper, or the
processor sending it again, queues it again; `unmatched`: a refund that outran the payment's
news) still has money to move: a refund to record, a payment to mark paid and flag. Its payload
keeps only what processing reads of it (the ids, the event's status, the amounts), checked by
reading it again: the same outcome, or nothing is kept and the event says why. Processed
later, it then loses that too. One that cannot be cut down so (processing would read more
of it than it can tell) is never processed: its payload is cleared, the event is `ignored` and
flagged `needs_attention`, and its outcome tells the operator to settle it at the processor.

Which notifications are the player's is decided as processing decides it: the game's pending
ones read by their provider's interpreter, then matched to a payment (processing's rule).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.accounts.models import Player
from apps.audit.privacy import targets
from apps.payments.models import Payment, Provider, ProviderEvent
from apps.payments.payloads import PAYLOAD_ERASED as PAYLOAD_ERASED
from apps.payments.payloads import keep_what_is_read
from apps.payments.payloads import needed_payload as needed_payload
from apps.payments.providers.google_play import token_transaction_id
from apps.payments.services import processing
from gamingpanel.crypto import mask

FINISHED_EVENTS = (ProviderEvent.Status.PROCESSED, ProviderEvent.Status.IGNORED)
# Not processed yet: each is queued again (the sweeper, a processor's redelivery), and its
# payload is all processing reads.
PENDING_EVENTS = (ProviderEvent.Status.RECEIVED, ProviderEvent.Status.FAILED)


def _payments(player: Player) -> Any:
    return Payment.objects.filter(game_id=player.game_id, purchase__player=player)


def export(player: Player) -> list[dict[str, Any]]:
    payments = _payments(player).order_by("id")
    return [
        {
            "purchase_id": purchase_id,
            "provider": provider,
            "external_id": _shown_external_id(provider, external_id, reference),
            "status": status,
            "amount": amount,
            "currency": currency,
            "created_at": created_at,
            "updated_at": updated_at,
        }
        for (
            purchase_id,
            provider,
            external_id,
            reference,
            status,
            amount,
            currency,
            created_at,
            updated_at,
        ) in payments.values_list(
            "purchase_id",
            "provider",
            "external_id",
            "payment_reference",
            "status",
            "amount",
            "currency",
            "created_at",
            "updated_at",
        )
    ]


def _shown_external_id(provider: str, external_id: str, reference: str) -> str:
    """The provider's id of the payment (a checkout session, a store transaction or order id),
    except where it is the Google Play purchase token or made from it (a purchase without an
    orderId is known by it): the token is a credential, masked as the admin shows it."""
    token = reference if provider == Provider.GOOGLE_PLAY else ""
    if token and external_id in (token, token_transaction_id(token)):
        return mask(external_id)
    return external_id


def audit_entries(player: Player) -> Q:
    """The audit entries about the player's payments (an operator's sandbox refund)."""
    return targets(Payment, _payments(player))


def erase(player: Player) -> None:
    payments = _payments(player)
    payments.exclude(checkout_url="").update(checkout_url="")
    ProviderEvent.objects.filter(payment__in=payments, status__in=FINISHED_EVENTS).exclude(
        payload={}
    ).update(payload={})
    # Processing locks its event, then the buyer's row, which this erasure holds: an event a
    # worker is processing right now is skipped, not waited for (the two would wait for each
    # other). That worker goes on once the erasure commits, finds the buyer erased, and clears
    # the payload of what it processed.
    pending = ProviderEvent.objects.select_for_update(skip_locked=True).filter(
        pk__in=_pending_of(player)
    )
    for event in pending.order_by("pk"):
        _keep_what_processing_reads(event)


def _pending_of(player: Player) -> list[int]:
    """The notifications not processed yet that processing would match to one of the player's
    payments. Pending ones are few (failed ones once retries ran out, unmatched refunds): each
    is read by its provider's interpreter; the unmatched ones through their reference's index."""
    mine = list(_payments(player).values_list("pk", "provider", "external_id", "payment_reference"))
    if not mine:
        return []
    providers = {provider for _, provider, _, _ in mine}
    references = {ref for _, _, *refs in mine for ref in refs if ref}
    candidates = ProviderEvent.objects.filter(
        Q(status__in=PENDING_EVENTS)
        | Q(status=ProviderEvent.Status.UNMATCHED, reference__in=references),
        game_id=player.game_id,
        provider__in=providers,
    ).only("pk", "game_id", "provider", "event_type", "payload")
    ids = {pk for pk, *_ in mine}
    return [event.pk for event in candidates if _payment_of(event) in ids]


def _payment_of(event: ProviderEvent) -> int | None:
    payment = processing.matched_payment(event)
    return payment.pk if payment is not None else None


def _keep_what_processing_reads(event: ProviderEvent) -> None:
    keep_what_is_read(event, processing.INTERPRETERS[event.provider])
