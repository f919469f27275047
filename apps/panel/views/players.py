"""Player search, the player page, and the operator actions on it (POST, operators and owners).

Actions go through the owning app's services, which write the audit log in their transaction:
accounts' ban_player / unban_player / end_sessions, inventory's operator_adjust (the ledger)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST

from apps.accounts.admin_scoping import AtLeast
from apps.accounts.models import AuthSession, Game, Player
from apps.accounts.selectors import OWNER_ROLES, READ_ROLES, games_for_user, user_role
from apps.accounts.services.bans import ban_player, end_sessions, unban_player
from apps.cloudsave.selectors import saves_for_operator
from apps.inventory.services import operator_adjust
from apps.panel.access import StaffRequest, readable_game, writable_game
from apps.panel.forms import BanForm, GrantForm, PlayerFilterForm, ReasonForm
from apps.panel.selectors import (
    LevelPages,
    SpendPages,
    actions_on_player,
    grant_targets,
    player_in_game,
    player_page,
    players_to_page,
    spend_currencies,
)
from apps.panel.views.common import page_context
from apps.panel.views.saves import restore_save
from gamingpanel.errors import DomainError

PAGE_SIZE = 50
MAX_PAGES = 100


class CappedPaginator(Paginator):
    """Offers the first MAX_PAGES pages: a page further on is an OFFSET the database reads, and
    throws away, every row before (page 4,000 of 200,000 players read all of them). Nor does it
    count further, as the admin's CappedCountPaginator: past MAX_PAGES pages of players the
    total reads "5000+" (a COUNT(*) of every player matched read them all on each page)."""

    def __init__(self, players: QuerySet | LevelPages | SpendPages, per_page: int) -> None:
        # LevelPages and SpendPages are only sliced (Paginator.page): their count is this
        # paginator's own.
        super().__init__(cast(Any, players), per_page)
        self.players = players

    @cached_property
    def count(self) -> int:
        rows = self.players
        players = rows if isinstance(rows, QuerySet) else rows.players
        cap = self.per_page * MAX_PAGES
        # Unsorted, the ids alone (not the page's XP, a subquery per player): the database stops
        # at the cap's row.
        found = players.order_by().values("pk")[: cap + 1].count()
        return AtLeast(cap) if found > cap else found

    @property
    def capped(self) -> bool:
        return isinstance(self.count, AtLeast)


@staff_member_required
def players_home(request: StaffRequest) -> HttpResponse:
    game = games_for_user(request.user, roles=READ_ROLES).order_by("name").first()
    if game is None:
        return redirect("panel:home")
    return redirect("panel:players", game_id=game.pk)


@staff_member_required
def player_search(request: StaffRequest, game_id: int) -> HttpResponse:
    game = readable_game(request, game_id)
    form = PlayerFilterForm(request.GET or None)
    players = players_to_page(game=game, filters=form.filters(), sort=form.sort_order())
    page = CappedPaginator(players, PAGE_SIZE).get_page(request.GET.get("page"))
    context = page_context(
        request,
        game,
        title=f"{game.name} players",
        gp_section="players",
        form=form,
        query=form.filters().query,
        page=page,
        players=page.object_list,
        # Not page.end_index(): on the last page it is the total, "5000+" when capped.
        shown_to=page.start_index() + len(page.object_list) - 1,
        spend_currencies=spend_currencies(game=game),
    )
    return render(request, "panel/players.html", context)


def _player(game: Game, player_id: int) -> Player:
    player = player_in_game(game=game, player_id=player_id)
    if player is None:
        raise Http404("No such player in this game.")
    return player


@staff_member_required
def player_detail(request: StaffRequest, game_id: int, player_id: int) -> HttpResponse:
    game = readable_game(request, game_id)
    player = _player(game, player_id)
    currencies, items = grant_targets(game=game)
    context = page_context(
        request,
        game,
        title=str(player),
        gp_section="players",
        player=player,
        # One page, several forms with a reason: ids of their own, so each label names its field.
        ban_form=BanForm(auto_id="ban-%s"),
        unban_form=ReasonForm(auto_id="unban-%s"),
        reason_form=ReasonForm(auto_id="revoke-%s"),
        grant_form=GrantForm(
            currencies=currencies,
            items=items,
            initial={"idempotency_key": uuid.uuid4().hex},
            auto_id="grant-%s",
        ),
        audit=actions_on_player(player=player)
        if user_role(request.user, game) in OWNER_ROLES
        else None,
        saves=saves_for_operator(player=player),
        **player_page(player=player),
    )
    return render(request, "panel/player.html", context)


@require_POST
@staff_member_required
def player_action(request: StaffRequest, game_id: int, player_id: int, action: str) -> HttpResponse:
    game = writable_game(request, game_id)  # 404 for another game, 403 for an analyst
    player = _player(game, player_id)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    try:
        handler(request, game, player)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.detail}")
    return redirect("panel:player", game_id=game.pk, player_id=player.pk)


def _ban(request: StaffRequest, game: Game, player: Player) -> None:
    form = BanForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    until: datetime | None = form.cleaned_data["until"]
    ban_player(player=player, reason=form.cleaned_data["reason"], until=until, actor=request.user)
    ends = f" until {timezone.localtime(until, UTC):%Y-%m-%d %H:%M} UTC" if until else ""
    messages.success(request, f"{player} is banned{ends}.")


def _unban(request: StaffRequest, game: Game, player: Player) -> None:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    unban_player(player=player, reason=form.cleaned_data["reason"], actor=request.user)
    messages.success(request, f"{player} is no longer banned.")


def _revoke_sessions(request: StaffRequest, game: Game, player: Player) -> None:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    ended = end_sessions(
        sessions=AuthSession.objects.filter(player=player),
        actor=request.user,
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, f"Ended {ended} session(s); the player must log in again.")


def _grant(request: StaffRequest, game: Game, player: Player) -> None:
    currencies, items = grant_targets(game=game)
    form = GrantForm(request.POST, currencies=currencies, items=items)
    if not form.is_valid():
        return _invalid(request, form)
    change = form.change()
    result = operator_adjust(
        actor=request.user,
        player=player,
        change=change,
        note=form.cleaned_data["reason"].strip(),
        idempotency_key=f"panel:{form.cleaned_data['idempotency_key']}",
    )
    entries = result.entries
    if result.replayed:
        messages.info(request, "That form was already submitted; nothing changed.")
    elif entries:
        verb = "Granted" if change.delta > 0 else "Revoked"
        messages.success(
            request, f"{verb} {abs(change.delta)} {change.code}; now {entries[0].balance_after}."
        )


def _invalid(request: StaffRequest, form) -> None:
    problems = "; ".join(
        f"{name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
        for name, errors in form.errors.items()
    )
    messages.error(request, f"Nothing changed: {problems}")


ACTIONS = {
    "ban": _ban,
    "unban": _unban,
    "revoke-sessions": _revoke_sessions,
    "grant": _grant,
    "restore-save": restore_save,
}
