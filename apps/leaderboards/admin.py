from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.admin_scoping import (
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedInline,
    operator,
)
from apps.leaderboards.models import Board, BracketReward, Entry, Payout, Period
from apps.leaderboards.services.entries import remove_entry
from apps.leaderboards.services.periods import close_period


class BracketInline(ScopedInline):
    model = BracketReward
    fields = ["position", "name", "rank_from", "rank_to", "top_percent", "contents", "period"]
    ordering = ["position", "id"]
    extra = 0


@admin.register(Board)
class BoardAdmin(GameScopedAdmin):
    list_display = ["name", "slug", "game", "source", "order", "operator", "reset"]
    list_filter = ["game", "source", "reset"]
    search_fields = ["name", "slug"]
    inlines = [BracketInline]


@admin.register(Period)
class PeriodAdmin(ReadOnlyScopedAdmin):
    game_path = "board__game"
    list_display = ["board", "number", "starts_at", "ends_at", "state", "closed_by"]
    list_filter = ["board__game", "state"]
    list_select_related = ["board"]
    actions = ["end_now"]

    @admin.action(description="End now (close, open the next period, pay the brackets)")
    def end_now(self, request: HttpRequest, queryset: QuerySet[Period]) -> None:
        writable = self._game_ids(request, self.write_roles)
        ended = 0
        for period in queryset.filter(board__game__in=writable, state=Period.State.OPEN):
            ended += close_period(period_id=period.pk, actor=operator(request)) is not None
        self.message_user(request, f"Ended {ended} period(s).", messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not self._game_ids(request, self.write_roles):
            actions.pop("end_now", None)
        return actions


@admin.register(Entry)
class EntryAdmin(ReadOnlyScopedAdmin):
    game_path = "period__board__game"
    list_display = ["player", "period", "score", "reached_at"]
    list_filter = ["period__board__game", "period__board"]
    search_fields = ["player__display_name", "=player__id"]
    list_select_related = ["player", "period__board"]
    actions = ["remove_entries"]

    @admin.action(description="Remove (reset) the selected entries (audited)")
    def remove_entries(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        writable = self._game_ids(request, self.write_roles)
        removed = 0
        for entry in queryset.filter(period__board__game__in=writable):
            remove_entry(entry=entry, actor=operator(request), reason="admin")
            removed += 1
        self.message_user(request, f"Removed {removed} entr(ies).", messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not self._game_ids(request, self.write_roles):
            actions.pop("remove_entries", None)
        return actions


@admin.register(Payout)
class PayoutAdmin(ReadOnlyScopedAdmin):
    game_path = "period__board__game"
    list_display = ["period", "rank", "player", "score", "paid_at"]
    list_filter = ["period__board__game", "period__board"]
    search_fields = ["player__display_name", "=player__id"]
    list_select_related = ["player", "period__board"]
