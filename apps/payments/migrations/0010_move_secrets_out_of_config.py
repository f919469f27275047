"""Secrets typed into a payment account's plain config move into its encrypted secrets.

Until config refused them, a `secret_key` or a `private_key` could be saved in config, stored
and shown in clear, where no provider reads it (providers read secrets from the secrets only).
Each config key holding a secret (PROVIDER_SETTINGS, apps/platforms/secret_settings.py) moves
into the secrets where that slot is empty, and from then on is used as the owner meant; where
the secrets already hold another value (the one in use), config's is kept beside it as
`<key>_from_config`. An account whose secrets cannot be decrypted is left as it is (with a
warning)."""

from django.db import migrations

from apps.payments.models import provider_settings
from apps.platforms.secret_settings import move_stored_secrets


def move_secrets_out_of_config(apps, schema_editor):
    move_stored_secrets(
        apps.get_model("payments", "ProviderAccount"), kind="provider", declared=provider_settings
    )


class Migration(migrations.Migration):
    dependencies = [("payments", "0009_payment_expires_at")]

    # Not reversed: putting secrets back in clear is what this removes.
    operations = [migrations.RunPython(move_secrets_out_of_config, migrations.RunPython.noop)]
