"""Reads of balances, holdings and the ledger (API, admin, audit)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from apps.accounts.models import Game, Player
from apps.inventory.models import Currency, ItemDefinition, LedgerEntry, PlayerItem, Wallet
from gamingpanel.sql import CompiledQuery

# One compiled query (gamingpanel.sql), however many currencies and items: the items the player
# holds and every currency of the game (0 when the player has no wallet yet), as one UNION ALL.
INVENTORY = CompiledQuery.compile(
    """
    SELECT 'item', item.sku, held.quantity, item.name, item.kind, item.properties
      FROM {held} held
      JOIN {item} item ON item.id = held.item_id
     WHERE held.player_id = %s AND held.quantity > 0
     UNION ALL
    SELECT 'currency', currency.code, COALESCE(own.balance, 0), '', '', NULL
      FROM {currency} currency
      LEFT JOIN {wallet} own ON own.currency_id = currency.id AND own.player_id = %s
     WHERE currency.game_id = %s
    """,
    held=PlayerItem,
    item=ItemDefinition,
    currency=Currency,
    wallet=Wallet,
)


def get_inventory(*, player: Player) -> dict[str, object]:
    """One query: the player's currencies by code and held items by SKU, in the order of the
    body the player API answers."""
    # Sorted here, not by the database's collation, so both backends list them alike.
    rows = sorted(
        INVENTORY.rows([player.pk, player.pk, player.game_id]), key=lambda row: (row[0], row[1])
    )
    return {
        "currencies": {code: amount for kind, code, amount, *_ in rows if kind == "currency"},
        "items": [
            # properties is a JSONField without a decoder: both backends hand back its text.
            {
                "sku": sku,
                "name": name,
                "kind": item_kind,
                "quantity": amount,
                "properties": json.loads(props),
            }
            for kind, sku, amount, name, item_kind, props in rows
            if kind == "item"
        ],
    }


def balances(*, player: Player, codes: list[str] | None = None) -> dict[str, int]:
    wallets = Wallet.objects.filter(player_id=player.pk)
    if codes is not None:
        wallets = wallets.filter(currency__code__in=codes)
    return dict(wallets.values_list("currency__code", "balance"))


OPERATOR_REASONS = ("operator_grant", "operator_revoke")


def ledger_for_reference(*, player_id: int, reference: str) -> QuerySet[LedgerEntry]:
    """The player's entries a change (a purchase, a refund of it) wrote under its reference.
    An operator's grant keeps the operator's note in `reference`: free text that may look like
    any reference, so it is never one of them (nor is another player's entry, of any game)."""
    return (
        LedgerEntry.objects.filter(player_id=player_id, reference=reference)
        .exclude(reason__in=OPERATOR_REASONS)
        .select_related("currency", "item")
        .order_by("id")
    )


@dataclass(frozen=True)
class Discrepancy:
    player_id: int
    kind: str  # "currency" | "item"
    code: str
    stored: int
    from_ledger: int
    last_balance_after: int | None


def ledger_discrepancies(*, game_id: int | None = None) -> tuple[int, list[Discrepancy]]:
    """Recompute every balance and item count from the ledger; return how many were checked
    and those that disagree (with their sum, or with their last entry's balance_after).

    Two reads per kind: the stored rows against their entries, and the ledger's groups (player,
    currency or item) that have no stored row at all (a wallet or holding deleted, or never
    made), reported as stored=0 when their sum or last balance_after is not 0: one grouped
    query over the entries, anti-joined to the rows. Such groups count among those checked."""
    checked, found = 0, []
    for model, kind, fk, amount, code_path in (
        (Wallet, "currency", "currency", "balance", "currency__code"),
        (PlayerItem, "item", "item", "quantity", "item__sku"),
    ):
        entries = LedgerEntry.objects.filter(player_id=OuterRef("player_id"), **{fk: OuterRef(fk)})
        total = entries.order_by().values(fk).annotate(total=Sum("delta")).values("total")
        last = entries.order_by("-id").values("balance_after")[:1]
        rows = model.objects.annotate(
            from_ledger=Coalesce(Subquery(total), Value(0)), last_after=Subquery(last)
        )
        if game_id is not None:
            rows = rows.filter(player__game_id=game_id)
        checked += rows.count()
        bad = rows.filter(
            ~Q(**{amount: F("from_ledger")})
            | (Q(last_after__isnull=False) & ~Q(**{amount: F("last_after")}))
        ).values_list("player_id", code_path, amount, "from_ledger", "last_after")
        found += [Discrepancy(p, kind, c, s, t, last_after) for p, c, s, t, last_after in bad]
        missing = _ledger_without_row(model, fk, code_path, game_id).values_list(
            "player_id", code_path, "from_ledger", "last_after"
        )
        orphans = [Discrepancy(p, kind, c, 0, t, last_after) for p, c, t, last_after in missing]
        checked += len(orphans)
        found += orphans
    return checked, found


class GroupSubquery(Subquery):
    """A subquery that names only columns its grouped query groups by (the group's last entry):
    evaluated once per group, never added to the GROUP BY (where it would run once per row)."""

    def get_group_by_cols(self) -> list:
        return []


def _ledger_without_row(
    model: type[Wallet] | type[PlayerItem], fk: str, code_path: str, game_id: int | None
) -> QuerySet[LedgerEntry]:
    """The (player, currency or item) groups of ledger entries with no stored row, whose sum
    or last balance_after is not 0: what such a row would have to hold."""
    entries = LedgerEntry.objects.filter(**{f"{fk}__isnull": False})
    if game_id is not None:
        entries = entries.filter(game_id=game_id)
    own = model.objects.filter(player_id=OuterRef("player_id"), **{fk: OuterRef(fk)})
    group = LedgerEntry.objects.filter(player_id=OuterRef("player_id"), **{fk: OuterRef(fk)})
    last = group.order_by("-id").values("balance_after")[:1]
    return (
        entries.filter(~Exists(own))
        .order_by()
        .values("player_id", fk, code_path)
        .annotate(from_ledger=Sum("delta"), last_after=GroupSubquery(last))
        .filter(~Q(from_ledger=0) | ~Q(last_after=0))
        .order_by("player_id", f"{fk}_id")
    )


def starting_grant_amounts(*, currencies: Sequence[Currency]) -> dict[int, int]:
    """What its game's starting grant gives of each currency, by currency id (one query; a
    currency the grant does not name is left out)."""
    grants = dict(
        Game.objects.filter(pk__in={c.game_id for c in currencies}).values_list(
            "pk", "starting_grant"
        )
    )
    amounts = {}
    for currency in currencies:
        grant = grants.get(currency.game_id) or {}
        if currency.code in grant:
            amounts[currency.pk] = grant[currency.code]
    return amounts


def unknown_codes(*, game_id: int, currencies: set[str], skus: set[str]) -> dict[str, set[str]]:
    """Which of these currency codes and item SKUs this game does not define."""
    known_currencies = set(
        Currency.objects.filter(game_id=game_id, code__in=currencies).values_list("code", flat=True)
    )
    known_skus = set(
        ItemDefinition.objects.filter(game_id=game_id, sku__in=skus).values_list("sku", flat=True)
    )
    return {"currencies": currencies - known_currencies, "skus": skus - known_skus}


@dataclass(frozen=True)
class EconomyFlow:
    """Virtual currency created (source) and destroyed (sink) on one UTC day, per ledger reason."""

    day: date
    currency: str
    reason: str
    source: int
    sink: int
    entries: int


def economy_flows(*, game_id: int, start: date, end: date) -> list[EconomyFlow]:
    """The sources and sinks of the game's currencies on each UTC day of start..end, from its
    ledger entries (item entries are not currency): one GROUP BY query."""
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    rows = (
        LedgerEntry.objects.filter(
            game_id=game_id, currency__isnull=False, created_at__gte=since, created_at__lt=until
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day", "currency__code", "reason")
        .annotate(
            source=Sum(Case(When(delta__gt=0, then=F("delta")), default=Value(0))),
            sink=Sum(Case(When(delta__lt=0, then=-F("delta")), default=Value(0))),
            entries=Count("id"),
        )
        .values_list("day", "currency__code", "reason", "source", "sink", "entries")
    )
    return [EconomyFlow(*row) for row in rows]
