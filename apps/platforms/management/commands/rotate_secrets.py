"""Re-encrypt every stored secret (platform credentials, payment accounts: every field an app
registered with gamingpanel.crypto) with the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from gamingpanel import crypto


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: object, **options: object) -> None:
        counts: list[str] = []
        with transaction.atomic():
            for model, field in crypto.encrypted_fields():
                rows = model._default_manager.select_for_update().exclude(**{field: ""})
                rotated = 0
                for row in rows:
                    setattr(row, field, crypto.rotate(getattr(row, field)))
                    row.save(update_fields=[field])
                    rotated += 1
                counts.append(f"{rotated} {model._meta.verbose_name_plural}")
        self.stdout.write(f"Re-encrypted with the newest key: {', '.join(counts)}.")
