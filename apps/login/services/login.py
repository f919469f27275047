"""Platform login: the platform vouches for the user, we find or create the player and open a
session. The platform call happens before any transaction: it is a network call, however short
its timeout, and no row lock may wait on it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from apps.accounts.errors import NotEntitled, PlayerBanned
from apps.accounts.models import AuthSession, Game, PlatformIdentity, Player
from apps.accounts.services.sessions import (
    IssuedTokens,
    RefreshTokenRef,
    open_session,
    refresh_session,
)
from apps.analytics.services import record_server_event
from apps.inventory.services import grant_contents
from apps.platforms.errors import PlatformNotConfigured, PlatformUnavailable
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import VerifiedIdentity, get_verifier
from apps.platforms.verifiers.base import spending_credentials
from apps.platforms.verifiers.upstream import login_deadline
from gamingpanel.problems import BACKING_SERVICE_ERRORS

STARTING_GRANT_KEY = "starting-grant"


@dataclass(frozen=True)
class LoginResult:
    player: Player
    created: bool
    tokens: IssuedTokens


def verify_platform_user(
    *, game: Game, platform: str, credentials: Mapping[str, Any]
) -> VerifiedIdentity:
    """Who the platform says this is, for this game's configuration, entitlement confirmed."""
    verifier = get_verifier(platform)
    credential = PlatformCredential.objects.filter(game=game, platform=platform).first()
    if credential is None or not credential.enabled:
        raise PlatformNotConfigured(f"{platform} login is not enabled for this game.")
    credential.game = game  # verifier_config reads the sandbox flag from it
    with login_deadline(settings.PLATFORM_LOGIN_DEADLINE_SECONDS):
        identity = verifier.verify(credential.verifier_config(), credentials)
    if not identity.platform_user_id:
        raise PlatformUnavailable(f"{platform} answered without a user id.")
    if not identity.entitlement_checked:
        raise NotEntitled(f"{platform} did not confirm that this user may play this game.")
    return identity


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
    with credentials_spent_unless_an_outage():
        identity = verify_platform_user(game=game, platform=platform, credentials=credentials)
        return _open_for_identity(game=game, platform=platform, identity=identity)


@transaction.atomic
def _open_for_identity(*, game: Game, platform: str, identity: VerifiedIdentity) -> LoginResult:
    now = timezone.now()
    player_id, created = _find_or_create_player(game, platform, identity, now)
    # Lock the player: a ban committing meanwhile either is seen here or revokes this session.
    player = Player.objects.select_for_update().get(pk=player_id)
    player.game = game
    if player.is_banned:
        raise PlayerBanned("This player is banned.", banned_until=player.banned_until.isoformat())
    player.last_login_at = now
    player.save(update_fields=["last_login_at"])
    PlatformIdentity.objects.filter(
        game=game, platform=platform, platform_user_id=identity.platform_user_id
    ).update(last_login_at=now)
    if created:
        _welcome(player, platform)
    tokens = open_session(player=player, platform=platform, now=now)
    _record_session_start(tokens.session, kind="login", occurred_at=now)
    return LoginResult(player=player, created=created, tokens=tokens)


def refresh_tokens(*, token: RefreshTokenRef) -> IssuedTokens:
    """A refresh: accounts rotates the token, a rotation is a session start for analytics."""
    return refresh_session(
        token=token, on_rotation=lambda session: _record_session_start(session, kind="refresh")
    )


def _record_session_start(
    session: AuthSession, *, kind: str, occurred_at: datetime | None = None
) -> None:
    record_server_event(
        game_id=session.game_id,
        player_id=session.player_id,
        name="session_start",
        properties={"kind": kind, "platform": session.platform},
        occurred_at=occurred_at,
    )


def _find_or_create_player(
    game: Game, platform: str, identity: VerifiedIdentity, now: datetime
) -> tuple[int, bool]:
    lookup = {"game": game, "platform": platform, "platform_user_id": identity.platform_user_id}
    existing = PlatformIdentity.objects.filter(**lookup).values_list("player_id", flat=True)
    if (player_id := existing.first()) is not None:
        return player_id, False
    try:
        # A savepoint: when the same identity's first login races us, its insert wins, ours rolls
        # back to here and we log in to the player it created.
        with transaction.atomic():
            player = Player.objects.create(
                game=game, display_name=identity.display_name or "", created_at=now
            )
            PlatformIdentity.objects.create(player=player, **lookup)
    except IntegrityError:
        return existing.get(), False
    return player.pk, True


def _welcome(player: Player, platform: str) -> None:
    """A new player's starting grant (through the ledger, once) and the analytics fact."""
    grant = player.game.starting_grant or {}  # {"gold": 500}, checked in the game's admin form
    contents = [{"currency": code, "quantity": amount} for code, amount in grant.items()]
    if contents:
        grant_contents(
            player=player,
            contents=contents,
            reason="starting_grant",
            idempotency_key=STARTING_GRANT_KEY,
        )
    record_server_event(
        game_id=player.game_id,
        player_id=player.pk,
        name="player_created",
        properties={"platform": platform},
    )
