"""`manage.py seed_demo`: the sandbox demo game, idempotently (apps/devdocs/demo_seed.py)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.demo import DEMO_ADMIN_PASSWORD, DEMO_ADMIN_USERNAME, demo_logins
from apps.devdocs.demo_seed import seed_demo_game


class Command(BaseCommand):
    help = "Create or update the sandbox demo game (local development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: object, quiet: bool = False, **options: object) -> None:
        if not (settings.DEBUG or settings.TESTING):
            raise CommandError("The demo game has public keys: seed it only with DJANGO_DEBUG=1.")
        game = seed_demo_game()
        if quiet:
            return
        port = os.environ.get("PORT", "8000")
        logins = demo_logins(game)
        password = {
            "demo": DEMO_ADMIN_PASSWORD,
            "changed": "(your own: the password was changed since the first seed and is left"
            f" as it is; `manage.py changepassword {DEMO_ADMIN_USERNAME}` sets another)",
        }.get(logins.admin, "(this user is inactive: reactivate it, or sign in as another)")
        server_key = {
            "live": f"{settings.DEMO_SERVER_KEY}   (X-Server-Key)",
            "revoked": f"none: {settings.DEMO_SERVER_KEY} was revoked and stays revoked;"
            " make a server key in the admin",
        }.get(logins.server_key, f"none: {settings.DEMO_SERVER_KEY} is another game's key")
        self.stdout.write(
            self.style.SUCCESS("Demo game ready.")
            + f"\n  Panel:       http://127.0.0.1:{port}/panel/  (admin: http://127.0.0.1:{port}/admin/)"
            + f"\n  Login:       {DEMO_ADMIN_USERNAME} / {password}"
            + f"\n  Client key:  {game.client_key}   (X-Game-Key)"
            + f"\n  Server key:  {server_key}"
            + f"\n  API docs:    http://127.0.0.1:{port}/api/v1/docs/"
        )
