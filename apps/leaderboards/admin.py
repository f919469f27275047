from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedInline,
    WholeValueSearch,
    operator,
)
from apps.leaderboards import index
from apps.leaderboards.errors import PeriodClosed
from apps.leaderboards.models import Board, BracketReward, Entry, Payout, Period, Submission
from apps.leaderboards.queued import pay_period
from apps.leaderboards.selectors import (
    boards_with_history,
    holds_entries,
    lock_for_deletion,
    lock_for_schedule_change,
)
from apps.leaderboards.services.entries import remove_entry
from apps.leaderboards.services.payouts import retry_payouts
from apps.leaderboards.services.periods import close_period, follow_schedule
from gamingpanel.queueing import enqueue

PLAYER_SEARCH_HELP = "A player id (the player list finds players by name)."


class BracketInline(ScopedInline):
    model = BracketReward
    fields = ["position", "name", "rank_from", "rank_to", "top_percent", "contents", "period"]
    ordering = ["position", "id"]
    extra = 0


# What the stored entries were ranked and windowed by (an entry keeps score x order as its rank
# key; the open period keeps the end its schedule gave it): once a board holds entries these
# stay as they are, and a board with other rules is a new board.
RANKING_FIELDS = ("game", "source", "stat_key", "order", "operator", "reset", "time_zone")
SCHEDULE_FIELDS = {"reset", "time_zone"}


class BoardForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        # The form left the ranking fields editable when it was built, the board holding no
        # score then; one may have landed since. Checked again under the locks that a first
        # score waits for (held to the admin's commit: its save, then follow_schedule): the
        # board's row (a submission checks the rules it ranks by against it, FOR SHARE), then
        # its open period. Else the score, ranked and windowed by the old rules, would be held
        # by a board showing the new ones, which it then locks.
        board = self.instance
        changes_rules = board.pk is not None and set(RANKING_FIELDS) & set(self.changed_data)
        if changes_rules and not lock_for_schedule_change(board):
            raise forms.ValidationError(
                "This board received its first scores while you edited it: its source, stat, "
                "order, operator, reset and time zone are now fixed, as its entries were ranked "
                "and its open period windowed by them. Reload the page to edit its other "
                "fields, or create a new board for other rules."
            )
        return self.cleaned_data


@admin.register(Board)
class BoardAdmin(GameScopedAdmin):
    list_display = ["name", "slug", "game", "source", "order", "operator", "reset"]
    list_filter = ["game", "source", "reset"]
    search_fields = ["name", "slug"]
    inlines = [BracketInline]
    form = BoardForm

    def get_readonly_fields(self, request: HttpRequest, obj: Board | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and holds_entries(obj):
            fields += [name for name in RANKING_FIELDS if name not in fields]
        return fields

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and SCHEDULE_FIELDS & set(form.changed_data):
            assert isinstance(obj, Board)
            # No entry yet (BoardForm.clean, under locks held since): its open period follows
            # the new schedule.
            follow_schedule(board=obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """A board whose periods hold no score, submission or payout is deleted with them (the
        first read opens a period; periods have no delete permission of their own, so Django
        refused any such board as "no permission"). One that does is kept (deletion_refusals)."""
        boards = list(objs)
        # Django runs this and the delete in one transaction: the boards' rows and periods held
        # from here, a first score (whose insert checks its period) or a first period waits
        # for the delete, instead of landing between the history check and it.
        lock_for_deletion(boards)
        deleted, counts, perms_needed, protected = super().get_deleted_objects(boards, request)
        # The board's own rows, which no one deletes one by one: refused when they are history,
        # and the page then says why rather than "no permission".
        for model in (Period, Entry, Submission, Payout):
            perms_needed.discard(str(model._meta.verbose_name))
        return deleted, counts, perms_needed, protected

    def deletion_refusals(self, boards: list[Any]) -> list[str]:
        """A board whose periods hold scores or payouts is kept: its standings and payouts are
        history."""
        held = boards_with_history(boards)
        return [
            f"“{board}” holds scores or payouts: its standings and what it paid are kept. "
            "Create a new board instead, or leave this one be."
            for board in boards
            if board.pk in held
        ]

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        periods = _period_ids(Board.objects.filter(pk=obj.pk))
        super().delete_model(request, obj)
        _drop_indexes_after_commit(periods)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        periods = _period_ids(queryset)
        super().delete_queryset(request, queryset)
        _drop_indexes_after_commit(periods)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Board | None = None,
    ) -> HttpResponse:
        if obj is not None and request.method == "GET" and holds_entries(obj):
            messages.info(
                request,
                "This board holds scores: its source, stat, order, operator, reset and time zone "
                "are fixed, as its entries were ranked and its period windowed by them. Create a "
                "new board for other rules.",
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


def _period_ids(boards: QuerySet) -> list[int]:
    return list(Period.objects.filter(board__in=boards).values_list("pk", flat=True))


def _drop_indexes_after_commit(period_ids: list[int]) -> None:
    """The rank indexes of periods deleted with their boards (keys nothing else would drop)."""
    transaction.on_commit(lambda: index.drop(period_ids))


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
class EntryAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """One row per player per period of every board: no count of every entry, and a search by
    player id (its own index)."""

    game_path = "period__board__game"
    list_display = ["player", "period", "score", "reached_at"]
    list_filter = ["period__board__game", "period__board"]
    search_fields = ["=player__id"]
    search_help_text = PLAYER_SEARCH_HELP
    list_select_related = ["player", "period__board"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["remove_entries"]

    @admin.action(description="Remove (reset) the selected entries (audited)")
    def remove_entries(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        writable = self._game_ids(request, self.write_roles)
        removed = kept = 0
        for entry in queryset.filter(period__board__game__in=writable):
            try:
                if remove_entry(entry=entry, actor=operator(request), reason="admin"):
                    removed += 1  # not one another operator removed meanwhile
            except PeriodClosed:
                kept += 1  # a closed period's standings are final
        self.message_user(request, f"Removed {removed} entr(ies).", messages.SUCCESS)
        if kept:
            self.message_user(
                request,
                f"Kept {kept} entr(ies) of closed periods: their standings are final.",
                messages.WARNING,
            )

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not self._game_ids(request, self.write_roles):
            actions.pop("remove_entries", None)
        return actions


@admin.register(Payout)
class PayoutAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """A row per rewarded player per closed period: no count of every payout, and a search by
    player id (its own index)."""

    game_path = "period__board__game"
    list_display = ["period", "rank", "player", "score", "paid_at", "attempts", "needs_attention"]
    list_filter = ["needs_attention", "period__board__game", "period__board"]
    search_fields = ["=player__id"]
    search_help_text = PLAYER_SEARCH_HELP
    list_select_related = ["player", "period__board"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = ["last_error"]
    actions = ["retry_selected"]

    @admin.action(description="Pay the selected unpaid payouts again (after fixing the economy)")
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        writable = self._game_ids(request, self.write_roles)
        ids = list(queryset.values_list("pk", flat=True))
        for period_id in retry_payouts(payout_ids=ids, game_ids=writable, actor=operator(request)):
            enqueue(pay_period, period_id, then="the 10-minute sweep pays them")
        self.message_user(request, "Queued the selected unpaid payouts.", messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not self._game_ids(request, self.write_roles):
            actions.pop("retry_selected", None)
        return actions
