"""Leaderboards in the panel: a game's boards, and per board the top of a period, a player's
entry, the history of periods, their payouts, the dry-run preview of the bracket rewards and the
operator actions "end now" and "remove an entry" (POST; operators and owners), which ask first
(views/confirm.py). Actions go through the leaderboards' services, which write the audit log in
their transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.models import Game, Player
from apps.accounts.selectors import refuse_erased
from apps.leaderboards.models import Board, Entry, Payout, Period
from apps.leaderboards.selectors import (
    closed_periods,
    current_period,
    player_entry,
    top_entries,
)
from apps.leaderboards.services.entries import remove_entry
from apps.leaderboards.services.payouts import preview_payouts
from apps.leaderboards.services.periods import close_period
from apps.panel.access import StaffRequest, readable_game, writable_game
from apps.panel.forms import ReasonForm
from apps.panel.selectors import leaderboard_player, period_size, typed_number
from apps.panel.views.common import invalid_form, page_context
from apps.panel.views.confirm import Ask, ask_first, confirmed
from gamingpanel.errors import DomainError

TOP = 50


def board_of(game: Game, board_id: int) -> Board:
    board = Board.objects.filter(game=game, pk=board_id).first()
    if board is None:  # another game's board is not revealed
        raise Http404("No such leaderboard.")
    return board


@staff_member_required
def boards_page(request: StaffRequest, game_id: int) -> HttpResponse:
    game = readable_game(request, game_id)
    boards = [(board, current_period(board)) for board in Board.objects.filter(game=game)]
    context = page_context(
        request, game, title=f"{game.name} leaderboards", gp_section="leaderboards", boards=boards
    )
    return render(request, "panel/leaderboards.html", context)


@staff_member_required
def board_page(request: StaffRequest, game_id: int, board_id: int) -> HttpResponse:
    game = readable_game(request, game_id)
    board = board_of(game, board_id)
    open_one = current_period(board)
    period: Period | None = open_one
    if number := request.GET.get("period"):
        period = Period.objects.filter(board=board, number=typed_number(number)).first()
    if period is None:
        raise Http404("No such period.")
    search = (request.GET.get("player") or "").strip()
    found = None
    if search:
        player_id = leaderboard_player(game=game, period=period, search=search)
        found = player_entry(period=period, player_id=player_id) if player_id else None
    top = top_entries(period=period, limit=TOP).results
    context = page_context(
        request,
        game,
        title=f"{board.name} ({game.name})",
        gp_section="leaderboards",
        board=board,
        period=period,
        open_period=open_one,
        top=top,
        search=search,
        found=found,
        erased=_erased_among(
            [entry.player_id for entry in top] + ([found.player_id] if found else [])
        ),
        history=closed_periods(board=board)[:50],
        payouts=Payout.objects.filter(period=period).select_related("player")[:200],
        preview=preview_payouts(period=period) if request.GET.get("preview") else None,
    )
    return render(request, "panel/leaderboard.html", context)


@require_POST
@staff_member_required
def board_action(request: StaffRequest, game_id: int, board_id: int, action: str) -> HttpResponse:
    game = writable_game(request, game_id)  # 404 for another game, 403 for an analyst
    board = board_of(game, board_id)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    # The period the page showed, not whichever is open when the form arrives: a period that
    # closed meanwhile (its schedule, another operator, a second click) is not followed by an
    # action on the next one.
    number = request.POST.get("period") or ""
    period = Period.objects.filter(board=board, number=typed_number(number)).first()
    if period is None:
        raise Http404("No such period.")
    given = ReasonForm(request.POST)  # at most 300 characters, no U+0000 (a 500 on PostgreSQL)
    if not given.is_valid():
        invalid_form(request, given)
        return redirect("panel:leaderboard", game_id=game.pk, board_id=board.pk)
    reason = given.cleaned_data["reason"]
    try:
        asked = handler(request, game, board, period, reason)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.detail}")
    else:
        if asked is not None:  # the confirmation page: nothing done yet
            return asked
    return redirect("panel:leaderboard", game_id=game.pk, board_id=board.pk)


def _ask(request: StaffRequest, game: Game, board: Board, **ask: Any) -> HttpResponse:
    """The confirmation of an action of the board page (an open period's), Cancel going back."""
    return ask_first(
        request,
        game,
        Ask(
            back=reverse("panel:leaderboard", args=[game.pk, board.pk]),
            back_label=board.name,
            **ask,
        ),
        section="leaderboards",
    )


def _reason(reason: str) -> str:
    return f"Reason, kept in the audit log: “{reason}”." if reason else "No reason given."


def _end_now(
    request: StaffRequest, game: Game, board: Board, period: Period, reason: str
) -> HttpResponse | None:
    # Once: close_period closes an open period only; a second confirmation finds it closed.
    if period.state == Period.State.OPEN and not confirmed(request):
        entries, brackets = period_size(period=period)
        ends = f"due to end {_utc(period.ends_at)}" if period.ends_at else "with no end"
        return _ask(
            request,
            game,
            board,
            question=f"End period {period.number} of {board.name} now?",
            facts=[
                f"Period {period.number} of {board.name} (from {_utc(period.starts_at)}, {ends}) "
                "closes now, and no score counts in it any more.",
                f"Its {entries} entr{'y' if entries == 1 else 'ies'} become its final standings."
                + (
                    f" Its {brackets} bracket reward(s) are paid from them (queued)."
                    if brackets
                    else " It has no bracket reward: nothing is paid."
                ),
                f"Period {period.number + 1} opens at once.",
                _reason(reason),
            ],
            button=f"End period {period.number} now",
        )
    closed = close_period(period_id=period.pk, actor=request.user, reason=reason)
    if closed is None:
        messages.info(request, f"Period {period.number} was closed already.")
    else:
        messages.success(request, f"Ended period {closed.number}; payouts follow.")
    return None


def _remove_entry(
    request: StaffRequest, game: Game, board: Board, period: Period, reason: str
) -> HttpResponse | None:
    sent = request.POST.get("player_id") or ""
    player_id = typed_number(sent)
    entry = (
        Entry.objects.filter(period=period, player_id=player_id).select_related("player").first()
    )
    if entry is None:
        # The entry removed by the first of two confirmations, or never there.
        messages.info(
            request, f"Nothing changed: player {player_id} has no entry in period {period.number}."
        )
        return None
    # Erasure removed the erased player's open entries; one left (a race) is not the operator's.
    refuse_erased(entry.player)
    if period.state == Period.State.OPEN and not confirmed(request):
        ranked = player_entry(period=period, player_id=entry.player_id)
        name = (ranked.display_name if ranked else "") or f"player {entry.player_id}"
        rank = f"rank {ranked.rank}, " if ranked else ""
        return _ask(
            request,
            game,
            board,
            question=f"Remove {name}'s entry from period {period.number}?",
            facts=[
                f"{name}'s entry ({rank}score {entry.score}) is taken out of period "
                f"{period.number} of {board.name}: they are no longer ranked there, and the "
                "players below move up.",
                "Their next score in this period starts a new entry.",
                _reason(reason),
            ],
            button=f"Remove {name}'s entry",
        )
    # A closed period's entry: remove_entry refuses it (its standings are final).
    if not remove_entry(entry=entry, actor=request.user, reason=reason):
        # Confirmed twice at once: the other removal came first.
        messages.info(request, f"Nothing changed: player {entry.player_id}'s entry was removed.")
        return None
    messages.success(request, f"Removed player {entry.player_id}'s entry.")
    return None


def _erased_among(player_ids: list[int]) -> set[int]:
    """Which of the shown players were erased (shown as "erased player #id", no name): one
    query for the page, not one per row."""
    if not player_ids:
        return set()
    return set(
        Player.objects.filter(pk__in=player_ids, erased_at__isnull=False).values_list(
            "pk", flat=True
        )
    )


def _utc(moment: datetime) -> str:
    return f"{timezone.localtime(moment, UTC):%Y-%m-%d %H:%M} UTC"


ACTIONS = {"end-now": _end_now, "remove-entry": _remove_entry}
