"""Reads for game servers and players: live servers, XP rules, recorded matches, token checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from apps.accounts.selectors import public_player
from apps.accounts.tokens import TokenCheck
from apps.multiplayer.errors import ServerNotFound
from apps.multiplayer.models import Match, MatchResult, RegisteredServer, XpRule
from apps.stats.selectors import level_columns, level_of
from gamingpanel.shortcache import ShortCache

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


SERVER_FIELDS = (
    "server_id",
    "region",
    "address",
    "port",
    "players",
    "capacity",
    "mode",
    "version",
    "last_heartbeat_at",
)


def live_servers(
    *, game_id: int, region: str = "", mode: str = ""
) -> QuerySet[RegisteredServer, dict[str, Any]]:
    """Servers that beat within the TTL, most free slots first: rows of what a client sees
    (one query)."""
    fresh_since = timezone.now() - timedelta(seconds=settings.SERVER_HEARTBEAT_TTL_SECONDS)
    servers = RegisteredServer.objects.filter(game_id=game_id, last_heartbeat_at__gte=fresh_since)
    if region:
        servers = servers.filter(region=region)
    if mode:
        servers = servers.filter(mode=mode)
    return servers.values(*SERVER_FIELDS, free_slots=F("capacity") - F("players")).order_by(
        "-free_slots", "region", "server_id"
    )


def live_server(*, game_id: int, server_id: str) -> dict[str, Any]:
    """One live server's row (one query), or ServerNotFound."""
    server = live_servers(game_id=game_id).filter(server_id=server_id).first()
    if server is None:
        raise ServerNotFound(f"No live server {server_id!r} in this game.")
    return server


# How stale a profile a game server gets may be, in each process: a level, a name or a ban
# reaches every token check within this. (A ban ends the player's sessions at once, so the
# token itself is refused sooner.)
PROFILE_SECONDS = 1.0
ProfileRow = tuple[str, datetime | None, int]  # display name, banned until, level
_profiles: ShortCache[ProfileRow] = ShortCache(seconds=PROFILE_SECONDS)


def public_profile(*, game_id: int, player_id: int) -> dict[str, Any] | None:
    """The profile a game server gets with a valid token (one query: the player, its XP and
    the game's level curve, at most once per PROFILE_SECONDS per process); None when the
    player is gone."""
    row = _profiles.get_or_load(
        (game_id, player_id), lambda: _profile_row(game_id=game_id, player_id=player_id)
    )
    if row is None:
        return None
    display_name, banned_until, level = row
    return {
        "display_name": display_name,
        "level": level,
        "banned": banned_until is not None and banned_until > timezone.now(),
    }


def _profile_row(*, game_id: int, player_id: int) -> ProfileRow | None:
    player = public_player(game_id=game_id, player_id=player_id, **level_columns())
    if player is None:
        return None
    return player.display_name, player.banned_until, level_of(player)


def with_profile(check: TokenCheck, *, game_id: int) -> dict[str, Any]:
    """A token check's answer, plus the player's public profile when the token is valid."""
    if not check.valid:
        return check.as_dict()
    profile = public_profile(game_id=game_id, player_id=check.claims.player_id)
    if profile is None:
        return {"valid": False, "reason": "invalid_token"}  # as auth/validate for a gone player
    return {**check.as_dict(), "player": profile}
