"""Secrets typed into a platform credential's plain config move into its encrypted secrets.

Until config refused them, a `publisher_key` or a `client_secret` could be saved in config,
stored and shown in clear. Each config key holding a secret (by the verifiers' declarations,
apps/platforms/secret_settings.py) moves into the secrets where that slot is empty; where the
secrets already hold another value, config's is kept beside it as `<key>_from_config`. A
verifier reads config and secrets merged, secrets winning, so every login reads what it read
before. A credential whose secrets cannot be decrypted is left as it is (with a warning)."""

from django.db import migrations

from apps.platforms.secret_settings import move_stored_secrets
from apps.platforms.verifiers import declared_settings


def move_secrets_out_of_config(apps, schema_editor):
    move_stored_secrets(
        apps.get_model("platforms", "PlatformCredential"),
        kind="platform",
        declared=declared_settings,
    )


class Migration(migrations.Migration):
    dependencies = [("platforms", "0001_initial")]

    # Not reversed: putting secrets back in clear is what this removes.
    operations = [migrations.RunPython(move_secrets_out_of_config, migrations.RunPython.noop)]
