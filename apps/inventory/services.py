"""Every change of a balance or an item count goes through `apply_changes`: row locks, limits
checked before the database's own constraints, and one ledger entry per change, all in one
transaction, once per idempotency key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from apps.accounts.models import Player
from apps.audit.services import record_action
from apps.inventory.errors import (
    HoldingLimitReached,
    InsufficientFunds,
    InsufficientItems,
    InvalidContents,
    UnknownCurrency,
    UnknownItem,
)
from apps.inventory.models import Currency, ItemDefinition, LedgerEntry, PlayerItem, Wallet


@dataclass(frozen=True)
class Change:
    kind: Literal["currency", "item"]
    code: str  # currency code or item sku
    delta: int


@dataclass
class ClawBack:
    """What a reversal took back, and what it could not (already spent) for operators."""

    entries: list[LedgerEntry]
    shortfall: list[dict] = field(default_factory=list)
    replayed: bool = False  # the key was used before: these are the entries written then


def changes_from_contents(contents: Iterable[dict], *, multiplier: int = 1) -> list[Change]:
    """Shop offers, rewards and grants describe contents as [{"currency"|"sku", "quantity"}].
    Lines of other kinds (e.g. {"battlepass_premium": 3}) are for their own services."""
    changes = []
    for line in contents:
        if "currency" in line:
            changes.append(Change("currency", line["currency"], int(line["quantity"]) * multiplier))
        elif "sku" in line:
            changes.append(Change("item", line["sku"], int(line["quantity"]) * multiplier))
    return changes


def apply_changes(
    *,
    player: Player,
    changes: Sequence[Change],
    reason: str,
    idempotency_key: str,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
    savepoint: bool = True,
    new_key: bool = False,
) -> list[LedgerEntry]:
    """Apply all changes or none. A key already used returns the entries it wrote then.

    For a hot path while the wallets are locked: inside a caller's transaction that rolls back
    whole on any error, `savepoint=False` saves the SAVEPOINT/RELEASE round trips; a caller whose
    key cannot have been used (derived from a row it inserted in this transaction) passes
    `new_key=True` to skip the replay lookup; the unique key constraint still refuses a reuse."""
    with transaction.atomic(savepoint=savepoint):
        return _apply(
            player=player,
            changes=changes,
            reason=reason,
            idempotency_key=idempotency_key,
            reference=reference,
            actor=actor,
            clamp_debits=False,
            new_key=new_key,
        ).entries


@transaction.atomic
def claw_back(
    *,
    player: Player,
    changes: Sequence[Change],
    reason: str,
    idempotency_key: str,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> ClawBack:
    """Take back (negative deltas) as much as the player still holds, never below zero; the
    rest is returned as `shortfall` lines for an operator to look at."""
    return _apply(
        player=player,
        changes=changes,
        reason=reason,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
        clamp_debits=True,
    )


def change_balance(
    *,
    player: Player,
    currency: str,
    delta: int,
    reason: str,
    idempotency_key: str,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> LedgerEntry | None:
    """Add delta (negative to spend) to one wallet, once per idempotency key."""
    entries = apply_changes(
        player=player,
        changes=[Change("currency", currency, delta)],
        reason=reason,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
    )
    return entries[0] if entries else None


def grant_contents(
    *,
    player: Player,
    contents: Iterable[dict],
    reason: str,
    idempotency_key: str,
    reference: str = "",
    multiplier: int = 1,
    actor: AbstractBaseUser | None = None,
) -> list[LedgerEntry]:
    return apply_changes(
        player=player,
        changes=changes_from_contents(contents, multiplier=multiplier),
        reason=reason,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
    )


@transaction.atomic
def operator_adjust(
    *,
    actor: AbstractBaseUser,
    player: Player,
    change: Change,
    note: str,
    idempotency_key: str,
) -> list[LedgerEntry]:
    """An operator's grant (delta > 0) or revoke (delta < 0), with the operator as the actor on
    the ledger entry and in the audit log, in one transaction."""
    if change.delta == 0:
        raise InvalidContents("A grant or revoke needs a non-zero amount.")
    action = "inventory.grant" if change.delta > 0 else "inventory.revoke"
    result = _apply(
        player=player,
        changes=[change],
        reason="operator_grant" if change.delta > 0 else "operator_revoke",
        idempotency_key=idempotency_key,
        reference=note[:120],
        actor=actor,
        clamp_debits=False,
    )
    if result.replayed:
        return result.entries
    for entry in result.entries:
        record_action(
            actor=actor,
            game=player.game,
            action=action,
            target=player,
            before={change.code: entry.balance_after - entry.delta},
            after={change.code: entry.balance_after},
            reason=note,
        )
    return result.entries


def _apply(
    *,
    player: Player,
    changes: Sequence[Change],
    reason: str,
    idempotency_key: str,
    reference: str,
    actor: AbstractBaseUser | None,
    clamp_debits: bool,
    new_key: bool = False,
) -> ClawBack:
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for change in changes:
        merged[(change.kind, change.code)] += change.delta
    merged = {key: delta for key, delta in merged.items() if delta != 0}
    if not merged:
        return ClawBack(entries=[])

    wallets = _locked_wallets(player, sorted(code for kind, code in merged if kind == "currency"))
    holdings = _locked_holdings(player, sorted(code for kind, code in merged if kind == "item"))

    # Look for the key only after taking the locks: a concurrent retry waits above, then sees ours.
    done = (
        []
        if new_key
        else list(LedgerEntry.objects.filter(player=player, operation_key=idempotency_key))
    )
    if done:
        return ClawBack(entries=done, replayed=True)

    entries, shortfall = [], []
    changed_wallets: list[Wallet] = []
    changed_holdings: list[PlayerItem] = []
    for (kind, code), wanted in sorted(merged.items()):
        row = wallets[code] if kind == "currency" else holdings[code]
        have = row.balance if kind == "currency" else row.quantity
        delta = max(wanted, -have) if clamp_debits else wanted
        if delta != wanted:
            shortfall.append(
                {"currency" if kind == "currency" else "sku": code, "quantity": delta - wanted}
            )
        if delta == 0:
            continue
        new_amount = have + delta
        limit = row.cap if kind == "currency" else row.limit
        if new_amount < 0:
            error = InsufficientFunds if kind == "currency" else InsufficientItems
            raise error(f"Needs {-delta} {code}, has {have}.", needed=-delta, available=have)
        if limit is not None and new_amount > limit:
            raise HoldingLimitReached(f"{code} would reach {new_amount}, above its limit {limit}.")
        if kind == "currency":
            row.balance = new_amount
            changed_wallets.append(row)
        else:
            row.quantity = new_amount
            changed_holdings.append(row)
        entries.append(
            LedgerEntry(
                game_id=player.game_id,
                player=player,
                currency=row.currency if kind == "currency" else None,
                item=row.item if kind == "item" else None,
                delta=delta,
                balance_after=new_amount,
                reason=reason,
                reference=reference,
                idempotency_key=f"{idempotency_key}:{kind}:{code}",
                operation_key=idempotency_key,
                actor=actor,
            )
        )
    # One UPDATE per table, however many rows: the locks are held until commit, so every round
    # trip saved here is throughput on a player whose purchases queue on the same wallets.
    if changed_wallets:
        Wallet.objects.bulk_update(changed_wallets, ["balance"])
    if changed_holdings:
        PlayerItem.objects.bulk_update(changed_holdings, ["quantity"])
    return ClawBack(entries=LedgerEntry.objects.bulk_create(entries), shortfall=shortfall)


def _locked_wallets(player: Player, codes: list[str]) -> dict[str, Wallet]:
    if not codes:
        return {}
    locked = _lock_wallet_rows(player, codes)
    if missing := set(codes) - locked.keys():
        currencies = list(Currency.objects.filter(game_id=player.game_id, code__in=missing))
        if unknown := missing - {c.code for c in currencies}:
            raise UnknownCurrency(f"No currency {', '.join(sorted(unknown))} in this game.")
        Wallet.objects.bulk_create(
            [Wallet(player=player, currency=c, cap=c.cap) for c in currencies],
            ignore_conflicts=True,
        )
        locked = _lock_wallet_rows(player, codes)
    return locked


def _lock_wallet_rows(player: Player, codes: list[str]) -> dict[str, Wallet]:
    # Lock in currency id order so two multi-wallet changes never deadlock; `of` keeps the
    # lock on the wallet rows, not on the (shared) currency rows joined for their codes.
    rows = (
        Wallet.objects.select_for_update(of=("self",))
        .select_related("currency")
        .filter(player=player, currency__game_id=player.game_id, currency__code__in=codes)
        .order_by("currency_id")
    )
    return {w.currency.code: w for w in rows}


def _locked_holdings(player: Player, skus: list[str]) -> dict[str, PlayerItem]:
    if not skus:
        return {}
    locked = _lock_holding_rows(player, skus)
    if missing := set(skus) - locked.keys():
        items = list(ItemDefinition.objects.filter(game_id=player.game_id, sku__in=missing))
        if unknown := missing - {i.sku for i in items}:
            raise UnknownItem(f"No item {', '.join(sorted(unknown))} in this game.")
        PlayerItem.objects.bulk_create(
            [PlayerItem(player=player, item=i, limit=i.holding_limit) for i in items],
            ignore_conflicts=True,
        )
        locked = _lock_holding_rows(player, skus)
    return locked


def _lock_holding_rows(player: Player, skus: list[str]) -> dict[str, PlayerItem]:
    rows = (
        PlayerItem.objects.select_for_update(of=("self",))
        .select_related("item")
        .filter(player=player, item__game_id=player.game_id, item__sku__in=skus)
        .order_by("item_id")
    )
    return {h.item.sku: h for h in rows}
