"""When a board's periods start and end: resets at midnight in the board's (the game's) time
zone, or with the battle-pass season."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apps.battlepass.models import Season
from apps.leaderboards.models import Board


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime | None  # None: never resets
    season: Season | None = None


def _midnight(day: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def window_at(board: Board, at: datetime) -> Window:
    """The period window holding `at`: starts at or before it, ends after it (or never)."""
    zone = zoneinfo.ZoneInfo(board.time_zone)
    local = at.astimezone(zone)
    reset = board.reset
    if reset == Board.Reset.DAILY:
        start = _midnight(local, zone)
        return Window(start, _midnight(local + timedelta(days=1), zone))
    if reset == Board.Reset.WEEKLY:
        monday = local - timedelta(days=local.weekday())
        return Window(_midnight(monday, zone), _midnight(monday + timedelta(days=7), zone))
    if reset == Board.Reset.MONTHLY:
        first = local.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Window(_midnight(first, zone), _midnight(following, zone))
    if reset == Board.Reset.SEASON:
        running = (
            Season.objects.filter(game_id=board.game_id, starts_at__lte=at, ends_at__gt=at)
            .order_by("-starts_at")
            .first()
        )
        if running is not None:
            return Window(running.starts_at, running.ends_at, running)
        upcoming = (
            Season.objects.filter(game_id=board.game_id, starts_at__gt=at)
            .order_by("starts_at")
            .first()
        )
        # Between seasons: a period until the next season starts (or open-ended).
        return Window(at, upcoming.starts_at if upcoming else None)
    return Window(at, None)
