from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedInline,
    WholeValueSearch,
)
from apps.accounts.selectors import READ_ROLES
from apps.multiplayer.models import (
    NAME,
    Match,
    MatchResult,
    MatchSettings,
    RegisteredServer,
    XpRule,
)


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


class ModeFilter(admin.SimpleListFilter):
    """The modes the games' XP rules and registered servers name (small tables): Django's own
    filter reads the distinct modes of every match on each page load. Any other mode (a link's,
    an older match's) still filters, exactly, by the same parameter as Django's."""

    title = "mode"
    parameter_name = "mode__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        assert isinstance(model_admin, GameScopedAdmin)
        games = model_admin._game_ids(request, READ_ROLES)
        modes = {
            *XpRule.objects.filter(game__in=games).values_list("mode", flat=True),
            *RegisteredServer.objects.filter(game__in=games).values_list("mode", flat=True),
        }
        # A heartbeat's mode may be any label ("Team Deathmatch"); only one a match result can
        # send lists any match.
        return [(mode, mode) for mode in sorted(modes) if re.fullmatch(NAME, mode)]

    def has_output(self) -> bool:
        # Django leaves out, unapplied, a filter that offers nothing: with no mode offered (no
        # rule or server names one), ?mode__exact=duel listed every match.
        return super().has_output() or self.value() is not None

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset if value is None else queryset.filter(mode=value)


@admin.register(Match)
class MatchAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """Every match recorded: no count of every match, no date drill-down (both read all of
    them), modes from the games' rules and servers, and a search by whole match id."""

    list_display = ["match_id", "game", "mode", "started_at", "ended_at", "recorded_at"]
    list_filter = ["game", ModeFilter]
    search_fields = ["=match_id"]
    search_help_text = "A whole match id, as the game server sent it."
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ["-recorded_at"]
    inlines = [MatchResultInline]

    def search_matches(self, request: HttpRequest, term: str) -> list[Q]:
        # A match id is unique within its game and indexed after it: naming the user's games,
        # which every match they see has, lets that index answer.
        games = Q(game__in=self._game_ids(request, READ_ROLES))
        return [Q(match, games) for match in super().search_matches(request, term)]


@admin.register(XpRule)
class XpRuleAdmin(GameScopedAdmin):
    list_display = ["game", "mode", "outcome", "xp"]
    list_filter = ["game", "outcome"]


@admin.register(MatchSettings)
class MatchSettingsAdmin(GameScopedAdmin):
    list_display = ["game", "undeclared_stats"]
    list_filter = ["game", "undeclared_stats"]
