"""The payments of the player's purchases: in the data export with the provider's id of each,
and without provider secrets, purchase tokens (masked where one is the id), checkout links or
the processors' notifications (the processor's data, which may carry its credentials)
(apps.accounts.privacy). Erasure keeps the payments (accounting), but clears their checkout
links and the payloads of the provider notifications already processed: a processor's
notification can carry the buyer's name, e-mail or address (a Stripe checkout's customer
details). A notification sent later (a refund, a chargeback) is stored without its payload once
processed (apps.payments.services.processing).

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

from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import Q

from apps.accounts.models import Player
from apps.audit.privacy import targets
from apps.payments.models import Payment, Provider, ProviderEvent
from apps.payments.providers.base import Outcome
from apps.payments.providers.google_play import token_transaction_id
from apps.payments.services import processing
from gamingpanel.crypto import mask

FINISHED_EVENTS = (ProviderEvent.Status.PROCESSED, ProviderEvent.Status.IGNORED)
# Not processed yet: each is queued again (the sweeper, a processor's redelivery), and its
# payload is all processing reads.
PENDING_EVENTS = (ProviderEvent.Status.RECEIVED, ProviderEvent.Status.FAILED)
# What an event whose payload the erasure had to clear says, in place of its error.
PAYLOAD_ERASED = (
    "Not processed: its payload went with the buyer's erased account. Settle this "
    "notification at the processor (by its event id) and record the payment's outcome by hand."
)


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
    """The payment processing would apply the event to, as it finds it; None when none, or when
    the interpreter cannot read the payload (processing fails on it too)."""
    interpret = processing.INTERPRETERS.get(event.provider)
    if interpret is None or not isinstance(event.payload, dict):
        return None
    try:
        outcome = interpret(event.event_type, event.payload)
    except Exception:  # a payload processing cannot read either: not known to be the player's
        return None
    if outcome.action == "none":
        return None
    payment = processing.find_payment(event, outcome)
    return payment.pk if payment is not None else None


def _keep_what_processing_reads(event: ProviderEvent) -> None:
    needed = needed_payload(
        processing.INTERPRETERS[event.provider], event.event_type, event.payload
    )
    if needed is not None:
        if needed != event.payload:
            event.payload = needed
            event.save(update_fields=["payload"])
        return
    event.payload = {}
    event.status = ProviderEvent.Status.IGNORED
    event.needs_attention = True
    event.outcome = PAYLOAD_ERASED[:200]
    event.save(update_fields=["payload", "status", "needs_attention", "outcome"])


Interpreter = Callable[[str, dict[str, Any]], Outcome]


def needed_payload(interpret: Interpreter, event_type: str, payload: Any) -> dict[str, Any] | None:
    """The part of `payload` the interpreter reads (the keys it looks up, at every depth), if
    it reads the same outcome from that part alone; None when it does not (it read the
    payload in a way not followed here), when it read an object whole (all of it would be
    kept), or when the payload is not an object."""
    if not isinstance(payload, dict):
        return None
    reads = _Reads(payload)
    try:
        outcome = interpret(event_type, reads)
        needed = reads.needed()
        same = interpret(event_type, needed) == outcome
    except Exception:
        return None
    return needed if same else None


class _ReadWhole(Exception):
    """The interpreter read an object whole: all of it would be kept, the buyer's data too."""


class _Reads(dict[str, Any]):
    """A JSON object that notes which of its keys are read (`[]`, `get`, `in`), handing out
    its objects wrapped alike, and whether it is read whole (iterated, counted, copied).
    An object read whole is not cut down: its payload is not kept (needed_payload). A read
    this does not see (C code reading the dict itself) is caught by the second reading, of the
    part kept alone."""

    def __init__(self, value: dict[str, Any]) -> None:
        super().__init__(value)
        self._value = value
        self._read: dict[str, Any] = {}
        self._whole = False

    def _note(self, key: str) -> Any:
        if key not in self._read:
            value = self._value[key]
            self._read[key] = _Reads(value) if isinstance(value, dict) else value
        return self._read[key]

    def __getitem__(self, key: str) -> Any:
        return self._note(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self._note(key) if key in self._value else default

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str) and key in self._value:
            self._note(key)
            return True
        return False

    def __bool__(self) -> bool:
        # `payload.get("decoded") or {}`: only whether it is empty, which the keys read next
        # keep (and the second reading checks).
        return bool(self._value)

    def _as_whole(self) -> dict[str, Any]:
        self._whole = True
        return self._value

    def __iter__(self) -> Iterator[str]:
        return iter(self._as_whole())

    def __len__(self) -> int:
        return len(self._as_whole())

    def keys(self) -> Any:
        return self._as_whole().keys()

    def values(self) -> Any:
        return self._as_whole().values()

    def items(self) -> Any:
        return self._as_whole().items()

    def copy(self) -> dict[str, Any]:
        return dict(self._as_whole())

    def needed(self) -> dict[str, Any]:
        if self._whole:
            raise _ReadWhole
        return {
            key: value.needed() if isinstance(value, _Reads) else value
            for key, value in self._read.items()
        }
