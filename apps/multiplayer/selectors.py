"""Reads for game servers and players: live servers, XP rules, recorded matches, token checks."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone

from apps.accounts.models import Game
from apps.accounts.selectors import public_player_query
from apps.multiplayer.errors import ServerNotFound
from apps.multiplayer.models import Match, MatchResult, RegisteredServer, XpRule
from apps.multiplayer.profiles import profiles
from apps.stats.selectors import curve_of, level_columns

if TYPE_CHECKING:
    from apps.accounts.tokens import TokenCheck

DEFAULT_MATCH_XP = {"win": 100, "draw": 50, "loss": 25}


def match_xp(*, game_id: int, mode: str) -> dict[str, int]:
    """XP per outcome for this mode: its own rules, else the game's any-mode rules, else the
    defaults. One query."""
    xp = dict(DEFAULT_MATCH_XP)
    rules = XpRule.objects.filter(game_id=game_id, mode__in=["", mode]).order_by("mode")
    for rule in rules:  # "" sorts first, so the mode's own rules overwrite the any-mode ones
        xp[rule.outcome] = rule.xp
    return xp


def recorded_match(*, game_id: int, match_id: str) -> Match | None:
    """Two queries: the match and its results."""
    return (
        Match.objects.filter(game_id=game_id, match_id=match_id).prefetch_related("results").first()
    )


@dataclass(frozen=True)
class MatchLine:
    recorded_at: datetime
    outcome: str
    stats: dict[str, int]


def match_lines(*, player_id: int, since: datetime) -> list[MatchLine]:
    """The player's matches recorded since a moment, oldest first (one indexed query)."""
    rows = (
        MatchResult.objects.filter(player_id=player_id, recorded_at__gte=since)
        .order_by("recorded_at", "id")
        .values_list("recorded_at", "outcome", "stats")
    )
    return [MatchLine(*row) for row in rows]


def live_servers(*, game_id: int, region: str = "", mode: str = "") -> QuerySet[RegisteredServer]:
    """Servers that beat within the TTL, most free slots first."""
    fresh_since = timezone.now() - timedelta(seconds=settings.SERVER_HEARTBEAT_TTL_SECONDS)
    servers = RegisteredServer.objects.filter(game_id=game_id, last_heartbeat_at__gte=fresh_since)
    if region:
        servers = servers.filter(region=region)
    if mode:
        servers = servers.filter(mode=mode)
    return servers.annotate(free=F("capacity") - F("players")).order_by(
        "-free", "region", "server_id"
    )


def live_server(*, game_id: int, server_id: str) -> RegisteredServer:
    server = live_servers(game_id=game_id).filter(server_id=server_id).first()
    if server is None:
        raise ServerNotFound(f"No live server {server_id!r} in this game.")
    return server


PROFILE_COLUMNS = ("display_name", "banned_until", *level_columns())


@functools.cache
def _profile_query(vendor: str) -> tuple[str, tuple[str, ...]]:
    """public_player's query with the level columns, compiled by the ORM once per process:
    the SQL, and which argument goes in each placeholder. Game servers ask for a profile with
    every token they check; compiling the query each time cost more than running it."""
    game_marker, player_marker = -7_000_001, -7_000_002
    query = (
        public_player_query(game_id=game_marker, player_id=player_marker, **level_columns())
        .values_list(*PROFILE_COLUMNS)
        .query
    )
    sql, params = query.get_compiler(connection=connection).as_sql()
    names = {game_marker: "game_id", player_marker: "player_id"}
    return sql, tuple(names[param] for param in params)


def public_profile(*, game_id: int, player_id: int) -> dict[str, Any] | None:
    """The profile a game server gets with a valid token (one query: the player, its XP and
    the game's level curve); None when the player is gone."""
    if (row := profiles.row(game_id, player_id)) is None:
        generation = profiles.generation(player_id)
        sql, arguments = _profile_query(connection.vendor)
        given = {"game_id": game_id, "player_id": player_id}
        with connection.cursor() as cursor:
            cursor.execute(sql, [given[name] for name in arguments])
            row = cursor.fetchone()
        if row is None:
            return None
        profiles.remember(game_id, player_id, row, since=generation)
    display_name, banned_until, xp, xp_per_level, growth_percent, max_level = row
    if banned_until is not None and timezone.is_naive(banned_until):
        banned_until = banned_until.replace(tzinfo=UTC)  # SQLite's raw rows: naive, in UTC
    return {
        "display_name": display_name,
        "level": curve_of(xp_per_level, growth_percent, max_level).level_for(xp or 0),
        "banned": banned_until is not None and banned_until > timezone.now(),
    }


def with_profile(check: TokenCheck, *, game_id: int) -> dict[str, Any]:
    """A token check's answer, plus the player's public profile when the token is valid."""
    if not check.valid:
        return check.as_dict()
    profile = public_profile(game_id=game_id, player_id=check.claims.player_id)
    if profile is None:
        return {"valid": False, "reason": "invalid_token"}  # as auth/validate for a gone player
    return {**check.as_dict(), "player": profile}


def validate_token_with_profile(*, game: Game, raw_token: str) -> dict[str, Any]:
    """What auth/validate answers, plus the player's public profile, so a game server admits a
    player in one call. Never raises for a bad token: {"valid": false, "reason"}."""
    from apps.accounts.tokens import validate_access_token

    return with_profile(validate_access_token(raw_token, game_id=game.pk), game_id=game.pk)
