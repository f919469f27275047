"""Every change of a balance or an item count goes through `apply_changes`: row locks, limits
checked before the database's own constraints, and one ledger entry per change, all in one
transaction, once per idempotency key."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.selectors import refuse_erased
from apps.audit.services import record_action
from apps.inventory.errors import (
    HoldingLimitReached,
    InsufficientFunds,
    InsufficientItems,
    InvalidContents,
    UnknownCurrency,
    UnknownItem,
)
from apps.inventory.models import (
    MAX_AMOUNT,
    Currency,
    ItemDefinition,
    LedgerEntry,
    PlayerItem,
    Wallet,
)
from gamingpanel.sql import CompiledQuery, Statement, run_together


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
    actor: User | None = None,
    savepoint: bool = True,
    new_key: bool = False,
    along: Sequence[Statement] = (),
) -> list[LedgerEntry]:
    """Apply all changes or none. A key already used returns the entries it wrote then.

    For a hot path while the wallets are locked: inside a caller's transaction that rolls back
    whole on any error, `savepoint=False` saves the SAVEPOINT/RELEASE round trips; a caller whose
    key cannot have been used (derived from a row it inserted in this transaction) passes
    `new_key=True` to skip the replay lookup; the unique key constraint still refuses a reuse.
    `along`: writes of the same change that need no answer (its analytics fact), run just before
    the lock and sent with it (gamingpanel.sql.run_together: one round trip on PostgreSQL);
    with nothing to change, `along` is all that runs (no savepoint around it)."""
    if not any(change.delta for change in changes):
        run_together(along)
        return []
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
            along=along,
        ).entries


@transaction.atomic
def claw_back(
    *,
    player: Player,
    changes: Sequence[Change],
    reason: str,
    idempotency_key: str,
    reference: str = "",
    actor: User | None = None,
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
        # A refund or chargeback reported after the erasure is processed as any other: the
        # ledger of the erased player's purchases stays the accountant's record.
        refuse_erased_player=False,
    )


def change_balance(
    *,
    player: Player,
    currency: str,
    delta: int,
    reason: str,
    idempotency_key: str,
    reference: str = "",
    actor: User | None = None,
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
    actor: User | None = None,
    along: Sequence[Statement] = (),
) -> list[LedgerEntry]:
    """apply_changes for a bundle's lines; `along` as there (an empty bundle only runs it)."""
    return apply_changes(
        player=player,
        changes=changes_from_contents(contents, multiplier=multiplier),
        reason=reason,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
        along=along,
    )


@transaction.atomic
def operator_adjust(
    *,
    actor: User,
    player: Player,
    change: Change,
    note: str,
    idempotency_key: str,
) -> ClawBack:
    """An operator's grant (delta > 0) or revoke (delta < 0), with the operator as the actor on
    the ledger entry and in the audit log, in one transaction. A key used before changes
    nothing and answers its entries, `replayed`."""
    if change.delta == 0:
        raise InvalidContents("A grant or revoke needs a non-zero amount.")
    refuse_erased(player)
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
        return result
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
    return result


def _apply(
    *,
    player: Player,
    changes: Sequence[Change],
    reason: str,
    idempotency_key: str,
    reference: str,
    actor: User | None,
    clamp_debits: bool,
    new_key: bool = False,
    along: Sequence[Statement] = (),
    refuse_erased_player: bool = True,
) -> ClawBack:
    """The one guarded ledger write behind every value move: lock, check, write. A player
    erased since `player` was loaded is refused (410 player_erased), unless
    `refuse_erased_player` is False (a claw-back): see LOCK_SQL."""
    merged: dict[tuple[str, str], int] = defaultdict(int)
    # What each holding gives up, before anything the same operation credits to it: a price of
    # 100 gold is covered by the gold held, not by 60 gold the offer gives back.
    debited: dict[tuple[str, str], int] = defaultdict(int)
    for change in changes:
        merged[(change.kind, change.code)] += change.delta
        if change.delta < 0:
            debited[(change.kind, change.code)] -= change.delta
    merged = {key: delta for key, delta in merged.items() if delta != 0 or debited[key]}
    if not merged:
        run_together(along)
        return ClawBack(entries=[])

    held = _locked_rows(player, sorted(merged), along, refuse_erased_player)

    # Look for the key only after taking the locks: a concurrent retry waits above, then sees ours.
    done = (
        []
        if new_key
        else list(LedgerEntry.objects.filter(player=player, operation_key=idempotency_key))
    )
    if done:
        return ClawBack(entries=done, replayed=True)

    entries: list[dict[str, Any]] = []
    shortfall: list[dict] = []
    writes: list[tuple[_Held, int]] = []
    now = timezone.now()
    for kind, code in sorted(merged):
        wanted = merged[(kind, code)]
        row = held[(kind, code)]
        delta = max(wanted, -row.amount) if clamp_debits else wanted
        if delta != wanted:
            shortfall.append(
                {"currency" if kind == "currency" else "sku": code, "quantity": delta - wanted}
            )
        # The balance guard (a clawback takes what is there instead) and, below, the cap guard;
        # the CHECK constraints on the rows have the last word should anything bypass this.
        needed = debited.get((kind, code), 0)
        if not clamp_debits and needed > row.amount:
            error = InsufficientFunds if kind == "currency" else InsufficientItems
            raise error(
                f"Needs {needed} {code}, has {row.amount}.", needed=needed, available=row.amount
            )
        if delta == 0:
            continue
        new_amount = row.amount + delta
        if delta > 0 and new_amount > row.room and row.limit != row.definition_limit:
            # Copy and definition disagree: the lock may have waited for an operator's raise or
            # removal (the definition and every copy, one transaction), locked the new copy and
            # read the definition as it was. Refuse only on the limit as committed (one query,
            # on this refusal path only).
            _follow_current_limit(row)
        if delta > 0 and new_amount > row.room:
            raise HoldingLimitReached(
                f"{code} would reach {new_amount}, above its limit {row.room}."
            )
        writes.append((row, delta))
        entries.append(
            {
                "game_id": player.game_id,
                "player_id": player.pk,
                "currency_id": row.definition.pk if kind == "currency" else None,
                "item_id": row.definition.pk if kind == "item" else None,
                "delta": delta,
                "balance_after": new_amount,
                "reason": reason,
                "reference": reference,
                "idempotency_key": f"{idempotency_key}:{kind}:{code}",
                "operation_key": idempotency_key,
                "actor_id": actor.pk if actor is not None else None,
                "created_at": now,
            }
        )
    if not entries:
        return ClawBack(entries=[], shortfall=shortfall)
    return ClawBack(
        entries=_write(player=player, writes=writes, entries=entries, actor=actor),
        shortfall=shortfall,
    )


@dataclass
class _Held:
    """A locked wallet or holding: its row, amount now, limit, and its currency or item."""

    kind: Literal["currency", "item"]
    row_id: int
    amount: int
    limit: int | None
    definition: Currency | ItemDefinition
    # The currency's cap or the item's holding limit as it is now (`limit` is the row's copy).
    definition_limit: int | None = None

    @property
    def credit_limit(self) -> int | None:
        """The most the row may hold after a credit. Under a cap lowered below what it held (or
        a copy gone stale while the cap changed), the row keeps what it holds but takes nothing
        past the cap again: spent down, it refills to the cap, not to its old balance."""
        cap = self.definition_limit
        if cap is not None and (self.limit is None or self.limit > cap):
            return max(cap, self.amount)
        return self.limit

    @property
    def room(self) -> int:
        """The most a credit may bring the row to: without a cap, the column's range (past it
        the write would fail as a 500)."""
        cap = self.credit_limit
        return MAX_AMOUNT if cap is None else min(cap, MAX_AMOUNT)


def _locked_rows(
    player: Player,
    keys: list[tuple[str, str]],
    along: Sequence[Statement] = (),
    refuse_erased_player: bool = True,
) -> dict[tuple[str, str], _Held]:
    """Lock the player's wallets and holdings for these (kind, code) keys, in one statement
    (sent with `along`), the player's row FOR SHARE first unless `refuse_erased_player` is
    False (LOCK_SQL); a first use creates the missing rows (cap or holding limit copied) and
    locks again."""
    codes = [code for kind, code in keys if kind == "currency"]
    skus = [code for kind, code in keys if kind == "item"]
    held = _lock(player, codes, skus, along, refuse_erased_player)
    if missing := [key for key in keys if key not in held]:
        _create_rows(
            [player],
            codes=[code for kind, code in missing if kind == "currency"],
            skus=[code for kind, code in missing if kind == "item"],
        )
        held = _lock(player, codes, skus, refuse_erased_player=refuse_erased_player)
    _follow_raised_limits(held.values())
    return held


def _follow_raised_limits(rows: Iterable[_Held]) -> None:
    """A locked row whose copy of the cap or holding limit is below the definition's takes the
    definition's. A row made while an operator raised or removed the limit copied the old one
    (its insert read the definition before the change committed, and the change's UPDATE of
    every row did not see it): without this it would stay held below the new limit for good. A
    copy above a lowered limit needs nothing here; credit_limit stops credits at the new one.
    The limit raised to is read again first (rare: only a copy below the definition's): a lock
    that waited for an operator's lowering (the definition and every copy, one transaction)
    locked the copy as lowered but read the definition as it was when its statement began, and
    raising the copy to that old limit let the move credit past the new one."""
    for row in rows:
        if _below_definition(row):
            _follow_current_limit(row)


def _follow_current_limit(row: _Held) -> None:
    """The definition's limit as committed now onto `row`, and its copy raised to it if below."""
    row.definition_limit = _current_limit(row.definition)
    if not _below_definition(row):
        return
    model = Wallet if row.kind == "currency" else PlayerItem
    field = "cap" if row.kind == "currency" else "limit"
    model.objects.filter(pk=row.row_id).update(**{field: row.definition_limit})
    row.limit = row.definition_limit


def _below_definition(row: _Held) -> bool:
    """Whether the row's copy of the limit is below the definition's (None: no limit)."""
    return row.limit is not None and (
        row.definition_limit is None or row.definition_limit > row.limit
    )


def _current_limit(definition: Currency | ItemDefinition) -> int | None:
    """The currency's cap or the item's holding limit as committed now (a statement of its own)."""
    if isinstance(definition, Currency):
        return Currency.objects.values_list("cap", flat=True).get(pk=definition.pk)
    return ItemDefinition.objects.only("kind", "max_stack").get(pk=definition.pk).holding_limit


def prepare_holdings(*, players: Sequence[Player], changes: Sequence[Change]) -> None:
    """Create, in two statements, the wallets and holdings `changes` will need for each of
    `players` (those that exist are left alone), so that a batch of value moves (a segment
    grant) does not create them one player at a time. Nothing moves here: each player's change
    still goes through `apply_changes`."""
    if len({player.game_id for player in players}) > 1:
        raise ValueError("prepare_holdings takes the players of one game.")
    if players:
        _create_rows(
            players,
            codes=sorted({c.code for c in changes if c.kind == "currency"}),
            skus=sorted({c.code for c in changes if c.kind == "item"}),
        )


@transaction.atomic
def follow_currency_cap(*, currency: Currency) -> int:
    """Every wallet of the currency takes the currency's cap as it is now (a wallet copies it
    when made, so the database can refuse an overfull one). A raised cap lets every player
    hold more at once; a lowered one stops every wallet at it, but a wallet already holding
    more keeps what it holds, its cap set at that (a CHECK keeps balance <= cap): it can spend,
    and receives nothing past what it held. Answers how many wallets changed."""
    wallets = Wallet.objects.filter(currency=currency)
    _lock_in_player_order(Wallet, "currency_id", currency.pk)
    if currency.cap is None:
        return wallets.exclude(cap=None).update(cap=None)
    return wallets.update(cap=Greatest(Value(currency.cap), F("balance")))


@transaction.atomic
def follow_item_limit(*, item: ItemDefinition) -> int:
    """As follow_currency_cap, for the holdings of an item whose holding limit changed (its
    stack size, or its kind: a durable item is held once)."""
    holdings = PlayerItem.objects.filter(item=item)
    _lock_in_player_order(PlayerItem, "item_id", item.pk)
    limit = item.holding_limit
    if limit is None:
        return holdings.exclude(limit=None).update(limit=None)
    return holdings.update(limit=Greatest(Value(limit), F("quantity")))


def _lock_in_player_order(
    model: type[Wallet] | type[PlayerItem], column: str, definition_id: int
) -> None:
    """Lock the rows of one currency or item in player order before one UPDATE changes them
    all: a move of several players' rows (a segment grant's chunk) takes them in player order,
    while the UPDATE alone took them in the table's, and the two deadlocked. One statement,
    nothing sent back; SQLite has no row locks (it serialises writers whole)."""
    if connection.vendor != "postgresql":
        return
    table, quote = model._meta.db_table, connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {quote(table)} WHERE {quote(column)} = %s"  # noqa: S608 - names only
            " ORDER BY player_id FOR NO KEY UPDATE) AS locked",
            [definition_id],
        )


def _create_rows(players: Sequence[Player], *, codes: list[str], skus: list[str]) -> None:
    """The missing rows get the currency's cap or the item's holding limit as they are now."""
    game_id = players[0].game_id
    if codes and (unknown := set(codes) - _create_wallets(players, game_id, codes)):
        raise UnknownCurrency(f"No currency {', '.join(sorted(unknown))} in this game.")
    if skus:
        items = list(ItemDefinition.objects.filter(game_id=game_id, sku__in=skus))
        if unknown := set(skus) - {i.sku for i in items}:
            raise UnknownItem(f"No item {', '.join(sorted(unknown))} in this game.")
        PlayerItem.objects.bulk_create(
            [PlayerItem(player=p, item=i, limit=i.holding_limit) for p in players for i in items],
            ignore_conflicts=True,
        )


def _create_wallets(players: Sequence[Player], game_id: int, codes: list[str]) -> set[str]:
    """The players' missing wallets of these currencies, each with its currency's cap as it is
    now, and only when the game knows every code; answers the codes it knows. One compiled
    statement on PostgreSQL (a first grant to a new player runs it on every first login)."""
    if connection.vendor != "postgresql":
        currencies = list(Currency.objects.filter(game_id=game_id, code__in=codes))
        if len(currencies) == len(set(codes)):
            Wallet.objects.bulk_create(
                [Wallet(player=p, currency=c, cap=c.cap) for p in players for c in currencies],
                ignore_conflicts=True,
            )
        return {c.code for c in currencies}
    rows = _create_wallets_query(len(codes)).rows(
        [game_id, *codes, [player.pk for player in players], len(set(codes))]
    )
    return {code for (code,) in rows}


@functools.cache
def _create_wallets_query(codes: int) -> CompiledQuery:
    sql = CREATE_WALLETS_SQL.format(codes=", ".join(["%s"] * codes))
    return CompiledQuery(sql, label="create_wallets").registered()


# Inserted in player and currency order, as every value move locks them: two creations never
# wait on each other's rows in opposite orders.
CREATE_WALLETS_SQL = """
WITH known AS (
    SELECT id, code, cap FROM inventory_currency WHERE game_id = %s AND code IN ({codes})
), made AS (
    INSERT INTO inventory_wallet (player_id, currency_id, balance, cap)
    SELECT player.id, known.id, 0, known.cap
      FROM unnest(%s::bigint[]) AS player(id) CROSS JOIN known
     WHERE (SELECT count(*) FROM known) = %s
     ORDER BY player.id, known.id
    ON CONFLICT DO NOTHING
)
SELECT code FROM known
"""

# The player's row FOR SHARE, then wallets, then holdings, each in id order, in every value
# move: two moves that need the same rows queue for them in the same order, so they never
# deadlock. Each locking SELECT is a materialized CTE and the UNION ALL reads one after the
# other, so the order is the statement's, not the planner's. `FOR UPDATE OF` locks the player's
# rows, not the shared currency and item rows joined for their codes.
# The player's row, read FOR SHARE until the move commits (in this statement: no more round
# trips): a move's own writes take only KEY SHARE on the player, which an erasure's NO KEY
# UPDATE (apps.accounts.services.privacy) does not hold up, so a purchase or an operator's
# adjustment whose player was read before the erasure committed wrote under the tombstone. Now
# an erasure either waits for the move, or has committed and the move reads its erased_at (a
# row of kind 'player', only then) and is refused. The share lock comes first, as every move
# that takes it earlier takes it (a claim, a fulfilment, a segment's chunk, a payout), and as
# the erasure locks the player before anything else of theirs; an erasure never waits for a
# wallet, a limit counter, an offer's stock or a season pass a purchase may hold while it waits
# here. A claw-back (a refund) reads the row without the lock and is not refused.
LOCK_SQL = """
WITH player AS MATERIALIZED (
    SELECT p.id, p.erased_at FROM {player} p WHERE p.id = %s {lock_player}
), wallets AS MATERIALIZED (
    SELECT 'currency' AS kind, w.id, w.balance AS amount, w.cap AS cap, c.id AS definition_id,
           c.code AS code, c.cap AS definition_limit
      FROM inventory_wallet w JOIN inventory_currency c ON c.id = w.currency_id
     WHERE w.player_id = %s AND c.game_id = %s AND c.code IN ({codes})
     ORDER BY w.currency_id {lock_wallets}
), holdings AS MATERIALIZED (
    SELECT 'item' AS kind, h.id, h.quantity AS amount, h.{limit} AS cap, i.id AS definition_id,
           i.sku AS code,
           CASE WHEN i.kind = 'durable' THEN 1 ELSE i.max_stack END AS definition_limit
      FROM inventory_playeritem h JOIN inventory_itemdefinition i ON i.id = h.item_id
     WHERE h.player_id = %s AND i.game_id = %s AND i.sku IN ({skus})
     ORDER BY h.item_id {lock_holdings}
)
SELECT 'player', id, NULL, NULL, NULL, NULL, NULL FROM player WHERE erased_at IS NOT NULL
UNION ALL SELECT * FROM wallets UNION ALL SELECT * FROM holdings
"""
# The balances and counts change by their deltas in one UPDATE per table (rows locked above).
UPDATE_SQL = (
    "UPDATE {table} SET {column} = {table}.{column} + v.column2 "
    "FROM (VALUES {values}) AS v WHERE {table}.id = v.column1"
)
INSERT_LEDGER_SQL = (
    "INSERT INTO inventory_ledgerentry (game_id, player_id, currency_id, item_id, delta, "
    "balance_after, reason, reference, idempotency_key, operation_key, actor_id, created_at) "
    "VALUES {values} RETURNING id"
)
LEDGER_COLUMNS = (
    "game_id",
    "player_id",
    "currency_id",
    "item_id",
    "delta",
    "balance_after",
    "reason",
    "reference",
    "idempotency_key",
    "operation_key",
    "actor_id",
    "created_at",
)


def _lock(
    player: Player,
    codes: list[str],
    skus: list[str],
    along: Sequence[Statement] = (),
    refuse_erased_player: bool = True,
) -> dict[tuple[str, str], _Held]:
    # The player's row, then the wallets' and the holdings' (player, game, codes).
    params: list[int | str] = [player.pk, player.pk, player.game_id, *codes]
    params += [player.pk, player.game_id, *skus]
    query = _lock_query(len(codes), len(skus), share_player=refuse_erased_player)
    rows = run_together([*along, (query, params)])[-1]
    held = {}
    for kind, row_id, amount, limit, definition_id, code, definition_limit in rows:
        if kind == "player":  # erased: the first row, when there is one
            if refuse_erased_player:
                raise PlayerErased(f"Player {player.pk}'s account was erased.", player_id=player.pk)
            continue
        definition: Currency | ItemDefinition
        # Loaded with the fields read here; any other field is deferred (loaded if asked for).
        if kind == "currency":
            definition = Currency.from_db(
                connection.alias, ["id", "game_id", "code"], [definition_id, player.game_id, code]
            )
        else:
            definition = ItemDefinition.from_db(
                connection.alias, ["id", "game_id", "sku"], [definition_id, player.game_id, code]
            )
        held[(kind, code)] = _Held(kind, row_id, amount, limit, definition, definition_limit)
    return held


@functools.cache
def _lock_query(codes: int, skus: int, *, share_player: bool = True) -> CompiledQuery:
    """LOCK_SQL for this many currency codes and item SKUs (the codes are parameters: one
    prepared statement per count of each, so a session prepares only the few shapes its value
    moves take), with the player's row FOR SHARE or, for a claw-back, only read. Planning these
    CTEs on every call was most of PostgreSQL's time for a move."""
    # SQLite has no row locks: it serialises writers on the whole database instead.
    locks = connection.features.has_select_for_update_of
    sql = LOCK_SQL.format(
        player=connection.ops.quote_name(Player._meta.db_table),
        lock_player="FOR SHARE OF p" if locks and share_player else "",
        codes=", ".join(["%s"] * codes) or "NULL",
        skus=", ".join(["%s"] * skus) or "NULL",
        limit=connection.ops.quote_name("limit"),
        lock_wallets="FOR UPDATE OF w" if locks else "",
        lock_holdings="FOR UPDATE OF h" if locks else "",
    )
    return CompiledQuery(sql, label="lock_holdings").registered()


@functools.cache
def _write_statements(wallets: int, holdings: int, entries: int) -> tuple[list[str], str]:
    """The UPDATEs (of the wallets, then of the holdings, each only when it has deltas) and the
    ledger INSERT for this many of each."""
    updates = []
    for count, table, column in (
        (wallets, "inventory_wallet", "balance"),
        (holdings, "inventory_playeritem", "quantity"),
    ):
        if count:
            values = ", ".join(["(CAST(%s AS bigint), CAST(%s AS bigint))"] * count)
            updates.append(UPDATE_SQL.format(table=table, column=column, values=values))
    row_values = "(" + ", ".join(["%s"] * len(LEDGER_COLUMNS)) + ")"
    return updates, INSERT_LEDGER_SQL.format(values=", ".join([row_values] * entries))


@functools.cache
def _write_query(wallets: int, holdings: int, entries: int) -> CompiledQuery:
    """`_write_statements` as one statement on PostgreSQL (the UPDATEs are CTEs of the ledger
    INSERT), prepared per shape like the lock."""
    updates, insert = _write_statements(wallets, holdings, entries)
    ctes = ", ".join(f"change_{n} AS ({sql})" for n, sql in enumerate(updates))
    return CompiledQuery(
        f"WITH {ctes} {insert}" if ctes else insert, label="ledger_write"
    ).registered()


def _write(
    *,
    player: Player,
    writes: list[tuple[_Held, int]],
    entries: list[dict[str, Any]],
    actor: User | None,
) -> list[LedgerEntry]:
    """The deltas and their ledger entries. On PostgreSQL in one prepared statement (the UPDATEs
    are CTEs of the ledger INSERT), so the locks are held for this round trip and the COMMIT
    only; SQLite runs the same statements one by one."""
    deltas = {
        kind: [value for row, delta in writes if row.kind == kind for value in (row.row_id, delta)]
        for kind in ("currency", "item")
    }
    adapt = connection.ops.adapt_datetimefield_value
    insert_params = [
        adapt(entry[column]) if column == "created_at" else entry[column]
        for entry in entries
        for column in LEDGER_COLUMNS
    ]
    shape = (len(deltas["currency"]) // 2, len(deltas["item"]) // 2, len(entries))
    if connection.vendor == "postgresql":
        write = _write_query(*shape)
        ids = [row[0] for row in write.rows([*deltas["currency"], *deltas["item"], *insert_params])]
    else:
        updates, insert = _write_statements(*shape)
        with connection.cursor() as cursor:
            for sql, params in zip(updates, [p for p in deltas.values() if p], strict=True):
                cursor.execute(sql, params)
            cursor.execute(insert, insert_params)
            ids = [row[0] for row in cursor.fetchall()]
    currencies = {
        r.definition.pk: r.definition for r, _ in writes if isinstance(r.definition, Currency)
    }
    items = {
        r.definition.pk: r.definition for r, _ in writes if isinstance(r.definition, ItemDefinition)
    }
    written = []
    for entry, pk in zip(entries, ids, strict=True):
        ledger_entry = LedgerEntry.from_db(
            connection.alias, ["id", *LEDGER_COLUMNS], [pk, *(entry[c] for c in LEDGER_COLUMNS)]
        )
        if entry["currency_id"] is not None:
            ledger_entry.currency = currencies[entry["currency_id"]]
        else:
            ledger_entry.item = items[entry["item_id"]]
        ledger_entry.player = player
        ledger_entry.actor = actor
        written.append(ledger_entry)
    return written
