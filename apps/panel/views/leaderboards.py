"""Leaderboards in the panel: a game's boards, and per board the top of a period, a player's
entry, the history of periods, their payouts, the dry-run preview of the bracket rewards and the
operator actions "end now" and "remove an entry" (POST; operators and owners). Actions go through
the leaderboards' services, which write the audit log in their transaction."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.models import Game
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
from apps.panel.selectors import leaderboard_player
from apps.panel.views.common import page_context
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
        period = Period.objects.filter(
            board=board, number=number if number.isascii() and number.isdigit() else 0
        ).first()
    if period is None:
        raise Http404("No such period.")
    search = (request.GET.get("player") or "").strip()
    found = None
    if search:
        player_id = leaderboard_player(game=game, period=period, search=search)
        found = player_entry(period=period, player_id=player_id) if player_id else None
    context = page_context(
        request,
        game,
        title=f"{board.name} ({game.name})",
        gp_section="leaderboards",
        board=board,
        period=period,
        open_period=open_one,
        top=top_entries(period=period, limit=TOP).results,
        search=search,
        found=found,
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
    reason = (request.POST.get("reason") or "").strip()[:300]
    # The period the page showed, not whichever is open when the form arrives: a period that
    # closed meanwhile (its schedule, another operator, a second click) is not followed by an
    # action on the next one.
    number = request.POST.get("period") or ""
    period = Period.objects.filter(
        board=board, number=int(number) if number.isascii() and number.isdigit() else 0
    ).first()
    if period is None:
        raise Http404("No such period.")
    try:
        if action == "end-now":
            closed = close_period(period_id=period.pk, actor=request.user, reason=reason)
            if closed is None:
                messages.info(request, f"Period {period.number} was closed already.")
            else:
                messages.success(request, f"Ended period {closed.number}; payouts follow.")
        elif action == "remove-entry":
            player_id = request.POST.get("player_id") or ""
            entry = Entry.objects.filter(
                period=period,
                player_id=int(player_id) if player_id.isascii() and player_id.isdigit() else 0,
            ).first()
            if entry is None:
                raise Http404("No such entry.")
            remove_entry(entry=entry, actor=request.user, reason=reason)
            messages.success(request, f"Removed player {entry.player_id}'s entry.")
        else:
            raise Http404("No such action.")
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.detail}")
    return redirect("panel:leaderboard", game_id=game.pk, board_id=board.pk)
