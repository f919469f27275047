"""The demo tenant: a sandbox game with the well-known demo keys and a demo operator."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model

from apps.accounts.models import Game, GameAccess, ServerKey, hash_key
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
