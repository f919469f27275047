"""Platform login: the platform vouches for the user, we find or create the player and open a
session. The platform call happens before any transaction: it is a network call, however short
its timeout, and no row lock may wait on it."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.errors import NotEntitled, PlayerBanned, TokenRevoked
from apps.accounts.models import AuthSession, Game, PlatformIdentity, Player
from apps.accounts.services.sessions import (
    IssuedTokens,
    RefreshTokenRef,
    open_session,
    refresh_session,
    revoke_sessions,
)
from apps.analytics.services import record_server_event, server_event_statement
from apps.inventory.services import apply_changes, changes_from_contents, prepare_holdings
from apps.platforms.errors import PlatformNotConfigured, UnsupportedPlatform
from apps.platforms.selectors import usable_credential
from apps.platforms.verifiers import PLATFORMS, VerifiedIdentity, get_verifier
from apps.platforms.verifiers.base import client_display_name, spending_credentials
from apps.platforms.verifiers.upstream import login_deadline, unavailable
from gamingpanel.errors import DomainError
from gamingpanel.metrics import LOGINS, bounded
from gamingpanel.problems import BACKING_SERVICE_ERRORS
from gamingpanel.sql import CompiledInsert, CompiledInstances, CompiledQuery, Statement
from gamingpanel.storable import UNSTORABLE

logger = logging.getLogger(__name__)

STARTING_GRANT_KEY = "starting-grant"
# What an identity (and a session) can store of a platform's user id.
MAX_PLATFORM_USER_ID_LENGTH = cast(
    int, PlatformIdentity._meta.get_field("platform_user_id").max_length
)
# The player's UPDATE finds the identity's player, locks it (as SELECT ... FOR UPDATE did), stamps
# last_login_at and returns the row, compiled once (gamingpanel.sql): Django's update() returns
# no rows. SQLite runs it, then the identity's UPDATE; PostgreSQL runs STAMP_BOTH below. A ban
# committed while it waited for the lock is in the row it returns: under READ COMMITTED a row
# lock that waited re-reads the row. So does an erasure: the tombstone is not stamped (its time
# would tie it to the platform account's next login), no row comes back, and the login makes a
# new player, as after the erasure.
PLAYER_OF_IDENTITY_SQL = (
    "UPDATE {player} SET last_login_at = %s WHERE id = ("
    "SELECT player_id FROM {identity} WHERE game_id = %s AND platform = %s AND platform_user_id = %s"
    ") AND erased_at IS NULL RETURNING {columns}"
)
IDENTITY_SQL = (
    "UPDATE {identity} SET last_login_at = %s"
    " WHERE game_id = %s AND platform = %s AND platform_user_id = %s"
)
TABLES = {"player": Player, "identity": PlatformIdentity}
STAMP_PLAYER = CompiledInstances.compile(PLAYER_OF_IDENTITY_SQL, Player, **TABLES)
STAMP_IDENTITY = CompiledQuery.compile(IDENTITY_SQL, **TABLES)
# PostgreSQL runs both in one round trip, and stamps the player only once its identity is stamped.
# The player is locked first, as link and unlink lock it before its identity; but its id was read
# before the lock was waited for, and an unlink committing meanwhile deleted the identity and left
# the player row as it was. Stamping the player first (as the single UPDATE above does) then
# stamped a player the account no longer belonged to. So: lock the player (a lock that waited
# re-reads the row, for a ban or an erasure as above), stamp the identity only if it is still
# there and still that player's (an UPDATE that meets a row deleted or moved meanwhile skips it),
# and only then stamp and return the player. Nothing comes back otherwise, and the login goes on
# as it would have had it started after the unlink: no identity, a new player, or the account's
# new owner if another player linked it meanwhile (the insert's unique conflict).
STAMP_BOTH = CompiledInstances.compile(
    # Only the identity's statement above is interpolated; every value is a parameter.
    "WITH locked AS (SELECT id FROM {player} WHERE id = ("  # noqa: S608
    "SELECT player_id FROM {identity} WHERE game_id = %s AND platform = %s AND platform_user_id = %s"
    ") AND erased_at IS NULL FOR NO KEY UPDATE), identity_stamped AS ("
    f"{IDENTITY_SQL} AND player_id IN (SELECT id FROM locked) RETURNING player_id)"
    " UPDATE {player} SET last_login_at = %s"
    " WHERE id IN (SELECT player_id FROM identity_stamped) RETURNING {columns}",
    Player,
    **TABLES,
)
INSERT_PLAYER = CompiledInsert.compile(Player)
INSERT_IDENTITY = CompiledInsert.compile(PlatformIdentity)


@dataclass(frozen=True)
class LoginResult:
    player: Player
    created: bool
    tokens: IssuedTokens


def verify_platform_user(
    *, game: Game, platform: str, credentials: Mapping[str, Any]
) -> VerifiedIdentity:
    """Who the platform says this is, for this game's configuration, entitlement confirmed
    (or explicitly waived by that configuration)."""
    verifier = get_verifier(platform)
    credential = usable_credential(game=game, platform=platform)
    # Checked before the platform is asked: a verifier marks a single-use token as spent once
    # it vouches for it, and a name refused after that would cost the client its token.
    fallback_name = client_display_name(credentials)
    with login_deadline(settings.PLATFORM_LOGIN_DEADLINE_SECONDS):
        identity = verifier.verify(credential.verifier_config(), credentials)
    if not _storable_user_id(identity.platform_user_id):
        # An id no identity row can hold (none, over the column's length, U+0000 or a lone
        # surrogate, as Google Play's or IDC's JSON may carry) is a malformed answer: a 503,
        # never the 500 its insert would raise.
        raise unavailable(platform, "identity", "a user id that cannot be stored")
    if identity.previous_platform_user_id is not None and not _storable_user_id(
        identity.previous_platform_user_id
    ):
        # No identity can be stored under it, so none can be moved from it.
        identity = replace(identity, previous_platform_user_id=None)
    if not identity.may_play:
        raise NotEntitled(f"{platform} did not confirm that this user may play this game.")
    if identity.display_name is None:
        # A platform that gives no name (Epic Connect, PlayStation, Nintendo, Steam when its
        # profile call failed): the client's, unsigned and cosmetic, as the guide says.
        identity = replace(identity, display_name=fallback_name)
    return identity


def _storable_user_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_PLATFORM_USER_ID_LENGTH
        and not UNSTORABLE.search(value)
    )


@contextmanager
def credentials_spent_unless_an_outage() -> Iterator[None]:
    """Single-use credentials accepted inside stay spent, unless the database or Redis fails
    before the work is done: then nothing was made with them, and a retry with the same token
    must not be refused as a replay. (A refusal, such as a ban, keeps them spent.)"""
    with spending_credentials() as give_back:
        try:
            yield
        except (DatabaseError, *BACKING_SERVICE_ERRORS):
            give_back()
            raise


def log_in(*, game: Game, platform: str, credentials: Mapping[str, Any]) -> LoginResult:
    """Counted in gp_logins_total by platform and outcome (ok, or the problem's code)."""
    try:
        with credentials_spent_unless_an_outage():
            identity = verify_platform_user(game=game, platform=platform, credentials=credentials)
            result = _open_for_identity(game=game, platform=platform, identity=identity)
    except DomainError as refused:
        LOGINS.labels(bounded(platform, PLATFORMS), refused.code).inc()
        raise
    LOGINS.labels(bounded(platform, PLATFORMS), "ok").inc()
    return result


@transaction.atomic
def _open_for_identity(*, game: Game, platform: str, identity: VerifiedIdentity) -> LoginResult:
    now = timezone.now()
    # The player is locked from here to the commit: a ban committing meanwhile either is seen
    # here or waits for the commit and then revokes this session.
    player, created = _find_or_create_player(game, platform, identity, now)
    player.game = game
    if (until := player.banned_until) is not None and player.is_banned:
        raise PlayerBanned.until(until)
    facts = _welcome(player, platform) if created else []
    # The session-start fact travels with the refresh token's insert: one round trip fewer.
    fact = _session_start(player.game_id, player.pk, platform, kind="login", occurred_at=now)
    tokens = open_session(
        player=player,
        platform=platform,
        platform_user_id=identity.platform_user_id,
        now=now,
        along=[*facts, server_event_statement(**fact)],
    )
    return LoginResult(player=player, created=created, tokens=tokens)


def refresh_tokens(*, token: RefreshTokenRef) -> IssuedTokens:
    """A refresh: accounts rotates the token, a rotation is a session start for analytics. A
    session opened by a platform the game no longer accepts (its credential disabled or gone,
    the dev platform on a game out of sandbox, a platform this server no longer supports, which
    is no 400 unsupported_platform for a token sent as issued) ends here instead: a refresh
    would otherwise keep it alive for ever, 30 days at a time. A session that had already ended
    says why it did (the account erased, the player banned, a logout) as the rotation answers it.

    The session's game comes with the token (accounts' find_refresh_token): no query of its
    own. A game deleted since took the session with it, which the rotation answers as an
    unknown token (401 invalid_token)."""
    game = token.game
    try:
        usable_credential(game=game, platform=token.platform)
    except (PlatformNotConfigured, UnsupportedPlatform):  # off for this game, or for all
        if revoke_sessions(
            sessions=AuthSession.objects.filter(pk=token.session_id),
            reason=AuthSession.RevokeReason.OPERATOR,
        ):
            raise TokenRevoked(
                f"This game no longer accepts {token.platform} logins; log in again."
            ) from None
    return refresh_session(
        token=token, on_rotation=lambda session: _record_session_start(session, kind="refresh")
    )


def _record_session_start(session: AuthSession, *, kind: str) -> None:
    record_server_event(
        **_session_start(session.game_id, session.player_id, session.platform, kind=kind)
    )


def _session_start(
    game_id: int, player_id: int, platform: str, *, kind: str, occurred_at: datetime | None = None
) -> dict[str, Any]:
    return {
        "game_id": game_id,
        "player_id": player_id,
        "name": "session_start",
        "properties": {"kind": kind, "platform": platform},
        "occurred_at": occurred_at,
    }


def _find_or_create_player(
    game: Game, platform: str, identity: VerifiedIdentity, now: datetime
) -> tuple[Player, bool]:
    """The identity's player, locked, with last_login_at stamped on it and on the identity."""
    lookup = {"game": game, "platform": platform, "platform_user_id": identity.platform_user_id}
    move_to_new_id(game=game, platform=platform, identity=identity)
    if (player := _stamp_returning_player(lookup, now)) is not None:
        return player, False
    try:
        # A savepoint: when the same identity's first login races us, its insert wins, ours rolls
        # back to here and we log in to the player it created. No lock is needed on our own
        # player: nobody else can see it, let alone ban it, before we commit.
        with transaction.atomic():
            name = identity.display_name or ""
            player = Player(game=game, display_name=name, created_at=now, last_login_at=now)
            INSERT_PLAYER.insert(player)
            INSERT_IDENTITY.insert(PlatformIdentity(player=player, last_login_at=now, **lookup))
    except IntegrityError:
        if (player := _stamp_returning_player(lookup, now)) is None:
            raise  # not a racing login (the game was deleted, say)
        return player, False
    return player, True


def move_to_new_id(*, game: Game, platform: str, identity: VerifiedIdentity) -> None:
    """When the platform changed the user's id, the identity stored under the old one now
    carries the new one, so the user keeps their player. Runs in the caller's transaction."""
    previous = identity.previous_platform_user_id
    if not previous or previous == identity.platform_user_id:
        return
    stored = PlatformIdentity.objects.filter(
        game=game, platform=platform, platform_user_id=previous
    )
    # The player is locked before its identity, as login, link and unlink lock them, and in
    # their mode: NO KEY UPDATE (a move changes no key of the player). A racing login or link
    # still waits here, and one that moved it first leaves nothing here to move; a row naming
    # the player (a refresh's session start, a key-share lock) does not wait for this login.
    player = (
        Player.objects.select_for_update(no_key=True)
        .filter(pk__in=stored.values("player_id"))
        .only("pk")
        .first()
    )
    if player is None:
        return
    try:
        with transaction.atomic():  # savepoint: the new id may already have an identity
            stored.filter(player=player).update(platform_user_id=identity.platform_user_id)
    except IntegrityError:
        # The new id logged in before we learnt of the change and got a player of its own:
        # that one stays, and the old identity is left alone for an operator to merge.
        logger.warning(
            "%s identity %s not moved: its new id already has a player", platform, player.pk
        )


def _stamp_returning_player(lookup: dict[str, Any], now: datetime) -> Player | None:
    """As _find_or_create_player, for an identity that exists; None for one that does not."""
    params = [
        connection.ops.adapt_datetimefield_value(now),  # stored as the ORM stores it
        lookup["game"].pk,
        lookup["platform"],
        lookup["platform_user_id"],
    ]
    if connection.vendor == "postgresql":
        return cast(Player | None, STAMP_BOTH.first([*params[1:], *params, params[0]]))
    if (player := STAMP_PLAYER.first(params)) is not None:
        STAMP_IDENTITY.execute(params)
    return cast(Player | None, player)


def _welcome(player: Player, platform: str) -> list[Statement]:
    """A new player's starting grant (through the ledger, once) and the analytics fact: sent
    with the grant's wallet lock, or, with nothing to grant, handed back for the session's
    insert to carry."""
    grant = player.game.starting_grant or {}  # {"gold": 500}, checked in the game's admin form
    contents = [{"currency": code, "quantity": amount} for code, amount in grant.items()]
    created = server_event_statement(
        game_id=player.game_id,
        player_id=player.pk,
        name="player_created",
        properties={"platform": platform},
        occurred_at=player.created_at,  # the session's start too: one day for both facts
    )
    if not any(amount for amount in grant.values()):
        return [created]
    changes = changes_from_contents(contents)
    # The player was inserted in this transaction, which rolls back whole on any error: its
    # wallets are made up front (a new player has none, so the grant locks once), and the grant
    # needs neither a savepoint nor a lookup of its key.
    prepare_holdings(players=[player], changes=changes)
    apply_changes(
        player=player,
        changes=changes,
        reason="starting_grant",
        idempotency_key=STARTING_GRANT_KEY,
        savepoint=False,
        new_key=True,
        along=[created],
    )
    return []
