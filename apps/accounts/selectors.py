"""Reads for tenancy: which game a key names, what an operator may see."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model, QuerySet

from apps.accounts import hotcache
from apps.accounts.errors import PlayerErased
from apps.accounts.markers import (
    REVOKED_SERVER_KEY,
    SERVER_KEY_CACHE_SECONDS,
    server_key_cache_key,
)
from apps.accounts.mirror import mirror
from apps.accounts.models import Game, GameAccess, PlatformIdentity, Player, ServerKey, hash_key
from gamingpanel.shortcache import ShortCache
from gamingpanel.sql import CompiledInstances, CompiledQuery, Statement, aware, row_lock

logger = logging.getLogger(__name__)

READ_ROLES = frozenset(GameAccess.Role.values)
WRITE_ROLES = frozenset({GameAccess.Role.OWNER, GameAccess.Role.OPERATOR})
OWNER_ROLES = frozenset({GameAccess.Role.OWNER})


# How stale the game behind a client key may be, in each process: every login reads it first.
# An edit to the game (its sandbox flag, starting grant, a changed client key) reaches logins
# within this bound; a key that names no game is never kept, so a new game logs in at once.
GAME_BY_CLIENT_KEY_SECONDS = 2.0
_games_by_client_key: ShortCache[tuple[object, ...]] = ShortCache(
    seconds=GAME_BY_CLIENT_KEY_SECONDS
)


# The longest client key a game can have (its column's length).
MAX_CLIENT_KEY = Game._meta.get_field("client_key").max_length or 0


def game_by_client_key(client_key: str) -> Game | None:
    """The game a client key names, read from the database at most once per
    GAME_BY_CLIENT_KEY_SECONDS per process; a new instance each call. A key no game can have
    (longer than the column, or with U+0000, which PostgreSQL refuses in a query) names none,
    asked of no database."""
    if not client_key or len(client_key) > MAX_CLIENT_KEY or "\x00" in client_key:
        return None
    values = _games_by_client_key.get_or_load(client_key, lambda: _game_values(client_key))
    return None if values is None else _instance(Game, values)


def _game_values(client_key: str) -> tuple[object, ...] | None:
    found = Game.objects.filter(client_key=client_key).first()
    return None if found is None else _values_of(found)


# How stale the player and game behind a token may be, in each process: a ban still takes
# effect at once (it revokes the player's sessions, which every request checks), so this bounds
# only edits to a game's settings (its rate limit) and to a player's own columns made without
# the services, e.g. in plain SQL.
TOKEN_PLAYER_SECONDS = 1.0
RowValues = tuple[tuple[object, ...], tuple[object, ...]]
ModelT = TypeVar("ModelT", bound=Model)
_token_players: ShortCache[RowValues] = ShortCache(seconds=TOKEN_PLAYER_SECONDS)


def token_player(*, game_id: int, player_id: int) -> Player | None:
    """The player a valid access token names, its game loaded: on every player request, so read
    from the database at most once per TOKEN_PLAYER_SECONDS per process (one indexed query).
    A new instance each call: a request may change its own copy."""
    rows = _token_player_rows(game_id=game_id, player_id=player_id)
    if rows is None:
        return None
    player_values, game_values = rows
    player = _instance(Player, player_values)
    player.game = _instance(Game, game_values)
    return player


def token_player_exists(*, game_id: int, player_id: int) -> bool:
    """Whether the player a token names still exists and is not erased, as token_player sees
    it (the same rows, at most TOKEN_PLAYER_SECONDS old): a deleted player's tokens stop
    validating within it (an erased player's sessions are revoked at once besides)."""
    rows = _token_player_rows(game_id=game_id, player_id=player_id)
    return rows is not None and rows[0][_ERASED_AT] is None


# Where erased_at is in a player's row values (_values_of).
_ERASED_AT = [field.attname for field in Player._meta.concrete_fields].index("erased_at")


def _token_player_rows(*, game_id: int, player_id: int) -> RowValues | None:
    return _token_players.get_or_load(
        (game_id, player_id), lambda: _player_rows(game_id=game_id, player_id=player_id)
    )


# The player a token names, with its game: one compiled query (gamingpanel.sql) on each miss of
# _token_players, which with many players is a good share of requests (building the ORM query
# cost several times what PostgreSQL spends running it).
TOKEN_PLAYER = CompiledInstances.compile_joined(
    """
    SELECT {columns}
      FROM {player} JOIN {game} ON {game}.id = {player}.game_id
     WHERE {player}.id = %s AND {player}.game_id = %s
    """,
    (Player, Game),
    extra=0,
    tables={"player": Player, "game": Game},
)


def _player_rows(*, game_id: int, player_id: int) -> RowValues | None:
    found = TOKEN_PLAYER.rows([player_id, game_id])
    if not found:
        return None
    player, game = found[0]
    return _values_of(player), _values_of(game)


def _values_of(instance: Model) -> tuple[object, ...]:
    return tuple(getattr(instance, field.attname) for field in instance._meta.concrete_fields)


def _instance(model: type[ModelT], values: tuple[object, ...]) -> ModelT:
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


def active_server_key(raw_key: str) -> ServerKey | None:
    if not raw_key:
        return None
    return (
        ServerKey.objects.select_related("game")
        .filter(key_hash=hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )


def cached_server_key(raw_key: str) -> ServerKey | None:
    """active_server_key, kept in the shared cache and in this process's mirror: game servers
    call on every token check.

    Revoking a key replaces its entry by a tombstone and tells every mirror at once
    (`revoke_server_key`); a revocation that could not do so (Redis unreachable from its
    process, plain SQL) is applied by every mirror's sweep within a second, which writes the
    tombstone too. Edits to the game reach the cached copies within SERVER_KEY_CACHE_SECONDS.
    Unknown keys are never cached. The cache is read through the hot path's breaker: while it
    is open, the database is asked.
    """
    if not raw_key:
        return None
    key_hash = hash_key(raw_key)
    if (server_key := mirror.server_key(key_hash)) is not None:
        return server_key
    generation = mirror.generation()
    cache_key = server_key_cache_key(key_hash)
    try:
        (cached,) = hotcache.get_many([cache_key])
    except hotcache.RedisSkipped:
        return active_server_key(raw_key)  # the breaker logged when it opened
    except Exception:
        logger.warning("server key cache unreadable; asking the database", exc_info=True)
        return active_server_key(raw_key)
    if isinstance(cached, ServerKey):
        mirror.remember_server_key(key_hash, cached, since=generation)
        return cached
    server_key = active_server_key(raw_key)
    if server_key is not None and cached != REVOKED_SERVER_KEY:
        try:
            hotcache.add(cache_key, server_key, SERVER_KEY_CACHE_SECONDS)
        except Exception:
            logger.warning("server key not cached", exc_info=True)
        mirror.remember_server_key(key_hash, server_key, since=generation)
    return server_key


# A player of a game, by id: one compiled query (gamingpanel.sql) for the calls game servers
# make about a player (its saves), where the ORM query cost several times running it.
PLAYER_IN_GAME = CompiledInstances.compile(
    "SELECT {columns} FROM {player} WHERE id = %s AND game_id = %s", Player, player=Player
)


def public_player(*, game_id: int, player_id: int) -> Player | None:
    """The game's player with this id, or None when it is gone (or of another game)."""
    return PLAYER_IN_GAME.first([player_id, game_id])


# The same public fields as a compiled query (gamingpanel.sql), for a caller that sends it with
# its own: a game server's token check reads them for every player it has not seen in a while,
# and building the ORM query cost several times what PostgreSQL spends running it. With them,
# whether the account was erased: a token check works from its copy of the player and hears of
# the sessions' revocation within a moment, and in that moment the row read here is already
# the tombstone's.
PUBLIC_FIELDS = CompiledQuery.compile(
    "SELECT display_name, banned_until, erased_at IS NOT NULL FROM {player}"  # noqa: S608
    " WHERE id = %s AND game_id = %s",
    player=Player,
)


def public_fields_statement(*, game_id: int, player_id: int) -> Statement:
    """public_player's fields as a statement for gamingpanel.sql.run_together; its rows make
    the answer with public_fields_of."""
    return PUBLIC_FIELDS, [player_id, game_id]


def public_fields_of(rows: list[tuple[Any, ...]]) -> tuple[str, datetime | None, bool] | None:
    """(display name, banned until, erased) from public_fields_statement's rows; None when the
    player is gone."""
    if not rows:
        return None
    display_name, banned_until, erased = rows[0]
    return display_name, aware(banned_until), bool(erased)


def games_for_user(
    user: User | AnonymousUser, *, roles: frozenset[str] = READ_ROLES
) -> QuerySet[Game]:
    """Games this operator may act on in one of `roles`; superusers act on all of them. A game
    that requires two-factor sign-in is left out until this sign-in was verified with a code
    (django-otp's middleware gives the request's user `is_verified`)."""
    if not (user.is_authenticated and user.is_active):
        return Game.objects.none()
    games = (
        Game.objects.all()
        if user.is_superuser
        else Game.objects.filter(accesses__user=user, accesses__role__in=roles).distinct()
    )
    if not operator_verified(user):
        games = games.filter(require_operator_otp=False)
    return games


def sees_every_game(user: User | AnonymousUser) -> bool:
    """A superuser whose sign-in gave a code (or who needs none) sees every game unfiltered; one
    who signed in with the password only sees what games_for_user gives it, as anyone does: the
    games that require two-factor sign-in are left out of its lists and choices too."""
    return bool(user.is_superuser) and operator_verified(user)


def operator_verified(user: User | AnonymousUser) -> bool:
    """Whether this sign-in passed a second factor (False outside a request through the
    OTP middleware, e.g. a management command's user)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def user_role(user: User, game: Game | int) -> str | None:
    if user.is_superuser:
        return GameAccess.Role.OWNER
    game_id = game if isinstance(game, int) else game.pk
    return (
        GameAccess.objects.filter(user=user, game_id=game_id).values_list("role", flat=True).first()
    )


def identities_of(*, player: Player) -> list[PlatformIdentity]:
    return list(PlatformIdentity.objects.filter(player=player).order_by("platform", "created_at"))


def refuse_erased(player: Player) -> Player:
    """The player, unless erased: then 410 player_erased. Reads the row already loaded (no
    query): the one check every caller that names a player by id makes."""
    if player.erased_at is not None:
        raise PlayerErased(f"Player {player.pk}'s account was erased.", player_id=player.pk)
    return player


# The player's row FOR SHARE: see erased_under_share_lock.
_ERASED_AT_FOR_SHARE = CompiledQuery.compile(
    "SELECT erased_at FROM {player} WHERE id = %s" + row_lock("FOR SHARE"),  # noqa: S608
    player=Player,
)


def erased_under_share_lock(player_id: int) -> bool:
    """Whether the player is erased (or gone), read FOR SHARE of their row to the caller's
    commit: an erasure (which holds the row FOR NO KEY UPDATE before it clears the player's
    data) either waits for the caller's writes and clears them too, or has committed and the
    caller sees it. For a write about a player whose Player object was loaded earlier (a queued
    payout, a batch whose token was checked before); `refuse_erased` reads the loaded row."""
    row = _ERASED_AT_FOR_SHARE.row([player_id])
    return row is None or row[0] is not None
