"""Player search, the player page, and the operator actions on it (POST, operators and owners).

Actions go through the owning app's services, which write the audit log in their transaction:
accounts' ban_player / unban_player / end_sessions / erase_player, inventory's operator_adjust
(the ledger). A ban, ending the sessions, a revoke, an erasure and a cloud-save restore ask first
(views/confirm.py). The data export is the API's (apps.accounts.privacy), downloaded as JSON."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST

from apps.accounts.admin_scoping import AtLeast
from apps.accounts.models import AuthSession, Game, Player
from apps.accounts.operator_actions import announce_action
from apps.accounts.privacy import export_player_data
from apps.accounts.selectors import (
    OWNER_ROLES,
    READ_ROLES,
    games_for_user,
    refuse_erased,
    user_role,
)
from apps.accounts.services.bans import ban_player, ban_seen, end_sessions, unban_player
from apps.accounts.services.privacy import erase_player
from apps.audit.diffs import readable_value
from apps.cloudsave.selectors import saves_for_operator
from apps.inventory.services import operator_adjust
from apps.panel.access import StaffRequest, readable_game, writable_game
from apps.panel.forms import BanForm, GrantForm, PlayerFilterForm, ReasonForm
from apps.panel.selectors import (
    LevelPages,
    SpendPages,
    actions_on_player,
    grant_targets,
    held,
    player_in_game,
    player_page,
    players_to_page,
    sessions_to_end,
    spend_currencies,
)
from apps.panel.services import claim_operator_key
from apps.panel.views.common import invalid_form, page_context
from apps.panel.views.confirm import ask_on_player_page, confirmed
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
        if action != "export":  # a tombstone's data can still be read; nothing is done to it
            refuse_erased(player)
        asked = handler(request, game, player)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.detail}")
    else:
        if asked is not None:  # the confirmation page: nothing done yet
            return asked
    return redirect("panel:player", game_id=game.pk, player_id=player.pk)


def _utc(moment: datetime) -> str:
    return f"{timezone.localtime(moment, UTC):%Y-%m-%d %H:%M} UTC"


def _reason(reason: str) -> str:
    return f"Reason, kept in the audit log: “{reason}”." if reason else "No reason given."


def _sessions_ending(player: Player) -> str:
    count = sessions_to_end(player=player)
    if not count:
        return f"{player} has no session to end."
    return f"{player}'s {count} session(s) end at once: the game refuses their tokens."


def _ban(request: StaffRequest, game: Game, player: Player) -> HttpResponse | None:
    form = BanForm(request.POST)
    if not form.is_valid():
        invalid_form(request, form)
        return None
    until: datetime | None = form.cleaned_data["until"]
    reason = form.cleaned_data["reason"].strip()
    if not confirmed(request, "seen_ban"):
        if player.is_banned and player.banned_until is not None:
            end = readable_value("banned_until", player.banned_until.isoformat())
            now = f"It replaces the ban {player} has now ({end}: “{player.ban_reason}”)."
        else:
            now = f"{player} is not banned now."
        return ask_on_player_page(
            request,
            game,
            player,
            question=f"Ban {player}?",
            facts=[
                f"{player} (player {player.pk}) is banned "
                + (f"until {_utc(until)}." if until else "until unbanned (no end)."),
                _reason(reason),
                _sessions_ending(player),
                now,
            ],
            button=f"Ban {player}",
            # The ban applies only over the one this page shows: sent twice, the second finds
            # the first's.
            seen={"seen_ban": ban_seen(player)},
        )
    ban_player(
        player=player,
        reason=reason,
        until=until,
        actor=request.user,
        seen=request.POST["seen_ban"],
    )
    ends = f" until {_utc(until)}" if until else ""
    messages.success(request, f"{player} is banned{ends}.")
    return None


def _unban(request: StaffRequest, game: Game, player: Player) -> None:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        invalid_form(request, form)
        return None
    unban_player(player=player, reason=form.cleaned_data["reason"], actor=request.user)
    messages.success(request, f"{player} is no longer banned.")


def _revoke_sessions(request: StaffRequest, game: Game, player: Player) -> HttpResponse | None:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        invalid_form(request, form)
        return None
    reason = form.cleaned_data["reason"].strip()
    if not confirmed(request):
        return ask_on_player_page(
            request,
            game,
            player,
            question=f"End {player}'s sessions?",
            facts=[
                _sessions_ending(player),
                "The player must log in again on every device.",
                _reason(reason),
            ],
            button=f"End {player}'s sessions",
        )
    # Only sessions not ended yet are ended (and audited): a confirmation sent twice ends none.
    ended = end_sessions(
        sessions=AuthSession.objects.filter(player=player), actor=request.user, reason=reason
    )
    if ended:
        messages.success(request, f"Ended {ended} session(s); the player must log in again.")
    else:
        messages.info(request, f"{player} had no session left to end; nothing changed.")
    return None


def _grant(request: StaffRequest, game: Game, player: Player) -> HttpResponse | None:
    currencies, items = grant_targets(game=game)
    form = GrantForm(request.POST, currencies=currencies, items=items)
    if not form.is_valid():
        invalid_form(request, form)
        return None
    change = form.change()
    note = form.cleaned_data["reason"].strip()
    # A grant takes nothing away; a revoke asks first. The form's key makes either happen once.
    if change.delta < 0 and not confirmed(request):
        taken, code = -change.delta, change.code
        has = held(player=player, kind=change.kind, code=code)
        return ask_on_player_page(
            request,
            game,
            player,
            question=f"Revoke {taken} {code} from {player}?",
            facts=[
                f"{taken} {code} are taken from {player} through the ledger: {has} → {has - taken}."
                if has >= taken
                else f"{player} holds only {has} {code}: the ledger refuses to take {taken}, "
                "and nothing changes.",
                f"Reason, kept on the ledger entry and in the audit log: “{note}”.",
            ],
            button=f"Revoke {taken} {code}",
        )
    key = form.cleaned_data["idempotency_key"]
    with transaction.atomic():
        # The key names this change to this player: the ledger's own key is per player, so
        # without the claim the form's key sent for another player (or another change of the
        # same) applied that too.
        action = {"grant": player.pk, "kind": change.kind, "code": change.code}
        claim_operator_key(game=game, key=key, action={**action, "delta": change.delta})
        result = operator_adjust(
            actor=request.user,
            player=player,
            change=change,
            note=note,
            idempotency_key=f"panel:{key}",
        )
    entries = result.entries
    if result.replayed:
        messages.info(request, "That form was already submitted; nothing changed.")
    elif entries:
        verb = "Granted" if change.delta > 0 else "Revoked"
        messages.success(
            request, f"{verb} {abs(change.delta)} {change.code}; now {entries[0].balance_after}."
        )
    return None


def _export(request: StaffRequest, game: Game, player: Player) -> HttpResponse:
    """The player's data, as GET player/data-export answers it, downloaded as a JSON file; the
    download is audited (it hands out personal data)."""
    data = export_player_data(player)
    with transaction.atomic():
        announce_action(actor=request.user, game=game, action=EXPORT_ACTION, target=player)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="player-{player.pk}-data.json"'
    return response


def _erase(request: StaffRequest, game: Game, player: Player) -> HttpResponse | None:
    # No reason asked: the audit entry stays free of anything typed about the player.
    if player.erased_at is not None:
        messages.info(request, f"{player} was already erased; nothing changed.")
        return None
    if not confirmed(request):
        return ask_on_player_page(
            request,
            game,
            player,
            question=f"Erase {player}'s account?",
            facts=[
                f"{player} (player {player.pk}) loses their name, platform identities, cloud "
                "saves, raw analytics events and open leaderboard entries, for good.",
                _sessions_ending(player),
                "Their ledger, purchases, payments and match results stay, under the player's "
                "id only (accounting). Logging in again with the same platform account makes a "
                "new player.",
                "The audit log records the erasure, without the player's name.",
            ],
            button=f"Erase {player}",
        )
    # Erasing an erased player changes nothing: a confirmation sent twice erases once.
    if erase_player(player=player, actor=request.user):
        messages.success(request, f"Player {player.pk}'s account is erased.")
    else:
        messages.info(request, f"Player {player.pk} was already erased; nothing changed.")
    return None


EXPORT_ACTION = "player.export"

ACTIONS = {
    "export": _export,
    "erase": _erase,
    "ban": _ban,
    "unban": _unban,
    "revoke-sessions": _revoke_sessions,
    "grant": _grant,
    "restore-save": restore_save,
}
