"""Reads of stats and levels (the player's own page and the services' bulk lookups)."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery

from apps.accounts.models import Player
from apps.stats.levels import Curve
from apps.stats.models import LevelCurve, PlayerProgress, PlayerStat, StatDefinition
from gamingpanel.sql import CompiledQuery, Statement


def level_curve(*, game_id: int) -> Curve:
    """The game's curve, or the documented default when operators have not set one."""
    row = (
        LevelCurve.objects.filter(game_id=game_id)
        .values_list("xp_per_level", "growth_percent", "max_level")
        .first()
    )
    return Curve(*row) if row else Curve()


def curve_of(xp_per_level: int | None, growth_percent: int, max_level: int) -> Curve:
    """The curve from a row's curve columns: the default when the game has none."""
    return Curve() if xp_per_level is None else Curve(xp_per_level, growth_percent, max_level)


def stat_definitions(*, game_id: int) -> dict[str, StatDefinition]:
    return {d.key: d for d in StatDefinition.objects.filter(game_id=game_id)}


def stat_combine(*, game_id: int, key: OuterRef) -> Subquery:
    """How the game combines the stat an outer query's column names, as a subquery for that
    query's rows: null for a stat the game does not define."""
    definitions = StatDefinition.objects.filter(game_id=game_id, key=key).order_by()
    return Subquery(definitions.values("combine"))


# One compiled query (gamingpanel.sql): the player's own row with its XP and the game's curve
# (outer joins, as `level_columns`), and one row per stat value, by key.
PLAYER_STATS = CompiledQuery.compile(
    """
    SELECT progress.xp, curve.xp_per_level, curve.growth_percent, curve.max_level,
           definition.key, stat.value
      FROM {player} player
      LEFT JOIN {progress} progress ON progress.player_id = player.id
      LEFT JOIN {curve} curve ON curve.game_id = player.game_id
      LEFT JOIN {stat} stat ON stat.player_id = player.id
      LEFT JOIN {definition} definition ON definition.id = stat.definition_id
     WHERE player.id = %s AND player.game_id = %s
     ORDER BY definition.key
    """,
    player=Player,
    progress=PlayerProgress,
    curve=LevelCurve,
    stat=PlayerStat,
    definition=StatDefinition,
)


# The player's XP and the game's curve, for the level alone (remote config's rules ask for it).
PLAYER_LEVEL = CompiledQuery.compile(
    """
    SELECT progress.xp, curve.xp_per_level, curve.growth_percent, curve.max_level
      FROM {player} player
      LEFT JOIN {progress} progress ON progress.player_id = player.id
      LEFT JOIN {curve} curve ON curve.game_id = player.game_id
     WHERE player.id = %s AND player.game_id = %s
    """,
    player=Player,
    progress=PlayerProgress,
    curve=LevelCurve,
)


def player_level(*, player_id: int, game_id: int) -> int:
    """The player's level as get_player_stats answers it, in one query that reads no stats."""
    return level_from_rows(PLAYER_LEVEL.rows([player_id, game_id]))


def player_level_statement(*, player_id: int, game_id: int) -> Statement:
    """player_level's query, for a caller that sends it with others (gamingpanel.sql.run_together);
    its rows make the level with level_from_rows."""
    return PLAYER_LEVEL, [player_id, game_id]


def level_from_rows(rows: list[tuple[Any, ...]]) -> int:
    progress_xp, xp_per_level, growth_percent, max_level = rows[0] if rows else (None, None, 0, 0)
    return curve_of(xp_per_level, growth_percent, max_level).level_for(progress_xp or 0)


def get_player_stats(*, player_id: int, game_id: int) -> dict[str, Any]:
    """One query, however many stats; in the order of the body the player API answers."""
    rows = PLAYER_STATS.rows([player_id, game_id])
    progress_xp, xp_per_level, growth_percent, max_level = (
        rows[0][:4] if rows else (None, None, 0, 0)
    )
    xp = progress_xp or 0
    curve = curve_of(xp_per_level, growth_percent, max_level)
    return {
        "player_id": player_id,
        "level": curve.level_for(xp),
        "xp": xp,
        "xp_to_next_level": curve.xp_to_next_level(xp),
        "stats": {key: value for *_, key, value in rows if key is not None},
    }
