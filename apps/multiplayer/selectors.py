"""Reads for game servers and players: live servers, XP rules, recorded matches, token checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from apps.accounts.models import Game
from apps.accounts.selectors import public_player
from apps.multiplayer.errors import ServerNotFound
from apps.multiplayer.models import Match, MatchResult, RegisteredServer, XpRule
from apps.stats.selectors import level_columns, level_of

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


def public_profile(*, game_id: int, player_id: int) -> dict[str, Any] | None:
    """The profile a game server gets with a valid token (one query: the player, its XP and
    the game's level curve); None when the player is gone."""
    player = public_player(game_id=game_id, player_id=player_id, **level_columns())
    if player is None:
        return None
    return {
        "display_name": player.display_name,
        "level": level_of(player),
        "banned": player.is_banned,
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
