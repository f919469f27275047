"""Deployment checks: `manage.py check --deploy` fails while demo keys could let anyone in."""

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
