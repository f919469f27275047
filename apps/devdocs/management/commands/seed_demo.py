"""`manage.py seed_demo`: the sandbox demo game, idempotently (apps/devdocs/demo_seed.py)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.demo import DEMO_ADMIN_PASSWORD, DEMO_ADMIN_USERNAME
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
        self.stdout.write(
            self.style.SUCCESS("Demo game ready.")
            + f"\n  Panel:       http://127.0.0.1:{port}/panel/  (admin: http://127.0.0.1:{port}/admin/)"
            + f"\n  Login:       {DEMO_ADMIN_USERNAME} / {DEMO_ADMIN_PASSWORD}"
            + f"\n  Client key:  {game.client_key}   (X-Game-Key)"
            + f"\n  Server key:  {settings.DEMO_SERVER_KEY}   (X-Server-Key)"
            + f"\n  API docs:    http://127.0.0.1:{port}/api/v1/docs/"
        )
