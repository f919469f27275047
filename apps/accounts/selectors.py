"""Reads for tenancy: which game a key names, what an operator may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from apps.accounts.models import Game, GameAccess, PlatformIdentity, Player, ServerKey, hash_key

READ_ROLES = frozenset(GameAccess.Role.values)
WRITE_ROLES = frozenset({GameAccess.Role.OWNER, GameAccess.Role.OPERATOR})
OWNER_ROLES = frozenset({GameAccess.Role.OWNER})


def game_by_client_key(client_key: str) -> Game | None:
    return Game.objects.filter(client_key=client_key).first() if client_key else None


def active_server_key(raw_key: str) -> ServerKey | None:
    if not raw_key:
        return None
    return (
        ServerKey.objects.select_related("game")
        .filter(key_hash=hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )


def games_for_user(user: AbstractBaseUser, *, roles: frozenset[str] = READ_ROLES) -> QuerySet[Game]:
    """Games this operator may act on in one of `roles`; superusers act on all of them."""
    if not (user.is_authenticated and user.is_active):
        return Game.objects.none()
    if user.is_superuser:
        return Game.objects.all()
    return Game.objects.filter(accesses__user=user, accesses__role__in=roles).distinct()


def user_role(user: AbstractBaseUser, game: Game | int) -> str | None:
    if user.is_superuser:
        return GameAccess.Role.OWNER
    game_id = game if isinstance(game, int) else game.pk
    return (
        GameAccess.objects.filter(user=user, game_id=game_id).values_list("role", flat=True).first()
    )


def identities_of(*, player: Player) -> list[PlatformIdentity]:
    return list(PlatformIdentity.objects.filter(player=player).order_by("platform", "created_at"))
