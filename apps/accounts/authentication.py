"""Who is calling: a player (Bearer access token), a game server (X-Server-Key), a client before
login (X-Game-Key). The first steps of every API request (docs/architecture.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.accounts.errors import (
    AccountDeleted,
    InvalidGameKey,
    InvalidServerKey,
    InvalidToken,
    PermissionMissing,
    PlayerBanned,
    WrongCredentialKind,
)
from apps.accounts.models import Game, Player, ServerKey
from apps.accounts.selectors import cached_server_key, game_by_client_key, token_player
from apps.accounts.tokens import (
    PLAYER,
    AccessClaims,
    decode_access_token,
    ensure_not_revoked,
)
from gamingpanel.access import tag_request


@dataclass(frozen=True)
class GameServer:
    """The principal of a call made with a server key."""

    game: Game
    server_key: ServerKey
    is_authenticated: bool = True

    @property
    def game_id(self) -> int:
        return self.game.pk


USE_STAMP_SECONDS = 60
_stamped_at: dict[int, float] = {}  # key id -> monotonic time this process last wrote it


def stamp_use(server_key: ServerKey) -> None:
    """Write last_used_at at most once a minute per process: validation is a hot path."""
    now = time.monotonic()
    if now - _stamped_at.get(server_key.pk, -USE_STAMP_SECONDS) < USE_STAMP_SECONDS:
        return
    _stamped_at[server_key.pk] = now
    ServerKey.objects.filter(pk=server_key.pk).update(last_used_at=timezone.now())


class ServerKeyAuthentication(BaseAuthentication):
    header = "X-Server-Key"

    def authenticate(self, request: Request) -> tuple[GameServer, ServerKey] | None:
        raw_key = self.raw_key(request)
        if raw_key is None:
            return None
        server_key = cached_server_key(raw_key)
        if server_key is None:
            raise InvalidServerKey(f"The {self.header} is unknown or revoked.")
        stamp_use(server_key)
        tag_request(request, game_id=server_key.game_id)
        return GameServer(game=server_key.game, server_key=server_key), server_key

    def raw_key(self, request: Request) -> str | None:
        return request.META.get("HTTP_X_SERVER_KEY")  # META: no parse of every header

    def authenticate_header(self, request: Request) -> str:
        # A 401's challenge (RFC 9110, 11.6.1): a scheme of our own, as a server key is no
        # Authorization credential; the query-parameter variant (Photon) names the same key.
        return 'ServerKey realm="api"'


class ServerKeyQueryAuthentication(ServerKeyAuthentication):
    """The server key as a `key` query parameter, for a caller that can send no header of its
    own: Photon's custom authentication sends the values a studio types into its dashboard as
    query parameters. (Query strings are never logged: the access log names the route only.)

    Photon passes the client's own AuthValues parameters through beside the dashboard's, so a
    client could add a `key` of its own: a request with more than one `key` is refused (taking
    either would let a client holding some other game's server key have that game's token
    accepted by this game's Photon app)."""

    header = "key"

    def raw_key(self, request: Request) -> str | None:
        keys = request.query_params.getlist("key")
        if len(keys) > 1:
            raise InvalidServerKey("Send one `key` query parameter, not several.")
        return keys[0] if keys else None


def require_game(request: Request) -> Game:
    """The game named by X-Game-Key (login, before any token exists)."""
    game = game_by_client_key(request.META.get("HTTP_X_GAME_KEY", ""))
    if game is None:
        raise InvalidGameKey("Send the game's client key in the X-Game-Key header.")
    tag_request(request, game_id=game.pk)
    return game


class IsGameServer(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        if isinstance(request.user, Player):
            raise WrongCredentialKind(
                "This endpoint takes a server key (X-Server-Key), not a player token."
            )
        return isinstance(request.user, GameServer)


class IsPlayer(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        if isinstance(request.user, GameServer):
            raise WrongCredentialKind("This endpoint takes a player token, not a server key.")
        if isinstance(request.auth, AccessClaims) and PLAYER not in request.auth.permissions:
            # The token's `perms` claim is what it may do: player endpoints need "player".
            raise PermissionMissing("This token does not carry the `player` permission.")
        return isinstance(request.user, Player)


class PlayerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access token>`; the token layer lives in apps.accounts.tokens."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Player, AccessClaims] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw_token = header.partition(" ")
        # An authentication scheme's name is case-insensitive (RFC 9110, 11.1).
        if scheme.lower() != self.keyword.lower() or not raw_token.strip():
            return None
        player, claims = authenticate_access_token(raw_token.strip())
        tag_request(request, game_id=player.game_id, player_id=player.pk)
        return player, claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def authenticate_access_token(raw_token: str) -> tuple[Player, AccessClaims]:
    """The player behind a bearer token, or a token error (401) / player_banned (403): decrypt
    and verify, then revocation (this process's mirror, else one cache round trip), then the
    player and game (token_player: a query at most once a second per process)."""
    claims = decode_access_token(raw_token)
    ensure_not_revoked(claims)
    player = token_player(game_id=claims.game_id, player_id=claims.player_id)
    if player is None:
        raise InvalidToken("The access token's player no longer exists.")
    if player.erased_at is not None:
        # Its sessions were revoked with the erasure; this answers a token whose revocation
        # this process has not heard of yet.
        raise AccountDeleted()
    if player.is_banned:
        assert player.banned_until is not None  # is_banned says so
        raise PlayerBanned("This player is banned.", banned_until=player.banned_until.isoformat())
    return player, claims
