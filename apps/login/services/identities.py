"""Linking and unlinking platform identities of a logged-in player."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.errors import (
    AccountDeleted,
    IdentityNotLinked,
    IdentityTaken,
    LastIdentity,
    PlatformAlreadyLinked,
)
from apps.accounts.models import AuthSession, PlatformIdentity, Player
from apps.accounts.services.sessions import revoke_sessions
from apps.login.services.login import (
    credentials_spent_unless_an_outage,
    move_to_new_id,
    verify_platform_user,
)
from apps.platforms.selectors import usable_credential
from apps.platforms.verifiers import VerifiedIdentity
from gamingpanel.errors import DomainError


def link_identity(
    *, player: Player, platform: str, credentials: Mapping[str, Any]
) -> PlatformIdentity:
    """Attach the platform account these credentials prove; linking it again changes nothing."""
    with credentials_spent_unless_an_outage():
        verified = verify_platform_user(
            game=player.game, platform=platform, credentials=credentials
        )
        return _attach(player, platform, verified)


@transaction.atomic
def _attach(player: Player, platform: str, verified: VerifiedIdentity) -> PlatformIdentity:
    # One link or unlink at a time per player, so "never the last one" holds under races. NO
    # KEY UPDATE (nothing here changes the player's key), as a ban's: a login's UPDATE and an
    # erasure still wait for it, a row naming the player (a refresh's session start) does not.
    locked = Player.objects.select_for_update(no_key=True).only("pk", "erased_at").get(pk=player.pk)
    if locked.erased_at is not None:
        # Erased while the platform verified the credentials (the token check passed before):
        # an identity made now would log that platform account into the tombstone for ever.
        raise AccountDeleted("This account was deleted.")
    move_to_new_id(game=player.game, platform=platform, identity=verified)
    lookup = {"game_id": player.game_id, "platform": platform}
    owned = PlatformIdentity.objects.filter(
        **lookup, platform_user_id=verified.platform_user_id
    ).first()
    if owned is not None and owned.player_id == player.pk:
        return owned
    if owned is not None:
        raise IdentityTaken(f"This {platform} account belongs to another player of this game.")
    if PlatformIdentity.objects.filter(player=player, platform=platform).exists():
        raise PlatformAlreadyLinked(f"Another {platform} account is linked; unlink it first.")
    try:
        with transaction.atomic():  # savepoint: a first login of that account may race us
            return PlatformIdentity.objects.create(
                player=player, platform_user_id=verified.platform_user_id, **lookup
            )
    except IntegrityError:
        raise IdentityTaken(f"This {platform} account belongs to another player of this game.")


@transaction.atomic
def unlink_identity(*, player: Player, platform: str) -> None:
    # As _attach's lock. With FOR UPDATE, a refresh that had locked one of the sessions revoked
    # below, and then inserted its session start (a key-share lock on this row), deadlocked.
    locked = Player.objects.select_for_update(no_key=True).only("pk", "erased_at").get(pk=player.pk)
    if locked.erased_at is not None:
        # Erased since the token check: the identities went with it, and "not linked" (404)
        # would hide from the client that its account is gone.
        raise AccountDeleted("This account was deleted.")
    identities = list(PlatformIdentity.objects.filter(player=player))
    linked = [identity for identity in identities if identity.platform == platform]
    if not linked:
        raise IdentityNotLinked(f"No {platform} account is linked to this player.")
    # What is left must let the player log in: an identity of a platform the game no longer
    # accepts (disabled, or dev out of sandbox) does not count.
    if not any(
        identity.platform != platform and _accepted(player, identity.platform)
        for identity in identities
    ):
        raise LastIdentity("This is the player's only identity; link another one first.")
    PlatformIdentity.objects.filter(pk__in=[identity.pk for identity in linked]).delete()
    # Whoever logged in with that account is out at once: its sessions could otherwise go on
    # refreshing for ever, and link it back. Every session of the platform, not only those
    # opened under the identity's current id: a player has one identity per platform, and one
    # whose id the platform changed (move_to_new_id) has sessions under the old id too. (A
    # login with it waits on the player lock above; after the unlink it finds no identity and
    # makes a new player.)
    revoke_sessions(
        sessions=AuthSession.objects.filter(player=player, platform=platform),
        reason=AuthSession.RevokeReason.IDENTITY_UNLINKED,
    )


def _accepted(player: Player, platform: str) -> bool:
    try:
        usable_credential(game=player.game, platform=platform)
    except DomainError:  # not configured, or a platform no longer supported
        return False
    return True
