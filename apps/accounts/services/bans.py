"""Operators ban and unban players and end sessions; each act lands in the audit log."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL, AuthSession, Player
from apps.accounts.operator_actions import announce_action
from apps.accounts.revocation import publish_revocations
from apps.accounts.selectors import refuse_erased
from apps.accounts.services.sessions import revoke_sessions
from gamingpanel.errors import Conflict, InvalidInput

MAX_REASON_LENGTH = 300


def _ban_state(player: Player, *, segment_action: int | None = None) -> dict[str, Any]:
    until = player.banned_until
    state: dict[str, Any] = {
        "banned_until": until.isoformat() if until else None,
        "ban_reason": player.ban_reason,
    }
    if segment_action is not None:
        state["segment_action"] = segment_action  # the ban's origin: that segment run placed it
    return state


def ban_seen(player: Player) -> str:
    """The player's ban (or none) as a page showed it, for `ban_player(seen=...)`: short, and
    without the reason's text."""
    until = player.banned_until.isoformat() if player.banned_until else "none"
    return hashlib.sha256(f"{until}\n{player.ban_reason}".encode()).hexdigest()[:16]


def stored_reason(reason: str) -> str:
    """A ban's reason as ban_player stores it."""
    return (reason or "").strip()[:MAX_REASON_LENGTH]


@transaction.atomic
def ban_player(
    *,
    player: Player,
    reason: str,
    until: datetime | None,
    actor: User | None,
    extend_only: bool = False,
    seen: str | None = None,
    segment_action: int | None = None,
) -> Player:
    """Ban until `until` (None: until unbanned). Ends every session of the player at once.
    `extend_only` (a ban of many players at once): a player already banned as long or longer
    keeps that ban and its reason. `seen` (an operator's confirmed ban): the `ban_seen` of the
    page that asked; if the player's ban is another now (that ban sent twice, another
    operator's since) or already this one, Conflict and nothing changes. `segment_action`: the
    segment run placing it, named in the ban's audit entry (`after["segment_action"]`): the
    ban's origin, which an undo of that run reads (a ban set by hand names none)."""
    reason = stored_reason(reason)
    if not reason:
        raise InvalidInput("A ban needs a reason.")
    until = until or PERMANENT_BAN_UNTIL
    if until <= timezone.now():
        raise InvalidInput("A ban must end in the future.")
    # Lock the player: a login racing the ban either sees it or has its session revoked below.
    # The player's row only (of=self): locking its game's row too would stall every write of
    # the game (each insert naming the game shares that row) for as long as a segment ban runs.
    # NO KEY UPDATE (a ban changes no key): a login's UPDATE, an erasure and the FOR SHARE of a
    # score still wait for it, but not an insert naming the player (KEY SHARE), such as the
    # session_start of a refresh that locked its session before the ban asked for it: the ban
    # waits for that session, so with FOR UPDATE the two deadlocked and one of them failed.
    locked = (
        Player.objects.select_for_update(of=("self",), no_key=True)
        .select_related("game")
        .get(pk=player.pk)
    )
    refuse_erased(locked)  # a tombstone has no sessions, and nothing to ban
    if extend_only and locked.is_banned and locked.banned_until >= until:  # type: ignore[operator]
        return locked
    if seen is not None:
        _check_seen(locked, seen=seen, until=until, reason=reason)
    before = _ban_state(locked)
    locked.banned_until, locked.ban_reason = until, reason
    locked.save(update_fields=["banned_until", "ban_reason"])
    revoke_sessions(
        sessions=AuthSession.objects.filter(player=locked),
        reason=AuthSession.RevokeReason.PLAYER_BANNED,
    )
    # Sessions an earlier ban ended, whose tokens an unban (or its lapse) made say "log in
    # again": banned again, they say banned.
    _relabel_ended_sessions(
        locked, AuthSession.RevokeReason.BAN_ENDED, AuthSession.RevokeReason.PLAYER_BANNED
    )
    announce_action(
        actor=actor,
        game=locked.game,
        action="player.ban",
        target=locked,
        before=before,
        after=_ban_state(locked, segment_action=segment_action),
        reason=locked.ban_reason,
    )
    return locked


def _check_seen(locked: Player, *, seen: str, until: datetime, reason: str) -> None:
    """Under the player's lock: the ban is still the one the confirmation showed."""
    if ban_seen(locked) != seen:
        raise Conflict(
            f"{locked}'s ban changed after you were asked (the confirmation was sent twice, or "
            "another operator changed it): look at the player again."
        )
    if locked.banned_until == until and locked.ban_reason == reason:
        raise Conflict(f"{locked} is already banned so.")


@transaction.atomic
def unban_player(*, player: Player, reason: str = "", actor: User | None) -> Player:
    locked = Player.objects.select_for_update(of=("self",)).select_related("game").get(pk=player.pk)
    refuse_erased(locked)  # nothing to lift: the erasure cleared the reason and ended the sessions
    if locked.banned_until is None:
        return locked
    before = _ban_state(locked)
    locked.banned_until, locked.ban_reason = None, ""
    locked.save(update_fields=["banned_until", "ban_reason"])
    _lift_ban_from_sessions(locked)
    announce_action(
        actor=actor,
        game=locked.game,
        action="player.unban",
        target=locked,
        before=before,
        after=_ban_state(locked),
        reason=stored_reason(reason),
    )
    return locked


def lift_lapsed_bans(*, now: datetime | None = None) -> int:
    """Every minute (beat): players whose timed ban ran out in the last access-token lifetime
    get what an unban gives their ended sessions (their tokens say log in again, not banned).
    Answers how many players."""
    now = now or timezone.now()
    since = now - settings.ACCESS_TOKEN_LIFETIME
    # Only sessions whose tokens can still be alive: an older one would be found every minute
    # for nothing.
    lapsed = Player.objects.filter(
        banned_until__gt=since,
        banned_until__lte=now,
        sessions__revoke_reason=AuthSession.RevokeReason.PLAYER_BANNED,
        sessions__revoked_at__gte=since,
    ).distinct()
    count = 0
    for player_id in lapsed.values_list("pk", flat=True):
        count += lift_lapsed_ban(player_id=player_id, now=now)
    return count


@transaction.atomic
def lift_lapsed_ban(*, player_id: int, now: datetime) -> bool:
    """One player of lift_lapsed_bans, under the player's lock (as a ban takes it): a player an
    operator banned again since the list was read keeps the new ban's sessions as banned."""
    player = Player.objects.select_for_update(of=("self",)).filter(pk=player_id).first()
    if player is None or player.banned_until is None or player.banned_until > now:
        return False
    _lift_ban_from_sessions(player)
    return True


def _lift_ban_from_sessions(player: Player) -> None:
    """The sessions the ban ended stay ended, but their tokens no longer say the player is
    banned: `player_banned` (403) would tell a client to stop, `token_revoked` (401) tells it to
    log in again, which now works."""
    _relabel_ended_sessions(
        player, AuthSession.RevokeReason.PLAYER_BANNED, AuthSession.RevokeReason.BAN_ENDED
    )


def _relabel_ended_sessions(player: Player, old: str, new: str) -> None:
    """Sessions of `player` ended for `old` within the access-token lifetime (older ones have no
    live token) say `new` from now on, in every process."""
    since = timezone.now() - settings.ACCESS_TOKEN_LIFETIME
    ended = list(
        AuthSession.objects.filter(
            player=player, revoke_reason=old, revoked_at__gte=since
        ).values_list("pk", flat=True)
    )
    if not ended:
        return
    AuthSession.objects.filter(pk__in=ended).update(revoke_reason=new)
    transaction.on_commit(lambda: publish_revocations(dict.fromkeys(ended, new)))


@transaction.atomic
def end_sessions(*, sessions: QuerySet[AuthSession], actor: User | None, reason: str = "") -> int:
    """An operator ends sessions (a stolen device, say); the players log in again."""
    ended = AuthSession.objects.filter(
        pk__in=revoke_sessions(sessions=sessions, reason=AuthSession.RevokeReason.OPERATOR)
    ).select_related("game")
    for session in ended:
        announce_action(
            actor=actor,
            game=session.game,
            action="session.revoke",
            target=session,
            after={"revoke_reason": session.revoke_reason},
            reason=reason,
        )
    return len(ended)
