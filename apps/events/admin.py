from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ParentAttachedFormSet,
    ReadOnlyScopedAdmin,
    ScopedInline,
    WholeValueSearch,
    operator,
)
from apps.battlepass.forms import FixedOnceClaimedFormSet
from apps.events.authoring import (
    clone_event,
    delete_events,
    lock_for_deletion,
    repeats_deleted_with,
    reschedule_repeats,
)
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


class ClaimedRewardsFormSet(FixedOnceClaimedFormSet, ParentAttachedFormSet):
    fixed_once_claimed = ("requirement", "stat_key", "target", "contents", "battlepass_xp")
    claimed_message = (
        "Players have claimed this reward: what it asks and grants stays as it was claimed "
        "(add a reward instead)."
    )


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
    formset = ClaimedRewardsFormSet


@admin.register(Event)
class EventAdmin(GameScopedAdmin):
    list_display = ["name", "game", "starts_at", "ends_at", "state", "active", "recurrence"]
    list_filter = [ScheduleFilter, "game", "active", "recurrence"]
    readonly_fields = ["series", "occurrence"]
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
        self.message_user(
            request,
            f"Cloned {len(copies)} event(s) with their rewards; the copies are inactive.",
        )

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, Event)
        before = Event.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        # Compared as Event.clean compares them (not the form's changed_data): its check of the
        # series' live copies leaves out the repeats not started only when they move here.
        if before and obj.series_id is None and before.schedule() != obj.schedule():
            # The repeats made of the old schedule follow the new one (those not started).
            done = reschedule_repeats(origin=obj, actor=operator(request), before=before)
            if done.moved or done.removed:
                self.message_user(
                    request,
                    f"Repeats not started yet: {done.moved} moved, {done.removed} removed.",
                )

    # An original's repeats not started go with it (delete_events): the confirmation page lists
    # them, and both the delete page and the bulk action delete through the service.
    # The originals and the rewards that would go are locked first (lock_for_deletion; the
    # delete page and the bulk delete each run in one transaction): a claim under way is waited
    # for and then protects its reward here, where it was unseen and the deletion failed at
    # commit (a 500). Django shows the page of a GET outside any transaction: nothing is
    # deleted then, and nothing is locked.
    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        ids, now = [obj.pk for obj in objs], timezone.now()
        if transaction.get_connection().in_atomic_block:
            lock_for_deletion(ids, now=now)
        listed, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        deleted: list[Any] = list(listed)  # a nested list: an item, then a list of its own
        going = repeats_deleted_with(ids, now=now)
        repeats = list(going.order_by("starts_at"))
        if repeats:
            more, more_counts, more_perms, more_protected = super().get_deleted_objects(
                repeats, request
            )
            deleted += ["Repeats not started yet, deleted with their original:", more]
            counts = dict(Counter(counts) + Counter(more_counts))
            perms_needed, protected = perms_needed | more_perms, [*protected, *more_protected]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        assert isinstance(obj, Event)
        self._delete(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._delete(request, list(queryset))

    def _delete(self, request: HttpRequest, events: list[Event]) -> None:
        if not all(self.has_delete_permission(request, event) for event in events):
            raise PermissionDenied
        done = delete_events(events=events, actor=operator(request))
        said = []
        if done.repeats_removed:
            said.append(f"{done.repeats_removed} repeat(s) not started yet deleted too")
        if done.repeats_kept:
            said.append(
                f"{done.repeats_kept} repeat(s) started or claimed kept, live as events of "
                "their own"
            )
        if said:
            self.message_user(request, "; ".join(said) + ".")

    @admin.display(description="State")
    def state(self, obj: Event) -> str:
        now = timezone.now()
        if now < obj.starts_at:
            return "upcoming"
        return "running" if now < obj.ends_at else "ended"


@admin.register(EventRewardClaim)
class EventRewardClaimAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """A row per claimed reward of every event: no count of every claim, and a search by player
    id (the claims' index leads with it)."""

    game_path = "reward__event__game"
    list_display = ["player", "reward", "claimed_at"]
    list_filter = ["reward__event__game", "reward__event"]
    search_fields = ["=player__id"]
    search_help_text = "A player id (the player list finds players by name)."
    list_select_related = ["player", "reward__event"]
    show_full_result_count = False
    paginator = CappedCountPaginator
