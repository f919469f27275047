"""Reads of the games' platform credentials."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

from apps.accounts.models import Game
from apps.platforms.errors import PlatformNotConfigured
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import get_verifier
from gamingpanel.shortcache import ShortCache

# How stale a game's platform credential may be, in each process: every login and link reads
# it. Disabling a credential, or changing its config or secrets, reaches logins within this
# bound; a credential that does not exist is never kept, so a new one works at once.
CREDENTIAL_SECONDS = 2.0
COLUMNS = tuple(field.attname for field in PlatformCredential._meta.concrete_fields)
_credential_rows: ShortCache[tuple[object, ...]] = ShortCache(seconds=CREDENTIAL_SECONDS)


def platform_credential(*, game: Game, platform: str) -> PlatformCredential | None:
    """The game's credential for `platform`, enabled or not, with `game` as its game: read from
    the database at most once per CREDENTIAL_SECONDS per process; a new instance each call.
    Secrets stay encrypted in the cache: each call decrypts its own copy."""
    values = _credential_rows.get_or_load(
        (game.pk, platform),
        lambda: (
            PlatformCredential.objects.filter(game=game, platform=platform)
            .values_list(*COLUMNS)
            .first()
        ),
    )
    if values is None:
        return None
    credential = PlatformCredential.from_db(DEFAULT_DB_ALIAS, COLUMNS, values)
    credential.game = game  # verifier_config reads the sandbox flag from it
    return credential


def usable_credential(*, game: Game, platform: str) -> PlatformCredential:
    """The game's enabled credential for `platform`, the platform's own conditions met (the dev
    platform: a sandbox game): asked before a login verifies anyone, and before a refresh
    extends a session that platform opened. PlatformNotConfigured otherwise."""
    verifier = get_verifier(platform)
    credential = platform_credential(game=game, platform=platform)
    if credential is None or not credential.enabled:
        raise PlatformNotConfigured(f"{platform} login is not enabled for this game.")
    check_config = getattr(verifier, "check_config", None)  # only platforms with conditions
    if check_config is not None:
        check_config(credential.verifier_config())
    return credential
