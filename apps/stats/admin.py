from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    WholeValueSearch,
)
from apps.stats.levels import Curve
from apps.stats.models import LevelCurve, PlayerProgress, PlayerStat, StatDefinition
from apps.stats.selectors import level_curve

PREVIEW_LEVELS = 10
PLAYER_SEARCH_HELP = "A player id (the player list finds players by name)."


def _lock(definitions: QuerySet) -> None:
    list(definitions.select_for_update().order_by("pk").values_list("pk", flat=True))  # id order


@admin.register(StatDefinition)
class StatDefinitionAdmin(GameScopedAdmin):
    fixed_once_saved = ("key",)
    list_display = ["key", "name", "combine", "game"]
    list_filter = ["game", "combine"]
    search_fields = ["key", "name"]

    # The definitions locked FOR UPDATE before their values are collected for the cascade: a
    # match under way holds the definitions it reports FOR KEY SHARE (stats.services.
    # apply_stats) with its values not yet visible, so a deletion that collected first missed
    # them and failed at commit on their foreign keys. Now it waits for the match, then
    # collects (and deletes) its values too; a match starting meanwhile waits for the deletion.
    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        with transaction.atomic():  # the delete view's transaction already
            _lock(StatDefinition.objects.filter(pk=obj.pk))
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():  # the delete action runs outside any transaction
            _lock(StatDefinition.objects.filter(pk__in=queryset.values("pk")))
            super().delete_queryset(request, queryset)


@admin.register(LevelCurve)
class LevelCurveAdmin(GameScopedAdmin):
    list_display = ["game", "xp_per_level", "growth_percent", "max_level"]
    readonly_fields = ["preview"]

    @admin.display(description=f"XP to reach the first {PREVIEW_LEVELS} levels")
    def preview(self, obj: LevelCurve) -> str:
        if obj.pk is None:
            return "Save to see the curve."
        thresholds = Curve(obj.xp_per_level, obj.growth_percent, obj.max_level).thresholds()
        return format_html_join(
            ", ", "level {}: {}", ((n + 1, xp) for n, xp in enumerate(thresholds[:PREVIEW_LEVELS]))
        )


@admin.register(PlayerProgress)
class PlayerProgressAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """A row per player: no count of every row, and a search by player id (its own index)."""

    game_path = "player__game"
    list_display = ["player", "xp", "level", "updated_at"]
    list_filter = ["player__game"]
    search_fields = ["=player__id"]
    search_help_text = PLAYER_SEARCH_HELP
    list_select_related = ["player"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    # Newest first, through the primary key: "-xp" sorted every row on each page (no index on
    # xp, which every match result updates); the XP column still sorts when clicked.
    ordering = ["-id"]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        # The curves as they are now, read once per game for this page: the admin instance
        # lives as long as the process, so a cache kept on it showed levels of an old curve.
        self._curves: dict[int, Any] = {}
        return super().changelist_view(request, extra_context)

    @admin.display(description="Level (current curve)")
    def level(self, obj: PlayerProgress) -> int:
        # One curve read per game per page, not per row.
        curves = self.__dict__.setdefault("_curves", {})
        game_id = obj.player.game_id
        if game_id not in curves:
            curves[game_id] = level_curve(game_id=game_id)
        return curves[game_id].level_for(obj.xp)


@admin.register(PlayerStat)
class PlayerStatAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """A row per player per stat: no count of every row, and a search by player id (the
    player's stats index leads with it)."""

    game_path = "player__game"
    list_display = ["player", "definition", "value", "updated_at"]
    list_filter = ["definition__game", "definition"]
    search_fields = ["=player__id"]
    search_help_text = PLAYER_SEARCH_HELP
    list_select_related = ["player", "definition"]
    show_full_result_count = False
    paginator = CappedCountPaginator
