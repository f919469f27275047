"""Reads of seasons and of a player's pass."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from django.utils import timezone

from apps.battlepass.models import Season, SeasonPass, Tier, TierClaim
from apps.inventory.lines import grant_lines
from gamingpanel.shortcache import ShortCache
from gamingpanel.sql import CompiledQuery, aware


class HasWindow(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


WindowT = TypeVar("WindowT", bound=HasWindow)


def latest_running(seasons: Iterable[WindowT], at: datetime) -> WindowT | None:
    """The season that runs at `at`: of those whose window holds it (from the first instant,
    until the last), the one that started last (seasons may overlap), the first created on a
    tie."""
    running = [s for s in seasons if s.starts_at <= at < s.ends_at]
    return min(running, key=lambda s: (-s.starts_at.timestamp(), s.id), default=None)


def running_season(*, game_id: int, at: datetime | None = None) -> Season | None:
    at = at or timezone.now()
    return latest_running(
        Season.objects.filter(game_id=game_id, starts_at__lte=at, ends_at__gt=at), at
    )


# How stale a season's definition may be in each process: a season or tier that an operator adds
# or edits reaches players within this many seconds. Which season runs is decided on every
# request from the kept windows (seasons that start within this are kept too), so seasons start
# and end on time; the player's pass and claims are never kept.
DEFINITIONS_SECONDS = 2.0


@dataclass(frozen=True)
class TierDefinition:
    level: int
    xp_required: int
    # In the form grants are answered in (inventory.lines.grant_lines), shared by every read of
    # the kept definition: read them, never change them.
    free_reward: list[dict[str, Any]]
    premium_reward: list[dict[str, Any]]


@dataclass(frozen=True)
class SeasonDefinition:
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    tiers: tuple[TierDefinition, ...]  # by level


# One compiled query (gamingpanel.sql): the game's seasons that run now or start within the
# bound, with their tiers (an outer join), by level.
SEASONS = CompiledQuery.compile(
    """
    SELECT season.id, season.name, season.starts_at, season.ends_at,
           tier.level, tier.xp_required, tier.free_reward, tier.premium_reward
      FROM {season} season
      LEFT JOIN {tier} tier ON tier.season_id = season.id
     WHERE season.game_id = %s AND season.starts_at <= %s AND season.ends_at > %s
     ORDER BY season.id, tier.level
    """,
    season=Season,
    tier=Tier,
)

# The player's own pass in one season (xp, premium) and their claims on its tiers (level,
# track): one compiled query, one row for the pass (if any) and one per claim.
OWN_PROGRESS = CompiledQuery.compile(
    """
    SELECT own_pass.xp, own_pass.premium, NULL, NULL
      FROM {season_pass} own_pass
     WHERE own_pass.season_id = %s AND own_pass.player_id = %s
    UNION ALL
    SELECT NULL, NULL, tier.level, own_claim.track
      FROM {claim} own_claim JOIN {tier} tier ON tier.id = own_claim.tier_id
     WHERE own_claim.player_id = %s AND tier.season_id = %s
    """,
    season_pass=SeasonPass,
    tier=Tier,
    claim=TierClaim,
)

_definitions: ShortCache[list[SeasonDefinition]] = ShortCache(seconds=DEFINITIONS_SECONDS)
_season_ends: ShortCache[dict[int, datetime]] = ShortCache(seconds=DEFINITIONS_SECONDS)


def season_definitions(*, game_id: int) -> list[SeasonDefinition]:
    """The game's seasons that run now or start within DEFINITIONS_SECONDS, with their tiers:
    one query, kept DEFINITIONS_SECONDS in this process."""
    return _definitions.get_or_load(game_id, lambda: _load_definitions(game_id=game_id)) or []


def _load_definitions(*, game_id: int) -> list[SeasonDefinition]:
    at = timezone.now()
    rows = SEASONS.rows([game_id, at + timedelta(seconds=DEFINITIONS_SECONDS), at])
    seasons: dict[int, SeasonDefinition] = {}
    tiers: dict[int, list[TierDefinition]] = {}
    for season_id, name, starts_at, ends_at, level, xp_required, free, premium in rows:
        if season_id not in seasons:
            seasons[season_id] = SeasonDefinition(
                season_id, name, aware(starts_at), aware(ends_at), tiers=()
            )
            tiers[season_id] = []
        if level is not None:  # a season without tiers has one row, its tier columns null
            # JSONFields without a decoder: both backends hand back their text. The lines are
            # kept in the form every grant is answered in (apps.inventory.lines), made once per
            # load instead of on every read of the season's tiers.
            free_reward, premium_reward = json.loads(free), json.loads(premium)
            tiers[season_id].append(
                TierDefinition(
                    level, xp_required, grant_lines(free_reward), grant_lines(premium_reward)
                )
            )
    return [replace(season, tiers=tuple(tiers[key])) for key, season in seasons.items()]


def season_runs(*, game_id: int, at: datetime | None = None) -> bool:
    """Whether one of the game's seasons runs (at `at`, default now), from the kept
    definitions (season_definitions): no query while they are kept."""
    return latest_running(season_definitions(game_id=game_id), at or timezone.now()) is not None


def season_ends(*, game_id: int, season_ids: set[int]) -> dict[int, datetime]:
    """When each of these seasons ends, by id, for those that are the game's (a season of
    another game, or none, is left out): one query, read now."""
    seasons = Season.objects.filter(game_id=game_id, pk__in=season_ids)
    return dict(seasons.values_list("pk", "ends_at"))


def unended_season_ends(*, game_id: int) -> dict[int, datetime]:
    """When each of the game's seasons that had not ended ends, by id: what the shop asks of
    an offer that sells a premium pass. One query, kept DEFINITIONS_SECONDS in this process
    (a season an operator adds, moves or deletes counts within that bound); compare the ends
    with the time you judge at."""
    return _season_ends.get_or_load(game_id, lambda: _load_season_ends(game_id=game_id)) or {}


def _load_season_ends(*, game_id: int) -> dict[int, datetime]:
    seasons = Season.objects.filter(game_id=game_id, ends_at__gt=timezone.now())
    return dict(seasons.values_list("pk", "ends_at"))


def get_progress(*, player_id: int, game_id: int) -> dict[str, Any]:
    """The player's pass in the running season, tier by tier, in the order of the body the
    player API answers: the season's definition as kept (season_definitions), and one query
    of the player's own pass and claims."""
    at = timezone.now()
    season = latest_running(season_definitions(game_id=game_id), at)
    if season is None:
        return {"season": None, "xp": 0, "tier": 0, "premium": False, "tiers": []}
    xp, premium, claimed = 0, False, set()
    for pass_xp, pass_premium, level, track in OWN_PROGRESS.rows(
        [season.id, player_id, player_id, season.id]
    ):
        if level is None:
            xp, premium = pass_xp, bool(pass_premium)
        else:
            claimed.add((level, track))
    return {
        "season": {
            "id": season.id,
            "name": season.name,
            "starts_at": season.starts_at,
            "ends_at": season.ends_at,
        },
        "xp": xp,
        "tier": max((t.level for t in season.tiers if t.xp_required <= xp), default=0),
        "premium": premium,
        "tiers": [
            {
                "tier": tier.level,
                "level": tier.level,  # deprecated: the same as "tier", for v1 clients
                "xp_required": tier.xp_required,
                "free_reward": tier.free_reward,
                "premium_reward": tier.premium_reward,
                "free_claimed": (tier.level, TierClaim.Track.FREE) in claimed,
                "premium_claimed": (tier.level, TierClaim.Track.PREMIUM) in claimed,
            }
            for tier in season.tiers
        ],
    }
