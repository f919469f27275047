"""Segment actions: the player list's filters pick the players, the page previews how many,
an operator submits one action for all of them (a ban or a revoke after a confirmation), and the
run's progress is shown as it goes."""

from __future__ import annotations

import uuid
from datetime import UTC
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Game
from apps.panel.access import StaffRequest, readable_game, writable_game
from apps.panel.forms import PlayerFilterForm, SegmentActionForm, UndoForm
from apps.panel.models import AUTO_RESUMES, SegmentAction, auto_resume_wait
from apps.panel.selectors import grant_targets
from apps.panel.services import (
    last_player_id,
    queue_segment_action_again,
    segment_filters,
    segment_players,
    submit_segment_action,
)
from apps.panel.tasks import run_segment_action
from apps.panel.views.common import invalid_form, page_context
from apps.panel.views.confirm import Ask, ask_first, confirmed
from gamingpanel.errors import DomainError
from gamingpanel.queueing import enqueue

# A ban or a revoke of a segment asks first (views/confirm.py); a grant or an unban takes
# nothing away.
ASKS_FIRST = frozenset({"ban", "revoke"})
# The action is saved (its players written down) even when the task queue is unreachable.
REQUEUE = "panel: the segment sweep (or the operator) queues the segment action again"
NOT_QUEUED = (
    "Saved, but the task queue is unreachable: it starts by itself once the queue is back (ten "
    "minutes after saving at the soonest), or press Queue again (or send the form again) then; "
    "nothing runs twice."
)
NOT_QUEUED_AGAIN = (
    "The task queue is unreachable: the sweep queues it again by itself once the queue is back "
    "({when}), or press Queue again then; nothing runs twice."
)
NOT_QUEUED_AGAIN_BY_HAND = (
    "The task queue is unreachable, and the sweep does not resume this action by itself: press "
    "Queue again once the queue is back; nothing runs twice."
)


@staff_member_required
def segment_action(request: StaffRequest, game_id: int) -> HttpResponse:
    game = writable_game(request, game_id)  # 404 for another game, 403 for an analyst
    source = request.POST if request.method == "POST" else request.GET
    filters = segment_filters(source)
    filter_form = PlayerFilterForm(filters or None)
    currencies, items = grant_targets(game=game)
    if request.method == "POST":
        form = SegmentActionForm(request.POST, currencies=currencies, items=items)
        if form.is_valid() and (not filters or filter_form.is_valid()):
            if form.cleaned_data["kind"] in ASKS_FIRST and not confirmed(request):
                return ask_segment(request, game, form, filter_form, filters)
            # Once: the form's key; a confirmation sent twice finds the action it started.
            try:
                action, created = submit_segment_action(
                    game=game,
                    actor=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    kind=form.cleaned_data["kind"],
                    filters=filters,
                    reason=form.cleaned_data["reason"].strip(),
                    change=form.change(),
                    ban_until=form.cleaned_data.get("ban_until"),
                    max_player_id=form.cleaned_data.get("max_player_id"),
                )
            except DomainError as error:  # the key already names another action
                messages.error(request, f"Nothing changed: {error.detail}")
                return redirect(reverse("panel:segment", args=[game.pk]) + _query(filters))
            if created:
                if enqueue(run_segment_action, action.pk, then=REQUEUE):
                    messages.success(request, f"Started for {action.total} player(s).")
                else:
                    messages.warning(request, NOT_QUEUED)
            elif action.status == SegmentAction.Status.QUEUED and action.started_at is None:
                # Submitted while the task queue was down: the same form sends it again.
                if enqueue(run_segment_action, action.pk, then=REQUEUE):
                    messages.info(request, "That form was already submitted; queued it now.")
                else:
                    messages.warning(request, NOT_QUEUED)
            else:
                messages.info(request, "That form was already submitted; nothing changed.")
            return redirect("panel:segment-run", game_id=game.pk, run_id=action.pk)
    else:
        newest = last_player_id(game=game)
        form = SegmentActionForm(
            currencies=currencies,
            items=items,
            initial={"idempotency_key": uuid.uuid4().hex, "max_player_id": newest},
        )
    context = page_context(
        request,
        game,
        title=f"Act on a segment of {game.name}",
        gp_section="players",
        form=form,
        filter_form=filter_form,
        filters=filters,
        filters_query=urlencode(filters),
        size=segment_players(
            game=game, filters=filters, max_player_id=shown_newest_player(form)
        ).count(),
        recent=SegmentAction.objects.filter(game=game)[:10],
    )
    return render(request, "panel/segment.html", context)


def ask_segment(
    request: StaffRequest,
    game: Game,
    form: SegmentActionForm,
    filter_form: PlayerFilterForm,
    filters: dict[str, str],
) -> HttpResponse:
    """A ban or a revoke of a segment: the confirmation, which counts the players again."""
    data = form.cleaned_data
    size = segment_players(game=game, filters=filters, max_player_id=data["max_player_id"]).count()
    picked = "; ".join(
        f"{field.label}: {field.value()}" for field in filter_form if field.name in filters
    )
    who = (
        f"The {size} player(s) of {game.name} who match now ({picked})"
        if filters
        else f"Every player of {game.name}: {size} now"
    )
    if data["kind"] == "ban":
        until = data["ban_until"]
        ends = (
            f"until {timezone.localtime(until, UTC):%Y-%m-%d %H:%M} UTC"
            if until
            else "until unbanned (no end)"
        )
        question, button = f"Ban {size} player(s)?", f"Ban {size} player(s)"
        what = (
            f"Each is banned {ends}, and their sessions end at once. A player already banned "
            "as long or longer keeps that ban (counted as skipped)."
        )
    else:
        change = form.change()
        assert change is not None
        taken = f"{-change.delta} {change.code}"
        question, button = f"Revoke {taken} from {size} player(s)?", f"Revoke {taken} from each"
        what = (
            f"{taken} is taken from each through the ledger, one entry per player. A player "
            "holding less is skipped (with the reason); the others go on."
        )
    facts = [
        f"{who}; players who joined after the form was shown are left out.",
        what,
        f"Reason, kept on each player's change and in the audit log: “{data['reason'].strip()}”.",
        "It runs in the background; its progress page follows.",
    ]
    back = reverse("panel:segment", args=[game.pk]) + _query(filters)
    ask = Ask(question=question, facts=facts, button=button, back=back, back_label="Segment action")
    return ask_first(request, game, ask, section="players")


def _query(filters: dict[str, str]) -> str:
    return f"?{urlencode(filters)}" if filters else ""


def shown_newest_player(form: SegmentActionForm) -> int | None:
    """The newest player the form counts up to: its initial value when first shown; sent back,
    the value only if the form took it (a hand-edited one counts every player)."""
    if not form.is_bound:
        return form.initial.get("max_player_id")
    return form.cleaned_data.get("max_player_id")


@staff_member_required
def segment_run(request: StaffRequest, game_id: int, run_id: int) -> HttpResponse:
    game = readable_game(request, game_id)
    action = SegmentAction.objects.filter(game=game, pk=run_id).first()
    if action is None:
        raise Http404("No such segment action.")
    if request.method == "POST" and "undo" in request.POST:
        writable_game(request, game_id)
        return undo_segment_ban(request, game, action)
    if request.method == "POST":
        writable_game(request, game_id)
        # It resumes where it stopped (nothing twice), its automatic resumes counted afresh.
        again = queue_segment_action_again(action_id=action.pk, actor=request.user)
        if again is not None:
            if enqueue(run_segment_action, action.pk, then=REQUEUE):
                messages.info(request, "Queued again; it resumes where it stopped.")
            elif (plan := again.auto_resume).at is not None:
                when = (
                    "it looks every minute"
                    if plan.due
                    else f"not before {timezone.localtime(plan.at, UTC):%H:%M} UTC"
                )
                messages.warning(request, NOT_QUEUED_AGAIN.format(when=when))
            else:
                messages.warning(request, NOT_QUEUED_AGAIN_BY_HAND)
        return redirect("panel:segment-run", game_id=game.pk, run_id=action.pk)
    context = page_context(
        request,
        game,
        title=f"Segment action #{action.pk}",
        gp_section="players",
        action=action,
        refresh=action.status in (SegmentAction.Status.QUEUED, SegmentAction.Status.RUNNING)
        and action.stalled_since is None,
        auto_resume=action.auto_resume,
        auto_resumes=AUTO_RESUMES,
        auto_resume_waits=auto_resume_waits(),
    )
    return render(request, "panel/segment_run.html", context)


def undo_segment_ban(request: StaffRequest, game: Game, action: SegmentAction) -> HttpResponse:
    """Undo a segment ban (POST `undo` on its page, with a `reason` and, optionally, the form's
    `idempotency_key`): an unban of that run's players that lifts only the bans it placed and
    that are still in place (a ban by hand, or one set since, stays; a shorter ban it
    lengthened comes back). Sent twice, it finds the first undo."""
    form = UndoForm(request.POST)
    back = redirect("panel:segment-run", game_id=game.pk, run_id=action.pk)
    if not form.is_valid():
        invalid_form(request, form)
        return back
    key = form.cleaned_data["idempotency_key"] or f"undo-{action.pk}"
    try:
        undo, created = submit_segment_action(
            game=game, actor=request.user, idempotency_key=key, kind=SegmentAction.Kind.UNBAN,
            filters={}, reason=form.cleaned_data["reason"], undoes=action,
        )  # fmt: skip
    except DomainError as error:
        messages.error(request, error.detail)
        return back
    if not created:
        messages.info(request, "That undo was already submitted; nothing changed.")
    elif enqueue(run_segment_action, undo.pk, then=REQUEUE):
        messages.success(request, f"Undoing segment ban #{action.pk} for {undo.total} player(s).")
    else:
        messages.warning(request, NOT_QUEUED)
    return redirect("panel:segment-run", game_id=game.pk, run_id=undo.pk)


def auto_resume_waits() -> str:
    """The sweep's waits between one automatic resume and the next: "1, 2, 4, 8 and 16"."""
    minutes = [f"{auto_resume_wait(n).total_seconds() / 60:g}" for n in range(1, AUTO_RESUMES)]
    if len(minutes) < 2:
        return "".join(minutes)
    return f"{', '.join(minutes[:-1])} and {minutes[-1]}"
