"""Erasing a player's account (the player's DELETE player, or an operator on the panel).

The Player row stays as a tombstone (`erased_at`): the ledger, purchases and payments name it
and are kept for accounting. Everything personal goes in one transaction, under the player's
row lock: the name and ban reason, the platform identities (a new login with the same account
makes a new player), every session (revoked through the sessions service, so every process's
revocation mirror sees it; the platform account id each kept is cleared), and what each app registered in apps.accounts.privacy.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import AuthSession, PlatformIdentity, Player
from apps.accounts.operator_actions import announce_action
from apps.accounts.privacy import erasure_order
from apps.accounts.revocation import publish_revocations
from apps.accounts.services.sessions import revoke_sessions

ERASE_ACTION = "player.erase"


@transaction.atomic
def erase_player(*, player: Player, actor: User | None) -> bool:
    """Erase the player's personal data; `actor` is the operator, None when the player asked.
    False, and nothing done, when the player was already erased (a retry, two at once: the
    second waits on the lock, then finds the first's)."""
    sections = erasure_order()
    for section in sections:
        if section.lock is not None:
            section.lock(player)
    # NO KEY UPDATE: the rows that name the player (a save, a score, a purchase racing this)
    # take KEY SHARE on it and are not held up; each app's erase then sees what they committed
    # before it ran, and what they start after is refused: the sessions are revoked.
    locked = (
        Player.objects.select_for_update(of=("self",), no_key=True)
        .select_related("game")
        .filter(pk=player.pk)
        .first()
    )
    if locked is None or locked.erased_at is not None:
        return False
    locked.erased_at = timezone.now()
    locked.display_name = ""
    locked.ban_reason = ""
    locked.save(update_fields=["erased_at", "display_name", "ban_reason"])
    PlatformIdentity.objects.filter(player=locked).delete()
    revoke_sessions(
        sessions=AuthSession.objects.filter(player=locked),
        reason=AuthSession.RevokeReason.PLAYER_ERASED,
    )
    # The revoked sessions are kept until they expire; the platform account's id goes with
    # the identities, not weeks later.
    AuthSession.objects.filter(player=locked).exclude(platform_user_id="").update(
        platform_user_id=""
    )
    _relabel_banned_sessions(locked)
    for section in sections:
        if section.erase is not None:
            section.erase(locked)
    # Nothing personal in the entry: the target reads "erased player #<id>".
    announce_action(
        actor=actor,
        actor_name="" if actor is not None else self_service_actor(locked),
        game=locked.game,
        action=ERASE_ACTION,
        target=locked,
        after={"erased_by": "operator" if actor is not None else "player"},
    )
    player.erased_at, player.display_name, player.ban_reason = locked.erased_at, "", ""
    return True


def self_service_actor(player: Player) -> str:
    """Who the audit log names for what a player asked for themself."""
    return f"player #{player.pk} (self-service)"


def _relabel_banned_sessions(player: Player) -> None:
    """Sessions a ban ended whose access tokens may still be alive say `player_erased` from now
    on (their tokens get 401 token_revoked, as every other session's do): the account is gone,
    and a client told "banned" would not learn it."""
    since = timezone.now() - settings.ACCESS_TOKEN_LIFETIME
    ended = list(
        AuthSession.objects.filter(
            player=player,
            revoked_at__gte=since,
            revoke_reason__in=[
                AuthSession.RevokeReason.PLAYER_BANNED,
                AuthSession.RevokeReason.BAN_ENDED,
            ],
        ).values_list("pk", flat=True)
    )
    if not ended:
        return
    reason = AuthSession.RevokeReason.PLAYER_ERASED
    AuthSession.objects.filter(pk__in=ended).update(revoke_reason=reason)
    transaction.on_commit(lambda: publish_revocations(dict.fromkeys(ended, str(reason))))
