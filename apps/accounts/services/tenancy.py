"""Writes for games, server keys and operator access."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.accounts import hotcache
from apps.accounts.markers import (
    REVOKED_SERVER_KEY,
    SERVER_KEY_CACHE_SECONDS,
    forget_markers,
    server_key_cache_key,
)
from apps.accounts.mirror import mirror, publish
from apps.accounts.models import Game, GameAccess, ServerKey, hash_key
from apps.accounts.operator_actions import announce_action

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedServerKey:
    server_key: ServerKey
    raw_key: str  # shown once, never stored


def create_server_key(*, game: Game, name: str, raw_key: str | None = None) -> IssuedServerKey:
    """Make a server key; pass raw_key only for seeded demo data."""
    raw_key = raw_key or f"sk_{secrets.token_urlsafe(32)}"
    server_key = ServerKey.objects.create(
        game=game, name=name, key_hash=hash_key(raw_key), prefix=raw_key[:8]
    )
    return IssuedServerKey(server_key=server_key, raw_key=raw_key)


@transaction.atomic
def revoke_server_key(*, server_key: ServerKey, actor: User | None = None) -> None:
    """Revoke the key (once; audited as `server_key.revoke` when it was live)."""
    revoked = ServerKey.objects.filter(pk=server_key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        announce_action(
            actor=actor,
            game=server_key.game,
            action="server_key.revoke",
            target=server_key,
            before={"name": server_key.name, "revoked": False},
            after={"name": server_key.name, "revoked": True},
        )
    # Every process reads keys through the shared cache and its mirror: drop both once the
    # revocation is in.
    transaction.on_commit(lambda: _forget_server_key(server_key.key_hash))


def _forget_server_key(key_hash: str) -> None:
    """Replace the key's cache entry by a tombstone and tell every mirror. Never raises: the
    revocation is committed, and an operator revoking several keys at once must get them all
    revoked. Should Redis be out of this process's reach, every mirror's sweep finds the
    revocation in the database within a second and writes the tombstone itself."""
    cache_key = server_key_cache_key(key_hash)
    try:
        if (client := hotcache.redis_client()) is None:
            cache.set(cache_key, REVOKED_SERVER_KEY, SERVER_KEY_CACHE_SECONDS)
            return
        publish(
            client, markers={cache_key: REVOKED_SERVER_KEY}, message={"server_keys": [key_hash]}
        )
        # Published (its tombstone written): this process's own next request must not wait
        # for the message to come back. Not after a failure: this mirror's sweep then writes
        # the tombstone, which it skips for keys its mirror already holds as revoked.
        mirror.note_revoked(server_keys=[key_hash])
    except Exception:
        logger.exception("server key revocation not published; making every mirror reload")
        forget_markers()
        try:
            cache.set(cache_key, REVOKED_SERVER_KEY, SERVER_KEY_CACHE_SECONDS)
        except Exception:
            logger.exception("server key tombstone not written; the mirrors' sweep writes it")


@transaction.atomic
def set_game_access(
    *, user: User, game: Game, role: str, access: GameAccess | None = None
) -> GameAccess:
    """Give `user` `role` in `game` and make them staff, without which the access is of no use.
    `access`: the grant to write (the admin's form, a new one or one being edited, which may
    name another user or game); otherwise the user's grant in the game, made or updated."""
    if access is None:
        access, _ = GameAccess.objects.update_or_create(
            user=user, game=game, defaults={"role": role}
        )
    else:
        access.user, access.game, access.role = user, game, role
        access.save()
    if not user.is_staff:
        user.is_staff = True  # the admin only lets staff in; what they see is scoped per game
        user.save(update_fields=["is_staff"])
    return access
