"""Re-encrypt every stored platform secret with the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.platforms.models import PlatformCredential
from gamingpanel import crypto


class Command(BaseCommand):
    help = "Re-encrypt stored platform secrets with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: object, **options: object) -> None:
        rotated = 0
        with transaction.atomic():
            credentials = PlatformCredential.objects.select_for_update().exclude(
                secrets_encrypted=""
            )
            for credential in credentials:
                credential.secrets_encrypted = crypto.rotate(credential.secrets_encrypted)
                credential.save(update_fields=["secrets_encrypted"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} credential(s) with the newest key.")
