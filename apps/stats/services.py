"""Writes of stats and XP, in bulk: a match of 64 players costs the same few queries as one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from apps.stats.bulk import upsert
from apps.stats.errors import UnknownStat
from apps.stats.models import PlayerProgress, PlayerStat, StatDefinition
from apps.stats.selectors import level_curve, stat_definitions
from gamingpanel.sql import row_lock

# The stored value and the reported one, combined inside the upsert by the stat's definition, so
# concurrent matches of the same players add up without a read-modify-write race.
# A sum stops at +-MAX_STAT_TOTAL (far inside BIGINT, so adding a report never overflows it):
# a game server reporting huge values forever saturates one player's stat instead of making
# every later match naming that player fail. The stored value is brought within the bound
# before the report is added: a sum kept from before the bound (up to BIGINT's edge) would
# otherwise overflow on the addition itself, and fail every match naming its player for good.
MAX_STAT_TOTAL = 2**62
_LEAST, _GREATEST = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")


def _bounded(sql: str) -> str:
    return f"{_LEAST}({_GREATEST}({sql}, -{MAX_STAT_TOTAL}), {MAX_STAT_TOTAL})"


_SUM = _bounded(_bounded("{t}.value") + " + excluded.value")
# A `latest` stat takes a report that happened no earlier than the stored value's (`value_at`):
# a game server's retry of an older match, arriving after a newer one, leaves the newer value.
_NEWER = "({t}.value_at IS NULL OR excluded.value_at >= {t}.value_at)"
_COMBINE_SQL = """value = CASE (SELECT combine FROM {defs} WHERE id = excluded.definition_id)
    WHEN 'sum' THEN {sum}
    WHEN 'max' THEN CASE WHEN excluded.value > {t}.value THEN excluded.value ELSE {t}.value END
    WHEN 'min' THEN CASE WHEN excluded.value < {t}.value THEN excluded.value ELSE {t}.value END
    ELSE CASE WHEN {newer} THEN excluded.value ELSE {t}.value END END,
    value_at = CASE WHEN {newer} THEN excluded.value_at ELSE {t}.value_at END,
    updated_at = excluded.updated_at""".replace("{sum}", _SUM).replace("{newer}", _NEWER)


@dataclass(frozen=True)
class LevelChange:
    xp: int
    level_before: int
    level_after: int

    @property
    def leveled_up(self) -> bool:
        return self.level_after > self.level_before


def check_stat_keys(*, game_id: int, keys: set[str]) -> dict[str, StatDefinition]:
    """The game's definitions; raises UnknownStat naming every key the game does not define."""
    definitions = stat_definitions(game_id=game_id)
    _refuse_unknown(keys, definitions.keys())
    return definitions


def _refuse_unknown(keys: set[str], defined: Iterable[str]) -> None:
    if unknown := keys - set(defined):
        raise UnknownStat(
            f"This game defines no stat {', '.join(sorted(unknown))}.", stats=sorted(unknown)
        )


# The definitions a report names, read FOR KEY SHARE until the match commits (the read the
# report needs anyway, so no more round trips): the values' foreign keys are checked only at
# commit, so a definition deleted meanwhile (its cascade could not see the uncommitted values)
# made the match fail there, a 500. Now a deletion (StatDefinitionAdmin locks the definition
# FOR UPDATE before it collects the values to delete) waits for the match and then deletes
# its values too; a match that comes after a deletion, or waited on one, finds no definition
# and is refused like any undeclared stat (400 unknown_stat). SQLite serializes writes anyway.
_KEY_SHARE = " ORDER BY id" + row_lock("FOR KEY SHARE")


def _locked_definitions(*, game_id: int, keys: set[str]) -> dict[str, int]:
    """The ids of the game's stats among `keys`, by key (locked in id order, as every match)."""
    wanted = sorted(keys)
    marks = ", ".join(["%s"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, id FROM {StatDefinition._meta.db_table}"  # noqa: S608
            f" WHERE game_id = %s AND key IN ({marks}){_KEY_SHARE}",
            [game_id, *wanted],
        )
        return dict(cursor.fetchall())


def apply_stats(
    *,
    game_id: int,
    stats_by_player: Mapping[int, Mapping[str, int]],
    reported_at: datetime | None = None,
) -> None:
    """Combine reported values into each player's stats: one definitions read and one upsert,
    however many players and stats. `reported_at` is when the values happened (a match's end;
    default now, never later than now): a `latest` stat keeps the newest one's value."""
    keys = {key for stats in stats_by_player.values() for key in stats}
    if not keys:
        return
    definitions = _locked_definitions(game_id=game_id, keys=keys)
    _refuse_unknown(keys, definitions.keys())
    moment = timezone.now()
    # A server's clock ahead of ours must not hold a `latest` value against every later report.
    happened = min(reported_at, moment) if reported_at is not None else moment
    now = connection.ops.adapt_datetimefield_value(moment)
    value_at = connection.ops.adapt_datetimefield_value(happened)
    rows = sorted(
        (player_id, definitions[key], value, now, value_at)
        for player_id, stats in stats_by_player.items()
        for key, value in stats.items()
    )
    defs_table = connection.ops.quote_name(StatDefinition._meta.db_table)
    # savepoint=False: this runs inside a match transaction, all or nothing with it, and a
    # savepoint would cost two more round trips. Refusals are raised above, before it opens.
    with transaction.atomic(savepoint=False):
        upsert(
            model=PlayerStat,
            columns=["player_id", "definition_id", "value", "updated_at", "value_at"],
            rows=rows,
            conflict=["player_id", "definition_id"],
            assignments=_COMBINE_SQL.replace("{defs}", defs_table),
        )


def add_xp(*, game_id: int, xp_by_player: Mapping[int, int]) -> dict[int, LevelChange]:
    """Add XP in one upsert that returns the new totals; levels follow from the game's curve
    (one more read), so they are never stored stale."""
    if any(xp < 0 for xp in xp_by_player.values()):
        raise ValueError("XP only grows.")
    if not xp_by_player:
        return {}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(savepoint=False):  # as in apply_stats
        totals = upsert(
            model=PlayerProgress,
            columns=["player_id", "xp", "updated_at"],
            rows=sorted((player_id, xp, now) for player_id, xp in xp_by_player.items()),
            conflict=["player_id"],
            assignments="xp = {t}.xp + excluded.xp, updated_at = excluded.updated_at",
            returning=["player_id", "xp"],
        )
    curve = level_curve(game_id=game_id)
    return {
        player_id: LevelChange(
            xp=xp,
            level_before=curve.level_for(xp - xp_by_player[player_id]),
            level_after=curve.level_for(xp),
        )
        for player_id, xp in totals
    }
