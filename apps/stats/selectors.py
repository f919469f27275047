"""Reads of stats and levels (the player's own page and the services' bulk lookups)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, Subquery

from apps.accounts.models import Player
from apps.accounts.selectors import public_player_query
from apps.stats.levels import Curve
from apps.stats.models import LevelCurve, PlayerProgress, StatDefinition


def level_curve(*, game_id: int) -> Curve:
    """The game's curve, or the documented default when operators have not set one."""
    row = (
        LevelCurve.objects.filter(game_id=game_id)
        .values_list("xp_per_level", "growth_percent", "max_level")
        .first()
    )
    return Curve(*row) if row else Curve()


def level_columns() -> dict[str, F]:
    """Annotations for a Player queryset that bring the player's XP and the game's curve into
    the player's own row (outer joins), so a level costs no query of its own: `level_of`."""
    return {
        "progress_xp": F("progress__xp"),
        "curve_xp_per_level": F("game__level_curve__xp_per_level"),
        "curve_growth_percent": F("game__level_curve__growth_percent"),
        "curve_max_level": F("game__level_curve__max_level"),
    }


def curve_of(xp_per_level: int | None, growth_percent: int, max_level: int) -> Curve:
    """The curve from `level_columns` values: the default when the game has none."""
    return Curve() if xp_per_level is None else Curve(xp_per_level, growth_percent, max_level)


def level_of(player: Player) -> int:
    """The level of a player loaded with `level_columns`: as player_levels, on the game's
    current curve (the default without one), level 1 without progress."""
    curve = curve_of(player.curve_xp_per_level, player.curve_growth_percent, player.curve_max_level)
    return curve.level_for(player.progress_xp or 0)


def stat_definitions(*, game_id: int) -> dict[str, StatDefinition]:
    return {d.key: d for d in StatDefinition.objects.filter(game_id=game_id)}


def stat_combine(*, game_id: int, key: OuterRef) -> Subquery:
    """How the game combines the stat an outer query's column names, as a subquery for that
    query's rows: null for a stat the game does not define."""
    definitions = StatDefinition.objects.filter(game_id=game_id, key=key).order_by()
    return Subquery(definitions.values("combine"))


def player_levels(*, game_id: int, player_ids: list[int]) -> dict[int, int]:
    """Level per player id (two queries), from XP on the current curve, so a curve an operator
    changed applies at once; players without progress are level 1."""
    rows = PlayerProgress.objects.filter(player_id__in=player_ids).values_list("player_id", "xp")
    xp_by_player = {player_id: 0 for player_id in player_ids} | dict(rows)
    curve = level_curve(game_id=game_id)
    return {player_id: curve.level_for(xp) for player_id, xp in xp_by_player.items()}


def get_player_stats(*, player_id: int, game_id: int) -> dict[str, Any]:
    """One query: the player's row with its XP and the game's curve (outer joins, as
    `level_columns`) and one row per stat value, by key."""
    rows = list(
        public_player_query(game_id=game_id, player_id=player_id)
        .order_by("stats__definition__key")
        .values_list(*level_columns().values(), "stats__definition__key", "stats__value")
    )
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
