"""Every change of a balance or an item count goes through `apply_changes`: row locks, limits
checked before the database's own constraints, and one ledger entry per change, all in one
transaction, once per idempotency key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from apps.accounts.models import Player
from apps.inventory.errors import (
    HoldingLimitReached,
    InsufficientFunds,
    InsufficientItems,
    UnknownCurrency,
    UnknownItem,
)
from apps.inventory.models import Currency, ItemDefinition, LedgerEntry, PlayerItem, Wallet


@dataclass(frozen=True)
class Change:
    kind: Literal["currency", "item"]
    code: str  # currency code or item sku
    delta: int


def changes_from_contents(contents: Iterable[dict], *, multiplier: int = 1) -> list[Change]:
    """Shop offers, rewards and grants describe contents as [{"currency"|"sku", "quantity"}]."""
    changes = []
    for line in contents:
        if "currency" in line:
            changes.append(Change("currency", line["currency"], int(line["quantity"]) * multiplier))
        elif "sku" in line:
            changes.append(Change("item", line["sku"], int(line["quantity"]) * multiplier))
    return changes


@transaction.atomic
def apply_changes(
    *,
    player: Player,
    changes: Sequence[Change],
    reason: str,
    idempotency_key: str,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> list[LedgerEntry]:
    """Apply all changes or none. A key already used returns the entries it wrote then."""
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for change in changes:
        merged[(change.kind, change.code)] += change.delta
    merged = {key: delta for key, delta in merged.items() if delta != 0}
    if not merged:
        return []

    wallets = _locked_wallets(player, sorted(code for kind, code in merged if kind == "currency"))
    holdings = _locked_holdings(player, sorted(code for kind, code in merged if kind == "item"))

    # Look for the key only after taking the locks: a concurrent retry waits above, then sees ours.
    done = list(
        LedgerEntry.objects.filter(player=player, idempotency_key__startswith=f"{idempotency_key}:")
    )
    if done:
        return done

    entries = []
    for (kind, code), delta in sorted(merged.items()):
        row = wallets[code] if kind == "currency" else holdings[code]
        new_amount = (row.balance if kind == "currency" else row.quantity) + delta
        limit = row.cap if kind == "currency" else row.limit
        if new_amount < 0:
            error = InsufficientFunds if kind == "currency" else InsufficientItems
            have = new_amount - delta
            raise error(f"Needs {-delta} {code}, has {have}.", needed=-delta, available=have)
        if limit is not None and new_amount > limit:
            raise HoldingLimitReached(f"{code} would reach {new_amount}, above its limit {limit}.")
        if kind == "currency":
            row.balance = new_amount
            row.save(update_fields=["balance"])
        else:
            row.quantity = new_amount
            row.save(update_fields=["quantity"])
        entries.append(
            LedgerEntry(
                game_id=player.game_id,
                player=player,
                currency_id=row.currency_id if kind == "currency" else None,
                item_id=row.item_id if kind == "item" else None,
                delta=delta,
                balance_after=new_amount,
                reason=reason,
                reference=reference,
                idempotency_key=f"{idempotency_key}:{kind}:{code}",
                actor=actor,
            )
        )
    return LedgerEntry.objects.bulk_create(entries)


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


def _locked_wallets(player: Player, codes: list[str]) -> dict[str, Wallet]:
    if not codes:
        return {}
    currencies = {
        c.code: c for c in Currency.objects.filter(game_id=player.game_id, code__in=codes)
    }
    if missing := set(codes) - currencies.keys():
        raise UnknownCurrency(f"No currency {', '.join(sorted(missing))} in this game.")
    Wallet.objects.bulk_create(
        [Wallet(player=player, currency=c, cap=c.cap) for c in currencies.values()],
        ignore_conflicts=True,
    )
    # Lock in currency id order so two multi-wallet changes never deadlock.
    locked = (
        Wallet.objects.select_for_update()
        .filter(player=player, currency__in=currencies.values())
        .order_by("currency_id")
    )
    by_id = {c.pk: code for code, c in currencies.items()}
    return {by_id[w.currency_id]: w for w in locked}


def _locked_holdings(player: Player, skus: list[str]) -> dict[str, PlayerItem]:
    if not skus:
        return {}
    items = {i.sku: i for i in ItemDefinition.objects.filter(game_id=player.game_id, sku__in=skus)}
    if missing := set(skus) - items.keys():
        raise UnknownItem(f"No item {', '.join(sorted(missing))} in this game.")
    PlayerItem.objects.bulk_create(
        [PlayerItem(player=player, item=i, limit=i.holding_limit) for i in items.values()],
        ignore_conflicts=True,
    )
    locked = (
        PlayerItem.objects.select_for_update()
        .filter(player=player, item__in=items.values())
        .order_by("item_id")
    )
    by_id = {i.pk: sku for sku, i in items.items()}
    return {by_id[h.item_id]: h for h in locked}
