"""Sessions and their tokens: opened at login, rotated on refresh, revoked on logout, reuse or ban.

Refresh tokens are opaque random values stored only as a SHA-256 hash. Each refresh retires the
presented token and hands out a new one. The token retired last may be presented again for
REFRESH_REUSE_GRACE_SECONDS (a client whose answer was lost retries): that retry gets a fresh
pair and the pair it lost is retired. Any other retired token, or that one after the window, is
reuse: the whole session is revoked, and with it every access token it issued.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.errors import (
    AccountDeleted,
    InvalidToken,
    PlayerBanned,
    RefreshTokenReused,
    TokenExpired,
    TokenRevoked,
)
from apps.accounts.models import AuthSession, Game, Player, SessionRefreshToken, hash_key
from apps.accounts.revocation import publish_revocations
from apps.accounts.tokens import issue_access_token
from gamingpanel.sql import CompiledInsert, Statement, run_together

REFRESH_TOKEN_PREFIX = "rt_"
MAX_REFRESH_TOKEN_LENGTH = 200
# Compiled once (gamingpanel.sql): every login and refresh writes these rows.
INSERT_SESSION = CompiledInsert.compile(AuthSession)
INSERT_REFRESH_TOKEN = CompiledInsert.compile(SessionRefreshToken)


@dataclass(frozen=True)
class IssuedTokens:
    session: AuthSession
    access_token: str
    access_expires_at: datetime
    refresh_token: str  # shown once, never stored
    refresh_expires_at: datetime


def open_session(
    *,
    player: Player,
    platform: str,
    now: datetime,
    platform_user_id: str = "",
    along: Sequence[Statement] = (),
) -> IssuedTokens:
    """A new session with its first pair; call inside the login's transaction. `along`: writes
    of the login that need no answer (its analytics fact), sent with the refresh token's insert
    (gamingpanel.sql.run_together: one round trip on PostgreSQL)."""
    session = AuthSession(
        game_id=player.game_id,
        player=player,
        platform=platform,
        platform_user_id=platform_user_id,
        created_at=now,
        expires_at=now + settings.REFRESH_TOKEN_LIFETIME,
    )
    INSERT_SESSION.insert(session)
    return _issue_pair(session, now, along)


class RefreshTokenRef(NamedTuple):
    token_id: int
    session_id: int
    game_id: int
    platform: str  # the session's: the one its player logged in with
    game: Game  # the session's, read with the token


_TOKEN_COLUMNS = ("pk", "session_id", "session__game_id", "session__platform")
_GAME_COLUMNS = tuple(field.attname for field in Game._meta.concrete_fields)


def find_refresh_token(raw_refresh_token: str) -> RefreshTokenRef | None:
    """A refresh token we issued, whatever its state (live, retired, expired), with its
    session's game read by the same query (a join): a refresh asks the game's platform
    credential, and a game deleted since took its sessions and tokens with it, so the token is
    found with its game or not at all (401 invalid_token, never a 500)."""
    if not raw_refresh_token or len(raw_refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
        return None
    found = (
        SessionRefreshToken.objects.filter(token_hash=hash_key(raw_refresh_token))
        .values_list(*_TOKEN_COLUMNS, *(f"session__game__{name}" for name in _GAME_COLUMNS))
        .first()
    )
    if found is None:
        return None
    token_id, session_id, game_id, platform, *game_values = found
    game = Game.from_db(DEFAULT_DB_ALIAS, _GAME_COLUMNS, game_values)
    return RefreshTokenRef(token_id, session_id, game_id, platform, game)


def refresh_session(
    *, token: RefreshTokenRef, on_rotation: Callable[[AuthSession], object] | None = None
) -> IssuedTokens:
    """Rotate (or answer a retry of) the refresh token `find_refresh_token` found.
    `on_rotation(session)` runs inside the rotation's transaction when a live token is rotated
    (not on a retry within the grace window): what a refresh starts lands with it or not at all."""
    issued = _rotate(token_id=token.token_id, session_id=token.session_id, on_rotation=on_rotation)
    if issued is None:  # raised only now: the revocation in _rotate had to commit first
        raise RefreshTokenReused(
            "This refresh token was already used; the session is revoked. Log in again."
        )
    return issued


@transaction.atomic
def _rotate(
    *, token_id: int, session_id: int, on_rotation: Callable[[AuthSession], object] | None
) -> IssuedTokens | None:
    # Lock the session: a second refresh racing with the same token waits here, then finds that
    # token retired and is answered by the grace rule, so one token never makes two live pairs.
    # Only the session's row (of=self): the player's row is a ban's to lock (a ban locks the
    # player, then its sessions), and the game's row is every write's to share.
    session = (
        AuthSession.objects.select_for_update(of=("self",))
        .select_related("player")
        .filter(pk=session_id)
        .first()
    )
    token = SessionRefreshToken.objects.filter(pk=token_id).first()
    if session is None or token is None:
        # Pruned (ended long ago) or deleted with its player since find_refresh_token read it.
        raise InvalidToken("Unknown refresh token.")
    now = timezone.now()
    if session.revoked_at is not None:
        # Read the player again: after waiting for the lock of what revoked or rewrote the
        # session (a ban; an erasure, which also clears the platform account id of sessions
        # that ended long before), PostgreSQL hands back the session as that left it but the
        # player as it was before (only the locked row is read afresh): the ban, or the
        # erasure, would be missed.
        session.player.refresh_from_db(fields=["banned_until", "erased_at"])
        if session.player.erased_at is not None:
            # However the session ended (a ban long before the erasure, a logout): the account
            # is gone, and a device told "banned" or "log in again" would keep the player's data.
            raise AccountDeleted()
        if (
            session.revoke_reason == AuthSession.RevokeReason.PLAYER_BANNED
            and (until := session.player.banned_until) is not None
            and session.player.is_banned
        ):
            raise PlayerBanned.until(until)  # the ban as login states it
        if session.revoke_reason == AuthSession.RevokeReason.PLAYER_ERASED:
            raise AccountDeleted()
        # A ban that has ended (or was lifted) ended this session all the same: log in again.
        raise TokenRevoked("This session has ended; log in again.")
    if session.player.erased_at is not None:
        # A login that found the player's identity just before its erasure committed may have
        # opened this session after the erasure revoked the others. Before the ban, as above:
        # the account is gone, whatever ban it had.
        raise AccountDeleted()
    if (until := session.player.banned_until) is not None and session.player.is_banned:
        raise PlayerBanned.until(until)

    if token.retired_at is None:
        if token.expires_at <= now:
            raise TokenExpired("The refresh token has expired; log in again.")
        token.retired_at = now
        token.save(update_fields=["retired_at"])
        session.grace_token = token
        session.grace_until = now + timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)
        if on_rotation is not None:
            on_rotation(session)
    elif token.pk == session.grace_token_id and session.grace_until and now <= session.grace_until:
        # A retry of the last refresh: the pair it never received is retired, never reused.
        session.tokens.filter(retired_at__isnull=True).update(retired_at=now)
    else:
        _revoke(
            AuthSession.objects.filter(pk=session.pk),
            reason=AuthSession.RevokeReason.REFRESH_TOKEN_REUSED,
            now=now,
        )
        return None

    session.last_refreshed_at = now
    session.expires_at = now + settings.REFRESH_TOKEN_LIFETIME
    session.save(update_fields=["grace_token", "grace_until", "last_refreshed_at", "expires_at"])
    return _issue_pair(session, now)


def _issue_pair(
    session: AuthSession, now: datetime, along: Sequence[Statement] = ()
) -> IssuedTokens:
    raw_refresh = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    refresh = SessionRefreshToken(
        session=session,
        token_hash=hash_key(raw_refresh),
        created_at=now,
        expires_at=now + settings.REFRESH_TOKEN_LIFETIME,
    )
    run_together([INSERT_REFRESH_TOKEN.insert_statement(refresh), *along])
    access = issue_access_token(
        player_id=session.player_id, game_id=session.game_id, session_id=session.pk, now=now
    )
    return IssuedTokens(
        session=session,
        access_token=access.token,
        access_expires_at=access.expires_at,
        refresh_token=raw_refresh,
        refresh_expires_at=refresh.expires_at,
    )


def revoke_sessions(*, sessions: QuerySet[AuthSession], reason: str) -> list[int]:
    """Revoke these sessions (those still live); every process refuses their tokens at once."""
    with transaction.atomic():
        return _revoke(sessions, reason=reason, now=timezone.now())


def _revoke(sessions: QuerySet[AuthSession], *, reason: str, now: datetime) -> list[int]:
    ids = list(
        sessions.filter(revoked_at__isnull=True)
        .select_for_update()
        .order_by("pk")  # lock in id order so two revocations never deadlock
        .values_list("pk", flat=True)
    )
    AuthSession.objects.filter(pk__in=ids).update(revoked_at=now, revoke_reason=reason)
    # Markers only after commit: a marker for a revocation that rolled back would be a lie.
    transaction.on_commit(lambda: publish_revocations(dict.fromkeys(ids, reason)))
    return ids


def log_out(*, session_id: int) -> None:
    revoke_sessions(
        sessions=AuthSession.objects.filter(pk=session_id),
        reason=AuthSession.RevokeReason.LOGOUT,
    )


def prune_ended_sessions(*, batch: int = 1_000) -> int:
    """Delete sessions whose refresh token expired more than ENDED_SESSIONS_KEPT_DAYS ago,
    revoked or not, with their refresh tokens. Until then a refresh with an ended session's
    token still says why (`token_expired`, `token_revoked`, `refresh_token_reused`) rather than
    `invalid_token`; its access tokens expired long before.

    A batch of sessions at a time, each deleted in its own short transaction: a backlog (the
    first run, or days the task did not run) is never loaded whole into a worker's memory nor
    held in one transaction. The batches walk the sessions by id, so the run reads the table
    once, however many batches it takes."""
    cutoff = timezone.now() - timedelta(days=settings.ENDED_SESSIONS_KEPT_DAYS)
    ended = AuthSession.objects.filter(expires_at__lt=cutoff)
    pruned, after = 0, 0
    while ids := list(
        ended.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]
    ):
        after = ids[-1]
        _, deleted = ended.filter(pk__in=ids).delete()
        pruned += deleted.get(AuthSession._meta.label, 0)
    return pruned


def prune_retired_refresh_tokens(*, batch: int = 5_000) -> int:
    """Delete refresh tokens that were rotated away and expired more than
    ENDED_SESSIONS_KEPT_DAYS ago. A session kept alive by refreshes never ends, so its retired
    tokens (one a refresh) would otherwise pile up for as long as the player plays. Until then a
    retired token presented again revokes its session (reuse); after, it is `invalid_token`, as
    an ended session's is: it had expired, so it could not be used anyway. Batched as
    prune_ended_sessions."""
    cutoff = timezone.now() - timedelta(days=settings.ENDED_SESSIONS_KEPT_DAYS)
    old = SessionRefreshToken.objects.filter(retired_at__isnull=False, expires_at__lt=cutoff)
    pruned, after = 0, 0
    while ids := list(old.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]):
        after = ids[-1]
        _, deleted = old.filter(pk__in=ids).delete()
        pruned += deleted.get(SessionRefreshToken._meta.label, 0)
    return pruned
