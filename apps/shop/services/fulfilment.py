"""Granting what a purchase bought, and taking it back on a refund: always through the ledger,
once per purchase, with the analytics fact in the same transaction."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.selectors import refuse_erased
from apps.analytics.services import record_server_event, server_event_statement
from apps.battlepass.services import grant_premium, lock_premium_passes
from apps.inventory.lines import PREMIUM, grant_line
from apps.inventory.selectors import ledger_for_reference
from apps.inventory.services import Change, apply_changes, changes_from_contents, claw_back
from apps.payments.providers.base import PaidAmount
from apps.shop.models import Offer, Purchase
from apps.shop.selectors import ENDED, ended_outcome
from apps.shop.services.limits import release
from apps.shop.services.rules import contents_unavailable, grantable
from gamingpanel.errors import DomainError
from gamingpanel.sql import CompiledInstances, Statement, row_lock

logger = logging.getLogger(__name__)


def granted_lines(offer: Offer, quantity: int) -> list[dict]:
    """What `quantity` units of the offer grant. A purchase builds its row from these before the
    offer rules are asked (a store receipt, never), so a line the shop cannot grant (not an
    object, of another kind, or a currency or item line without a whole quantity: a row saved
    without the admin's validation), or no line at all, is refused here as the rules refuse it:
    `contents_unavailable`, before anything is written."""
    lines = []
    contents = offer.contents
    for line in contents if isinstance(contents, list) and contents else [None]:
        if not grantable(line):
            raise contents_unavailable()
        if "battlepass_premium" in line:
            lines.append(grant_line(line))  # premium_pass, quantity 1, and the v1 key
        else:
            lines.append({**line, "quantity": line["quantity"] * quantity})
    return lines


@dataclass(frozen=True)
class Grant:
    balances: dict[str, int]  # of the currencies touched
    premium_held: tuple[int, ...] = ()  # seasons whose premium pass the player already had


def grant_offer(
    *,
    purchase: Purchase,
    player: Player,
    debit: Change | None = None,
    new_purchase: bool = False,
    along: Sequence[Statement] = (),
) -> Grant:
    """Inside the caller's transaction: the optional price debit and what the purchase bought
    (`purchase.bought`, fixed when it was made) in one ledger operation (`along` sent with its
    lock: apply_changes), then any battle-pass premium. The season passes are locked before the
    wallets, as every path that moves both locks them (an event claim, a purchase's reserve).
    An erased player is granted nothing (a payment reported after the erasure: flagged)."""
    refuse_erased(player)
    premium = sorted({int(line[PREMIUM]) for line in purchase.bought if PREMIUM in line})
    if premium:
        lock_premium_passes(player=player, season_ids=set(premium))
    changes = changes_from_contents(purchase.bought)
    entries = apply_changes(
        player=player,
        changes=[debit, *changes] if debit else changes,
        reason="purchase",
        idempotency_key=purchase.ledger_reference,
        reference=purchase.ledger_reference,
        savepoint=False,  # any error rolls the whole purchase back; callers wanting to
        # survive one (fulfil_purchase) open their own savepoint around this call
        new_key=new_purchase,  # the purchase row was inserted in this very transaction
        along=along,
    )
    held = tuple(season for season in premium if not _grant_premium(player, season, purchase))
    balances = {
        entry.currency.code: entry.balance_after for entry in entries if entry.currency is not None
    }
    return Grant(balances=balances, premium_held=held)


def purchase_balances(*, purchase: Purchase) -> dict[str, int]:
    """The balances a purchase left, from its own ledger entries (for a replayed answer)."""
    entries = ledger_for_reference(
        player_id=purchase.player_id, reference=purchase.ledger_reference
    ).filter(reason="purchase", currency__isnull=False)
    return {
        entry.currency.code: entry.balance_after
        for entry in entries
        if entry.currency is not None  # the filter says so
    }


def mark_completed(*, purchase: Purchase, offer: Offer, player: Player) -> None:
    purchase.status = Purchase.Status.COMPLETED
    purchase.completed_at = timezone.now()
    purchase.granted = purchase.bought
    record_completion(purchase=purchase, offer=offer, player=player)


def record_completion(*, purchase: Purchase, offer: Offer, player: Player) -> None:
    """The analytics fact, in the purchase's transaction (it commits or rolls back with it)."""
    record_server_event(**_completion_fact(purchase, offer, player))


def completion_statement(*, purchase: Purchase, offer: Offer, player: Player) -> Statement:
    """record_completion's insert, for the grant to send with its wallet lock (one round trip on
    PostgreSQL); in the purchase's transaction like it."""
    return server_event_statement(**_completion_fact(purchase, offer, player))


def _completion_fact(purchase: Purchase, offer: Offer, player: Player) -> dict[str, Any]:
    return {
        "game_id": player.game_id,
        "player_id": player.pk,
        "name": "purchase_completed",
        "properties": {
            "offer_id": offer.pk,
            "purchase_id": purchase.pk,
            "currency": purchase.price_currency,
            "amount": purchase.price_amount,
            "real_money": purchase.real_money,
        },
    }


# The purchase locked, with its offer and its player, the player's row FOR SHARE until the
# fulfilment commits (one statement, as the ORM's select_for_update read them before): the
# grant's writes take only KEY SHARE on the player, which an erasure's NO KEY UPDATE does not
# hold up, so a receipt checked before the erasure committed granted under the tombstone. Now
# an erasure either waits for the fulfilment, or has committed and grant_offer sees it (the
# purchase is flagged, paid but not granted). Lock order: the erasure locks the player, then
# clears its purchases' and payments' checkout links; a payment's notification takes the
# player's share lock before the payment and the purchase (payments.services.processing), and
# a store receipt fulfils the purchase it has just made, which no erasure sees.
LOCK_PURCHASE = CompiledInstances.compile_joined(
    "SELECT {columns} FROM {purchase}"  # noqa: S608 - table and column names only
    " JOIN {offer} ON {offer}.id = {purchase}.offer_id"
    " JOIN {player} ON {player}.id = {purchase}.player_id"
    " WHERE {purchase}.id = %s" + row_lock("FOR UPDATE OF {purchase} FOR SHARE OF {player}"),
    (Purchase, Offer, Player),
    extra=0,
    tables={"purchase": Purchase, "offer": Offer, "player": Player},
)


def _locked_purchase(purchase_id: int) -> Purchase:
    found = LOCK_PURCHASE.rows([purchase_id])
    if not found:
        raise Purchase.DoesNotExist(f"No purchase {purchase_id}.")
    purchase, offer, player = found[0]
    purchase.offer, purchase.player = offer, player
    return purchase


@transaction.atomic
def fulfil_purchase(
    *, purchase_id: int, paid: PaidAmount | None = None
) -> tuple[Purchase, dict[str, int]]:
    """Grant a paid purchase once, however often the payment is reported. Every processor's
    and store's fulfilment passes here, so this is where what was charged (`paid`; None when
    the provider does not report it) is reconciled with the price: a mismatch is not granted.
    A grant the player cannot hold (e.g. a durable item already owned) keeps the payment and
    flags the purchase."""
    purchase = _locked_purchase(purchase_id)
    if purchase.status in (Purchase.Status.COMPLETED, Purchase.Status.REFUNDED):
        return purchase, {}
    if purchase.status != Purchase.Status.PENDING:
        # Paid after the checkout was closed (it expired, or failed): its stock and limit slot
        # went back, so an operator decides (grant or refund) rather than a grant nothing was
        # reserved for. The money is kept on the payment, and said aloud: someone paid.
        alert = f"Paid after the purchase was {purchase.status}; not granted."
        # The note the closing left says how it ended, which its outcome keeps (an old row's
        # outcome is read from that note first): replaced. A flag or an operator's note since
        # (needs_attention) stays, the alert after it.
        keep_outcome(purchase)
        earlier = purchase.note if purchase.needs_attention else ""
        purchase.needs_attention = True
        purchase.note = appended_note(earlier, alert)
        purchase.save(update_fields=["needs_attention", "note", "outcome"])
        logger.error("ALERT purchase %s: %s Grant or refund it.", purchase.pk, alert)
        return purchase, {}
    if paid is not None and not paid.matches(
        amount=purchase.price_amount, currency=purchase.price_currency
    ):
        price = f"{purchase.price_amount} {purchase.price_currency.upper()}"
        alert = f"Paid {paid} but the price is {price}; not granted."
        purchase.needs_attention = True
        purchase.note = appended_note(purchase.note, alert)
        purchase.save(update_fields=["needs_attention", "note"])
        logger.error("ALERT purchase %s: %s", purchase.pk, alert)
        return purchase, {}
    try:
        with transaction.atomic():
            grant = grant_offer(purchase=purchase, player=purchase.player)
    except DomainError as error:
        purchase.needs_attention = True
        purchase.note = appended_note(purchase.note, f"Paid but not granted: {error.detail}")
        purchase.save(update_fields=["needs_attention", "note"])
        return purchase, {}
    _pause_for_crash_test()
    mark_completed(purchase=purchase, offer=purchase.offer, player=purchase.player)
    if grant.premium_held:
        # Two checkouts of one premium pass, both paid (or a store purchase of a pass the
        # player had meanwhile bought otherwise): the rest is granted, the pass was already
        # there, so an operator refunds or compensates.
        seasons = ", ".join(str(season) for season in grant.premium_held)
        held = f"Paid for the premium pass of season {seasons}, already held."
        # Not granted by this purchase: a refund of it (what the operator does) leaves the pass
        # alone, and its shortfall does not ask for the pass another purchase granted back.
        purchase.granted = [
            line
            for line in purchase.granted
            if PREMIUM not in line or int(line[PREMIUM]) not in grant.premium_held
        ]
        purchase.needs_attention = True
        purchase.note = appended_note(purchase.note, held)
        logger.warning("purchase %s: %s", purchase.pk, held)
    purchase.save(update_fields=["status", "completed_at", "granted", "needs_attention", "note"])
    return purchase, grant.balances


@transaction.atomic
def close_unpaid(*, purchase_id: int, status: str, note: str = "", outcome: str = "") -> Purchase:
    """A checkout that expired or failed: the purchase ends and its reservation is released;
    `outcome` is why (a stable code, `Purchase.outcome`). Once: a purchase no longer pending
    is left as it is."""
    purchase = (
        Purchase.objects.select_for_update(of=("self",)).select_related("offer").get(pk=purchase_id)
    )
    if purchase.status != Purchase.Status.PENDING:
        return purchase
    release(purchase=purchase, offer=purchase.offer)
    purchase.status = status
    purchase.note = appended_note(purchase.note, note)  # a flag or operator's note stays
    purchase.outcome = outcome
    purchase.save(update_fields=["status", "note", "outcome"])
    return purchase


@transaction.atomic
def refund_purchase(*, purchase_id: int, kind: str, note: str = "") -> Purchase:
    """Reverse a purchase (kind: "refund" or "chargeback") through the ledger. Balances never go
    negative: what is still there is clawed back, the rest is recorded on the purchase and
    flagged for operators."""
    purchase = (
        Purchase.objects.select_for_update(of=("self",))
        .select_related("offer", "player")
        .get(pk=purchase_id)
    )
    if purchase.status == Purchase.Status.REFUNDED:
        return purchase
    shortfall: list[dict] = []
    if purchase.status == Purchase.Status.COMPLETED:
        taken = [Change(c.kind, c.code, -c.delta) for c in changes_from_contents(purchase.granted)]
        result = claw_back(
            player=purchase.player,
            changes=taken,
            reason=kind,
            idempotency_key=f"refund:{purchase.pk}",
            reference=purchase.ledger_reference,
        )
        shortfall = result.shortfall + [
            {**line, "note": "premium pass is not revoked automatically"}
            for line in purchase.granted
            if PREMIUM in line
        ]
    elif purchase.status == Purchase.Status.PENDING:
        # Never granted (a checkout, or a store purchase the shop could not grant, which Google
        # refunds): what it took goes back, as it recorded it (`limits.release`). A granted one
        # keeps its limit slot and its stock (`limits.COUNTED`); a failed or expired one gave
        # them back when it closed.
        release(purchase=purchase, offer=purchase.offer)
    # Revenue counted only completed purchases: a refund of one that never completed (paid after
    # it expired or failed, an amount that did not match) returns money that was never counted.
    counted = purchase.status == Purchase.Status.COMPLETED
    purchase.status = Purchase.Status.REFUNDED
    purchase.refunded_at = timezone.now()
    purchase.refund_shortfall = shortfall
    purchase.needs_attention = purchase.needs_attention or bool(shortfall)
    # After what was noted before (why it was flagged, an operator's words), which the refund
    # does not answer: an operator reads both.
    purchase.note = appended_note(purchase.note, note or kind)
    purchase.save(
        update_fields=["status", "refunded_at", "refund_shortfall", "needs_attention", "note"]
    )
    if not counted:
        return purchase
    record_server_event(
        game_id=purchase.game_id,
        player_id=purchase.player_id,
        name="purchase_refunded",
        properties={
            "offer_id": purchase.offer_id,
            "purchase_id": purchase.pk,
            "currency": purchase.price_currency,
            "amount": purchase.price_amount,
            "real_money": purchase.real_money,
            "kind": kind,
            "shortfall": bool(shortfall),
        },
    )
    return purchase


NOTE_LENGTH = Purchase._meta.get_field("note").max_length or 300
OUTCOME_LENGTH = Purchase._meta.get_field("outcome").max_length or 40
NOTE_SEPARATOR = " | "


@transaction.atomic
def flag_purchase(*, purchase_id: int, note: str) -> None:
    """Something an operator must look at (partial refund, dispute closed, reversed refund),
    added after what the purchase noted before (a grant refused, an earlier flag), under the
    purchase's lock so two flags at once both stay. A failed purchase that ended before outcomes
    were recorded keeps its outcome: its note said it (`selectors.ended_outcome`), so it is
    written down as the outcome before the note grows."""
    purchase = Purchase.objects.select_for_update(of=("self",)).filter(pk=purchase_id).first()
    if purchase is None:
        return
    keep_outcome(purchase)
    purchase.needs_attention = True
    purchase.note = appended_note(purchase.note, note)
    purchase.save(update_fields=["needs_attention", "note", "outcome"])


def keep_outcome(purchase: Purchase) -> None:
    """Before a failed purchase's note changes: one that ended before outcomes were recorded
    said its outcome in its note (`selectors.ended_outcome`), so it is written down as the
    outcome first (the caller saves `outcome`)."""
    if purchase.status in ENDED and not purchase.outcome:
        outcome = ended_outcome(purchase) or ""
        purchase.outcome = outcome if len(outcome) <= OUTCOME_LENGTH else ""


def appended_note(earlier: str, note: str) -> str:
    """`note` after `earlier`, within the column: the newest is kept whole (up to the column),
    the earlier one is shortened (ending in "…") to make room. A note the earlier one already
    ends with (the same news again) is not repeated."""
    note = note[:NOTE_LENGTH]
    if not earlier or earlier.endswith(note):
        return earlier or note
    room = NOTE_LENGTH - len(note) - len(NOTE_SEPARATOR)
    if room <= 1:
        return note
    if len(earlier) > room:
        earlier = earlier[: room - 1] + "…"
    return f"{earlier}{NOTE_SEPARATOR}{note}"


def _grant_premium(player: Player, season_id: int, purchase: Purchase) -> bool:
    return grant_premium(
        player=player,
        season_id=int(season_id),
        idempotency_key=f"{purchase.ledger_reference}:premium:{season_id}",
    )


def _pause_for_crash_test() -> None:
    """Tests only: hold the fulfilment transaction open so a test can kill the worker in it."""
    pause = settings.PAYMENTS_TEST_FULFILMENT_PAUSE_SECONDS
    if not (settings.TESTING and pause > 0):
        return
    if marker := settings.PAYMENTS_TEST_FULFILMENT_MARKER:
        Path(marker).write_text(str(os.getpid()))
    time.sleep(pause)
