from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from apps.accounts.admin_scoping import GameScopedAdmin, ReadOnlyScopedAdmin, ScopedInline
from apps.battlepass.models import Season, SeasonPass, Tier, TierClaim


class TierInline(ScopedInline):
    model = Tier
    fields = ["level", "xp_required", "free_reward", "premium_reward"]
    ordering = ["level"]


@admin.register(Season)
class SeasonAdmin(GameScopedAdmin):
    list_display = ["name", "game", "starts_at", "ends_at", "running_now"]
    list_filter = ["game"]
    search_fields = ["name"]
    date_hierarchy = "starts_at"
    ordering = ["-starts_at"]
    inlines = [TierInline]

    @admin.display(boolean=True, description="Running now")
    def running_now(self, obj: Season) -> bool:
        return obj.starts_at <= timezone.now() < obj.ends_at


@admin.register(SeasonPass)
class SeasonPassAdmin(ReadOnlyScopedAdmin):
    game_path = "season__game"
    list_display = ["player", "season", "xp", "premium", "premium_granted_at"]
    list_filter = ["season__game", "season", "premium"]
    search_fields = ["player__display_name", "=player__id"]
    list_select_related = ["player", "season"]


@admin.register(TierClaim)
class TierClaimAdmin(ReadOnlyScopedAdmin):
    game_path = "tier__season__game"
    list_display = ["player", "tier", "track", "claimed_at"]
    list_filter = ["tier__season__game", "track"]
    search_fields = ["player__display_name", "=player__id"]
    list_select_related = ["player", "tier__season"]
