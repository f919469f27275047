"""System checks: token and field keys must be usable; `check --deploy` fails while demo keys are
live."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def demo_keys_absent(app_configs: object, **kwargs: object) -> list[Error]:
    if settings.DEBUG:
        return []
    from apps.accounts.models import Game, ServerKey, hash_key

    try:
        demo_game = Game.objects.filter(client_key=settings.DEMO_CLIENT_KEY).exists()
        demo_server = ServerKey.objects.filter(
            key_hash=hash_key(settings.DEMO_SERVER_KEY), revoked_at__isnull=True
        ).exists()
    except DatabaseError:
        return []  # not migrated yet: nothing to leak
    if demo_game or demo_server:
        return [
            Error(
                "The demo game's public keys are live in production.",
                hint="Change the demo game's client key and revoke demo-server-key in the admin.",
                id="gamingpanel.E001",
            )
        ]
    return []


@register(Tags.security)
def token_keys_usable(app_configs: object, **kwargs: object) -> list[Error]:
    """A malformed TOKEN_ENCRYPTION_KEYS stops start-up, not the first login."""
    from django.core.exceptions import ImproperlyConfigured

    from apps.accounts.tokens import key_ring

    try:
        key_ring()
    except ImproperlyConfigured as problem:
        return [Error(str(problem), id="gamingpanel.E002")]
    return []


@register(Tags.security)
def field_keys_usable(app_configs: object, **kwargs: object) -> list[Error]:
    """A malformed FIELD_ENCRYPTION_KEYS stops start-up, not an operator's first save of
    platform credentials (a 500 then)."""
    from gamingpanel.crypto import key_ring

    try:
        key_ring()
    except ValueError:  # a key that is not 32 url-safe base64 bytes, or none at all
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes), newest "
                "first, separated by commas.",
                hint='python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"',
                id="gamingpanel.E003",
            )
        ]
    return []
