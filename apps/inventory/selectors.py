"""Reads of balances, holdings and the ledger (API, admin, audit)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate

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


def operator_key_uses(
    *, actor_id: int, operation_key: str, since: datetime
) -> list[tuple[int, str, str, int]]:
    """What the operator already did under a form's key: (player id, "currency" or "item", code,
    delta) per ledger entry written since `since` (the form's showing), through the actor's or
    the time's index. The ledger's own key is per player: this finds the key's use on anyone."""
    entries = LedgerEntry.objects.filter(
        actor_id=actor_id, operation_key=operation_key, created_at__gte=since
    ).values_list("player_id", "currency__code", "item__sku", "delta")
    return [
        (player_id, "currency" if code is not None else "item", code or sku, delta)
        for player_id, code, sku, delta in entries.order_by("id")
    ]


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

    Two reads per kind: how many rows are stored, then (AUDIT_SQL) the ledger grouped once by
    (player, currency or item), joined to the stored rows, and the groups that have no stored
    row at all (a wallet or holding deleted, or never made), reported as stored=0 when their
    sum or last balance_after is not 0. Such groups count among those checked. No subquery runs
    per row: a correlated sum per row rescanned the player's whole ledger for each of its rows."""
    checked, found = 0, []
    quote = connection.ops.quote_name
    for model, kind, fk, definition, code in (
        (Wallet, "currency", "currency_id", Currency, "code"),
        (PlayerItem, "item", "item_id", ItemDefinition, "sku"),
    ):
        rows = model.objects.all()
        if game_id is not None:
            rows = rows.filter(player__game_id=game_id)
        checked += rows.count()
        sql = AUDIT_SQL.format(
            ledger=quote(LedgerEntry._meta.db_table),
            rows=quote(model._meta.db_table),
            definitions=quote(definition._meta.db_table),
            players=quote(Player._meta.db_table),
            fk=quote(fk),
            code=quote(code),
            amount=quote("balance" if kind == "currency" else "quantity"),
            ledger_game="AND game_id = %s" if game_id is not None else "",
            player_game="AND p.game_id = %s" if game_id is not None else "",
        )
        params = [] if game_id is None else [game_id, game_id]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for has_row, player_id, code_, stored, total, last_after, _ in cursor.fetchall():
                checked += 0 if has_row else 1
                found.append(
                    Discrepancy(
                        player_id,
                        kind,
                        code_,
                        int(stored),
                        int(total),
                        None if last_after is None else int(last_after),
                    )
                )
    return checked, found


# One kind's audit: the ledger grouped once (sum, newest entry) by player and currency or item,
# then the stored rows that disagree with their group (a row without entries must hold 0), and
# the groups without a stored row that do not net to 0 (their last balance_after too). The CTE
# is read twice and so computed once (PostgreSQL materializes it); the anti-join is a join, not
# a subquery per group.
AUDIT_SQL = """
WITH sums AS (
    SELECT player_id, {fk} AS ref_id, SUM(delta) AS total, MAX(id) AS last_id
      FROM {ledger}
     WHERE {fk} IS NOT NULL {ledger_game}
     GROUP BY player_id, {fk}
)
SELECT 1, r.player_id, d.{code}, r.{amount}, COALESCE(s.total, 0), e.balance_after, r.{fk}
  FROM {rows} r
  JOIN {players} p ON p.id = r.player_id {player_game}
  JOIN {definitions} d ON d.id = r.{fk}
  LEFT JOIN sums s ON s.player_id = r.player_id AND s.ref_id = r.{fk}
  LEFT JOIN {ledger} e ON e.id = s.last_id
 WHERE r.{amount} <> COALESCE(s.total, 0)
    OR (e.balance_after IS NOT NULL AND r.{amount} <> e.balance_after)
UNION ALL
SELECT 0, s.player_id, d.{code}, 0, s.total, e.balance_after, s.ref_id
  FROM sums s
  JOIN {definitions} d ON d.id = s.ref_id
  JOIN {ledger} e ON e.id = s.last_id
  LEFT JOIN {rows} r ON r.player_id = s.player_id AND r.{fk} = s.ref_id
 WHERE r.id IS NULL AND (s.total <> 0 OR e.balance_after <> 0)
 ORDER BY 2, 7
"""


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
