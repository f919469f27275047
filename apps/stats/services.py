"""Writes of stats and XP, in bulk: a match of 64 players costs the same few queries as one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from apps.stats.errors import UnknownStat
from apps.stats.models import PlayerProgress, PlayerStat, StatDefinition
from apps.stats.selectors import level_curve, stat_definitions

# The stored value and the reported one, combined inside the upsert itself, so concurrent
# matches of the same players add up without a read-modify-write race.
_COMBINE_SQL = {
    StatDefinition.Combine.SUM: "{t}.value + excluded.value",
    StatDefinition.Combine.MAX: (
        "CASE WHEN excluded.value > {t}.value THEN excluded.value ELSE {t}.value END"
    ),
    StatDefinition.Combine.MIN: (
        "CASE WHEN excluded.value < {t}.value THEN excluded.value ELSE {t}.value END"
    ),
    StatDefinition.Combine.LATEST: "excluded.value",
}
_ROWS_PER_STATEMENT = 1000


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
    if unknown := keys - definitions.keys():
        raise UnknownStat(
            f"This game defines no stat {', '.join(sorted(unknown))}.", stats=sorted(unknown)
        )
    return definitions


@transaction.atomic
def apply_stats(*, game_id: int, stats_by_player: Mapping[int, Mapping[str, int]]) -> None:
    """Combine reported values into each player's stats: one definitions read plus one upsert per
    kind of combine (at most four statements), however many players and stats."""
    keys = {key for stats in stats_by_player.values() for key in stats}
    if not keys:
        return
    definitions = check_stat_keys(game_id=game_id, keys=keys)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows_by_combine: dict[str, list[tuple]] = defaultdict(list)
    for player_id, stats in stats_by_player.items():
        for key, value in stats.items():
            definition = definitions[key]
            rows_by_combine[definition.combine].append((player_id, definition.pk, value, now))
    # Same order in every transaction (combine kind, then player, then stat): two matches of the
    # same players take their row locks in one order and never deadlock.
    for combine in _COMBINE_SQL:
        rows = sorted(rows_by_combine.get(combine, []))
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            _upsert(combine, rows[start : start + _ROWS_PER_STATEMENT])


def _upsert(combine: str, rows: list[tuple]) -> None:
    table = connection.ops.quote_name(PlayerStat._meta.db_table)
    placeholders = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {table} (player_id, definition_id, value, updated_at) "  # noqa: S608
        f"VALUES {placeholders} ON CONFLICT (player_id, definition_id) DO UPDATE SET "
        f"value = {_COMBINE_SQL[combine].format(t=table)}, updated_at = excluded.updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [param for row in rows for param in row])


@transaction.atomic
def add_xp(*, game_id: int, xp_by_player: Mapping[int, int]) -> dict[int, LevelChange]:
    """Add XP and recompute levels on the game's curve: four queries for any number of players."""
    if any(xp < 0 for xp in xp_by_player.values()):
        raise ValueError("XP only grows.")
    player_ids = sorted(xp_by_player)
    if not player_ids:
        return {}
    PlayerProgress.objects.bulk_create(
        [PlayerProgress(player_id=player_id) for player_id in player_ids], ignore_conflicts=True
    )
    # Lock in player id order so two matches sharing players never deadlock.
    rows = list(
        PlayerProgress.objects.select_for_update()
        .filter(player_id__in=player_ids)
        .order_by("player_id")
    )
    curve = level_curve(game_id=game_id)
    now = timezone.now()
    changes = {}
    for row in rows:
        before = row.level
        row.xp += xp_by_player[row.player_id]
        row.level = curve.level_for(row.xp)
        row.updated_at = now
        changes[row.player_id] = LevelChange(xp=row.xp, level_before=before, level_after=row.level)
    PlayerProgress.objects.bulk_update(rows, ["xp", "level", "updated_at"])
    return changes
