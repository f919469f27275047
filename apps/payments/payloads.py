"""What of a notification's payload processing reads: kept alone when the rest must go (the
buyer's name, e-mail or address a processor's notification can carry) and the notification is
still to be processed: one pending when its buyer's account is erased (apps.payments.privacy),
or one that came after the erasure and then failed (services/processing.mark_failed). Below
both, so each uses it as it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from apps.payments.models import ProviderEvent
from apps.payments.providers.base import Outcome

# What an event whose payload had to be cleared says, in place of its error.
PAYLOAD_ERASED = (
    "Not processed: its payload went with the buyer's erased account. Settle this "
    "notification at the processor (by its event id) and record the payment's outcome by hand."
)

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


def keep_what_is_read(event: ProviderEvent, interpret: Interpreter, *, save: bool = True) -> None:
    """Cut the event's payload down to what `interpret` reads of it. One that cannot be cut
    down so is cleared and never processed: `ignored`, flagged `needs_attention`, and its
    outcome tells the operator to settle it at the processor. `save`: write the fields changed
    (else the caller saves payload, status, needs_attention and outcome)."""
    needed = needed_payload(interpret, event.event_type, event.payload)
    if needed is not None:
        if needed != event.payload:
            event.payload = needed
            if save:
                event.save(update_fields=["payload"])
        return
    event.payload = {}
    event.status = ProviderEvent.Status.IGNORED
    event.needs_attention = True
    event.outcome = PAYLOAD_ERASED[:200]
    if save:
        event.save(update_fields=["payload", "status", "needs_attention", "outcome"])
