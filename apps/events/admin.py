from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.admin_scoping import GameScopedAdmin, ReadOnlyScopedAdmin, ScopedInline
from apps.events.authoring import clone_event
from apps.events.models import Event, EventReward, EventRewardClaim
from apps.inventory.widgets import ContentsEditorMixin


class ScheduleFilter(admin.SimpleListFilter):
    title = "schedule"
    parameter_name = "schedule"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("running", "Running now"), ("upcoming", "Upcoming"), ("ended", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "running":
            return queryset.filter(starts_at__lte=now, ends_at__gt=now)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "ended":
            return queryset.filter(ends_at__lte=now)
        return queryset


class EventRewardInline(ContentsEditorMixin, ScopedInline):
    """Stacked: a reward has seven fields and a contents editor, too wide for a table row."""

    model = EventReward
    template = "admin/edit_inline/stacked.html"
    fields = [
        "position",
        "name",
        "requirement",
        "stat_key",
        "target",
        "contents",
        "battlepass_xp",
    ]
    ordering = ["position", "id"]


@admin.register(Event)
class EventAdmin(GameScopedAdmin):
    list_display = ["name", "game", "starts_at", "ends_at", "state", "recurrence"]
    list_filter = [ScheduleFilter, "game", "recurrence"]
    actions = ["clone_selected"]
    search_fields = ["name"]
    date_hierarchy = "starts_at"
    ordering = ["starts_at"]  # a calendar: what comes first is listed first
    inlines = [EventRewardInline]

    @admin.action(
        description="Clone the selected events (rewards included)", permissions=["change"]
    )
    def clone_selected(self, request, queryset) -> None:
        copies = [
            clone_event(event=event, actor=request.user)
            for event in queryset
            if self.has_change_permission(request, event)
        ]
        self.message_user(request, f"Cloned {len(copies)} event(s) with their rewards.")

    @admin.display(description="State")
    def state(self, obj: Event) -> str:
        now = timezone.now()
        if now < obj.starts_at:
            return "upcoming"
        return "running" if now < obj.ends_at else "ended"


@admin.register(EventRewardClaim)
class EventRewardClaimAdmin(ReadOnlyScopedAdmin):
    game_path = "reward__event__game"
    list_display = ["player", "reward", "claimed_at"]
    list_filter = ["reward__event__game", "reward__event"]
    search_fields = ["player__display_name", "=player__id"]
    list_select_related = ["player", "reward__event"]
