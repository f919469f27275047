"""manage.py reset_two_factor <username>: an operator lost their authenticator app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.services import two_factor


class Command(BaseCommand):
    help = (
        "Remove an operator's two-factor device (audited as operator.otp_reset): they sign in "
        "with the password and set one up again. The admin shows no device or secret."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No operator is named {options['username']!r}.")
        if two_factor.reset(user=user):
            self.stdout.write(f"Two-factor sign-in of {user.username} removed.")
        else:
            self.stdout.write(f"{user.username} had no two-factor device.")
