"""Reads for game servers and players: live servers, XP rules, recorded matches, token checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from apps.accounts.models import Game, Player
from apps.multiplayer.errors import ServerNotFound
from apps.multiplayer.models import Match, MatchResult, RegisteredServer, XpRule
from apps.stats.selectors import player_levels

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


def validate_token_with_profile(*, game: Game, raw_token: str) -> dict[str, Any]:
    """What auth/validate answers, plus the player's public profile, so a game server admits a
    player in one call. Never raises for a bad token: {"valid": false, "reason"}."""
    from apps.accounts.tokens import validate_access_token

    check = validate_access_token(raw_token, game_id=game.pk)
    if not check.valid:
        return check.as_dict()
    player = (
        Player.objects.filter(pk=check.claims.player_id, game=game)
        .only("display_name", "banned_until")
        .first()
    )
    if player is None:
        return {"valid": False, "reason": "invalid_token"}  # as auth/validate for a gone player
    return {
        **check.as_dict(),
        "player": {
            "display_name": player.display_name,
            "level": player_levels(game_id=game.pk, player_ids=[player.pk])[player.pk],
            "banned": player.is_banned,
        },
    }
