from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.admin_scoping import GameScopedAdmin, ReadOnlyScopedAdmin, ScopedInline
from apps.multiplayer.models import Match, MatchResult, MatchSettings, RegisteredServer, XpRule


def _fresh_since() -> datetime:
    return timezone.now() - timedelta(seconds=settings.SERVER_HEARTBEAT_TTL_SECONDS)


class LiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("live", "Live (beat within the TTL)"), ("stale", "Stale")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "live":
            return queryset.filter(last_heartbeat_at__gte=_fresh_since())
        if self.value() == "stale":
            return queryset.filter(last_heartbeat_at__lt=_fresh_since())
        return queryset


@admin.register(RegisteredServer)
class RegisteredServerAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "server_id",
        "game",
        "region",
        "mode",
        "players",
        "capacity",
        "version",
        "address",
        "port",
        "last_heartbeat_at",
        "live",
    ]
    list_filter = [LiveFilter, "game", "region", "mode"]
    search_fields = ["server_id", "address"]
    ordering = ["-last_heartbeat_at"]

    @admin.display(boolean=True)
    def live(self, obj: RegisteredServer) -> bool:
        return obj.last_heartbeat_at >= _fresh_since()


RESULT_FIELDS = (
    "player",
    "outcome",
    "score",
    "stats",
    "ignored_stats",
    "xp_awarded",
    "season_xp_awarded",
    "level_before",
    "level_after",
    "counted",
)


class MatchResultInline(ScopedInline):
    model = MatchResult
    fields = RESULT_FIELDS
    readonly_fields = RESULT_FIELDS


@admin.register(Match)
class MatchAdmin(ReadOnlyScopedAdmin):
    list_display = ["match_id", "game", "mode", "started_at", "ended_at", "recorded_at"]
    list_filter = ["game", "mode"]
    search_fields = ["match_id"]
    date_hierarchy = "recorded_at"
    ordering = ["-recorded_at"]
    inlines = [MatchResultInline]


@admin.register(XpRule)
class XpRuleAdmin(GameScopedAdmin):
    list_display = ["game", "mode", "outcome", "xp"]
    list_filter = ["game", "outcome"]


@admin.register(MatchSettings)
class MatchSettingsAdmin(GameScopedAdmin):
    list_display = ["game", "undeclared_stats"]
    list_filter = ["game", "undeclared_stats"]
