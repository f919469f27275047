"""Who may see and change what in the panel pages, per game: the same roles as the admin.

A game the user has no role in answers 404 (its existence is not revealed); a change by someone
whose role only reads (an analyst) answers 403."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from apps.accounts.models import Game
from apps.accounts.selectors import READ_ROLES, WRITE_ROLES, games_for_user, user_role


class StaffRequest(HttpRequest):
    """The request a panel page gets: staff_member_required has let a signed-in operator in
    (for type checking; Django's HttpRequest at run time)."""

    user: User


def readable_game(request: StaffRequest, game_id: int) -> Game:
    game = games_for_user(request.user, roles=READ_ROLES).filter(pk=game_id).first()
    if game is None:
        raise Http404("No such game.")
    return game


def writable_game(request: StaffRequest, game_id: int) -> Game:
    game = readable_game(request, game_id)
    if not can_write(request, game):
        raise PermissionDenied("Your role in this game only reads.")
    return game


def can_write(request: StaffRequest, game: Game) -> bool:
    return user_role(request.user, game) in WRITE_ROLES
