"""Re-encrypt every stored secret (platform credentials, payment accounts: every field an app
registered with gamingpanel.crypto) with the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys.

A secret no configured key opens (written with a key already removed) cannot be re-encrypted:
it is left as it is and named, the others are re-encrypted all the same, and the command exits
1 so the rotation is not taken as complete; an operator enters those secrets again in the admin."""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gamingpanel import crypto


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: object, **options: object) -> None:
        counts: list[str] = []
        unreadable: list[str] = []
        with transaction.atomic():
            for model, field in crypto.encrypted_fields():
                rows = model._default_manager.select_for_update().exclude(**{field: ""})
                rotated = 0
                for row in rows:
                    try:
                        token = crypto.rotate(getattr(row, field))
                    except InvalidToken:
                        unreadable.append(f"{model._meta.verbose_name} #{row.pk} ({row})")
                        continue
                    setattr(row, field, token)
                    row.save(update_fields=[field])
                    rotated += 1
                counts.append(f"{rotated} {model._meta.verbose_name_plural}")
        self.stdout.write(f"Re-encrypted with the newest key: {', '.join(counts)}.")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} left as they are, no configured key opens their secrets "
                f"(enter them again in the admin): {'; '.join(unreadable)}.",
                returncode=1,
            )
