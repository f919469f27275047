"""Reads for game servers and players: live servers, XP rules, recorded matches, token checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.accounts.selectors import public_fields_of, public_fields_statement
from apps.accounts.tokens import TokenCheck
from apps.multiplayer.errors import ServerNotFound
from apps.multiplayer.models import Match, MatchResult, MatchSettings, RegisteredServer, XpRule
from apps.stats.selectors import level_from_rows, player_level_statement
from gamingpanel.shortcache import ShortCache
from gamingpanel.sql import CompiledQuery, Statement, aware, run_together

DEFAULT_MATCH_XP = {"win": 100, "draw": 50, "loss": 25}


def match_xp(*, game_id: int, mode: str) -> dict[str, int]:
    """XP per outcome for this mode: its own rules, else the game's any-mode rules, else the
    defaults. One query."""
    xp = dict(DEFAULT_MATCH_XP)
    rules = XpRule.objects.filter(game_id=game_id, mode__in=["", mode]).order_by("mode")
    for rule in rules:  # "" sorts first, so the mode's own rules overwrite the any-mode ones
        xp[rule.outcome] = rule.xp
    return xp


def undeclared_stats_rule(*, game_id: int) -> str:
    """The game's MatchSettings.undeclared_stats, "refuse" when it has none."""
    rule = MatchSettings.objects.filter(game_id=game_id).values_list("undeclared_stats", flat=True)
    return rule.first() or MatchSettings.UndeclaredStats.REFUSE


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
    # When the match ended, as its server said, never later than it was recorded: what orders
    # `latest` values (a late retry of an older match is not the latest).
    ended_at: datetime


# One compiled query (gamingpanel.sql): events/active runs it for every player with a reward
# that counts matches.
MATCH_LINES = CompiledQuery.compile(
    """
    SELECT r.recorded_at, r.outcome, r.stats, m.ended_at
      FROM {result} r JOIN {match} m ON m.id = r.match_id
     WHERE r.player_id = %s AND r.recorded_at >= %s AND r.counted
     ORDER BY r.recorded_at, r.id
    """,
    result=MatchResult,
    match=Match,
)


def match_lines(*, player_id: int, since: datetime) -> list[MatchLine]:
    """The player's matches recorded since a moment, oldest first (one indexed query); a
    match recorded while the player was banned is not among them."""
    return match_lines_of(MATCH_LINES.rows([player_id, since]))


def match_lines_statement(*, player_id: int, since: datetime) -> Statement:
    """match_lines' query, for a caller that sends it with others (gamingpanel.sql.run_together);
    its rows make the lines with match_lines_of."""
    return MATCH_LINES, [player_id, since]


def match_lines_of(rows: list[tuple[Any, ...]]) -> list[MatchLine]:
    # stats is a JSONField without a decoder: both backends hand back its text.
    return [
        MatchLine(
            aware(recorded_at), outcome, json.loads(stats), min(aware(ended_at), aware(recorded_at))
        )
        for recorded_at, outcome, stats, ended_at in rows
    ]


LIVE_SERVER_COLUMNS = (
    "server_id",
    "region",
    "address",
    "port",
    "players",
    "capacity",
    "free_slots",
    "mode",
    "version",
    "last_heartbeat_at",
)
# One compiled query (gamingpanel.sql): every client polls it. Live means a heartbeat within
# SERVER_HEARTBEAT_TTL_SECONDS; an empty region or mode filters nothing.
LIVE_SERVERS = CompiledQuery.compile(
    """
    SELECT server_id, region, address, port, players, capacity, capacity - players AS free_slots,
           mode, version, last_heartbeat_at
      FROM {server}
     WHERE game_id = %s AND last_heartbeat_at >= %s
       AND (%s = '' OR region = %s) AND (%s = '' OR mode = %s) AND (%s = '' OR server_id = %s)
     ORDER BY free_slots DESC, region, server_id
     LIMIT %s
    """,
    server=RegisteredServer,
)


def fresh_since() -> datetime:
    """The oldest heartbeat that still keeps a server live."""
    return timezone.now() - timedelta(seconds=settings.SERVER_HEARTBEAT_TTL_SECONDS)


def live_servers(
    *, game_id: int, region: str = "", mode: str = "", server_id: str = "", limit: int | None = None
) -> list[dict[str, Any]]:
    """Servers that beat within the TTL, most free slots first, as a client sees them (one
    query); `region`, `mode` and `server_id` narrow them when given. At most `limit` of them
    (never more than MULTIPLAYER_MAX_LIVE_SERVERS, as many as a game may have live)."""
    cap = settings.MULTIPLAYER_MAX_LIVE_SERVERS
    limit = cap if limit is None else min(limit, cap)
    rows = LIVE_SERVERS.rows(
        [game_id, fresh_since(), region, region, mode, mode, server_id, server_id, limit]
    )
    return [
        dict(zip(LIVE_SERVER_COLUMNS, (*row[:-1], aware(row[-1])), strict=True)) for row in rows
    ]


def live_server_count(*, game_id: int) -> int:
    """How many servers beat within the TTL: a count through the (game, last heartbeat)
    index, not the rows."""
    return RegisteredServer.objects.filter(
        game_id=game_id, last_heartbeat_at__gte=fresh_since()
    ).count()


def live_server(
    *, game_id: int, server_id: str, region: str = "", mode: str = ""
) -> dict[str, Any]:
    """The live server with this id (one query), in `region` and of `mode` when they are given:
    404 server_not_found when there is none (gone, stale, or elsewhere)."""
    found = live_servers(game_id=game_id, server_id=server_id, region=region, mode=mode, limit=1)
    if not found:
        narrowed = "".join(
            f" {name} {value!r}"
            for name, value in (("in region", region), ("of mode", mode))
            if value
        )
        raise ServerNotFound(f"No live server {server_id!r}{narrowed} in this game.")
    return found[0]


# How stale a profile a game server gets may be, in each process: a level, a name or a ban
# reaches every token check within this. (A ban ends the player's sessions at once, so the
# token itself is refused sooner.)
PROFILE_SECONDS = 1.0
ProfileRow = tuple[str, datetime | None, bool, int]  # display name, banned until, erased, level
_profiles: ShortCache[ProfileRow] = ShortCache(seconds=PROFILE_SECONDS)


def _profile_of(*, game_id: int, player_id: int) -> ProfileRow | None:
    """What the profile a game server gets with a valid token is made of (one query: the
    player, its XP and the game's level curve, at most once per PROFILE_SECONDS per process);
    None when the player is gone."""
    return _profiles.get_or_load(
        (game_id, player_id), lambda: _profile_row(game_id=game_id, player_id=player_id)
    )


def _public(row: ProfileRow) -> dict[str, Any]:
    """The public profile a game server gets with a valid token (PlayerProfileSerializer)."""
    display_name, banned_until, _erased, level = row
    return {
        "display_name": display_name,
        "level": level,
        "banned": banned_until is not None and banned_until > timezone.now(),
    }


def _profile_row(*, game_id: int, player_id: int) -> ProfileRow | None:
    """The player's public fields, erasure and level: two compiled queries, one round trip."""
    player_rows, level_rows = run_together(
        [
            public_fields_statement(game_id=game_id, player_id=player_id),
            player_level_statement(player_id=player_id, game_id=game_id),
        ]
    )
    public = public_fields_of(player_rows)
    if public is None:
        return None
    return *public, level_from_rows(level_rows)


def with_profile(check: TokenCheck, *, game_id: int) -> dict[str, Any]:
    """A token check's answer, plus the player's public profile when the token is valid."""
    if check.claims is None:  # not valid
        return check.as_dict()
    row = _profile_of(game_id=game_id, player_id=check.claims.player_id)
    if row is None:
        return {"valid": False, "reason": "invalid_token"}  # as auth/validate for a gone player
    if row[2]:
        # Erased since the token check's copy of the player was read, the revocation of its
        # sessions not yet heard of here: refused as the token check refuses it once it has
        # (token_revoked), never valid with the tombstone's profile.
        return {"valid": False, "reason": "token_revoked"}
    profile = _public(row)
    if profile["banned"]:
        # A ban revokes every session of the player, and each process hears of it within a
        # moment: in that moment the token still checks, but the profile read shows the ban. A
        # server must not let the player in (Photon, a join) on `valid` alone.
        return {"valid": False, "reason": "player_banned"}
    return {**check.as_dict(), "player": profile}
