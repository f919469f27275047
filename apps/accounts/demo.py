"""The demo tenant: a sandbox game with the well-known demo keys and a demo operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from apps.accounts.models import Game, GameAccess, PlatformIdentity, Player, ServerKey, hash_key
from apps.accounts.services import create_server_key, set_game_access

DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "admin"  # noqa: S105 - local demo only; seeding refuses outside DEBUG


def seed(game: Game) -> None:
    if not ServerKey.objects.filter(key_hash=hash_key(settings.DEMO_SERVER_KEY)).exists():
        create_server_key(game=game, name="Demo server", raw_key=settings.DEMO_SERVER_KEY)
    user_model = get_user_model()
    admin, created = user_model.objects.get_or_create(
        username=DEMO_ADMIN_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        admin.set_password(DEMO_ADMIN_PASSWORD)
        admin.save()
    set_game_access(user=admin, game=game, role=GameAccess.Role.OWNER)


def demo_player(game: Game, name: str, *, created_at: datetime) -> Player:
    """The demo player of this name, made the first time: found again as the first made of the
    game's players so named that no platform login made (a dev login may pick the same display
    name, an operator may rename a player to it), so a re-seed finds the same one whatever else
    is named so."""
    found = (
        Player.objects.filter(game=game, display_name=name)
        .exclude(Exists(PlatformIdentity.objects.filter(player_id=OuterRef("pk"))))
        .order_by("pk")
        .first()
    )
    return found or Player.objects.create(game=game, display_name=name, created_at=created_at)


@dataclass(frozen=True)
class DemoLogins:
    """How the documented demo logins stand now. A re-seed never undoes an operator's choice:
    a changed admin password stays, a revoked demo server key stays revoked (its hash is taken,
    so it cannot be made again either); what seed_demo prints says so."""

    admin: str  # "demo": signs in with DEMO_ADMIN_PASSWORD; "changed"; "inactive"
    server_key: str  # "live": a live key of the demo game; "revoked"; "other_game"


def demo_logins(game: Game) -> DemoLogins:
    admin = get_user_model().objects.filter(username=DEMO_ADMIN_USERNAME).first()
    if admin is None or not admin.is_active:
        admin_state = "inactive"
    else:
        admin_state = "demo" if admin.check_password(DEMO_ADMIN_PASSWORD) else "changed"
    key = ServerKey.objects.filter(key_hash=hash_key(settings.DEMO_SERVER_KEY)).first()
    if key is None or key.game_id != game.pk:
        key_state = "other_game"
    else:
        key_state = "live" if key.is_active else "revoked"
    return DemoLogins(admin=admin_state, server_key=key_state)


def demo_game() -> Game:
    game, _ = Game.objects.get_or_create(
        slug="demo",
        defaults={
            "name": "Demo",
            "client_key": settings.DEMO_CLIENT_KEY,
            "sandbox": True,
            "starting_grant": {"gold": 500},
        },
    )
    return game
