"""How far a player is towards a reward, from the matches they played during its event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from apps.events.models import EventReward
from apps.multiplayer.models import Outcome
from apps.multiplayer.selectors import MatchLine
from apps.stats.models import StatDefinition

Combine = StatDefinition.Combine


@dataclass(frozen=True)
class Progress:
    value: int | None  # None: a stat not reported yet during the event
    met: bool


@dataclass(frozen=True)
class Goal:
    """What a reward asks of the matches played during its event."""

    requirement: str
    target: int
    stat_key: str
    combine: str | None  # the stat's rule in its game; None: the game does not define it (sum)
    starts_at: datetime
    ends_at: datetime


def reward_progress(*, goal: Goal, lines: Sequence[MatchLine]) -> Progress:
    """`lines` may reach before the event; only those recorded inside its window count."""
    during = [line for line in lines if goal.starts_at <= line.recorded_at < goal.ends_at]
    kind = goal.requirement
    if kind == EventReward.Requirement.NONE:
        return Progress(value=1, met=True)
    if kind == EventReward.Requirement.MATCHES_PLAYED:
        count = len(during)
        return Progress(value=count, met=count >= goal.target)
    if kind == EventReward.Requirement.MATCHES_WON:
        count = sum(1 for line in during if line.outcome == Outcome.WIN)
        return Progress(value=count, met=count >= goal.target)
    combine = goal.combine or Combine.SUM
    reported = [line for line in during if goal.stat_key in line.stats]
    if combine == Combine.LATEST:
        # The match that ended last, as the player's stat keeps it (apps.stats), not the one
        # that arrived last: a server's late retry of an older match does not replace it.
        reported.sort(key=lambda line: line.ended_at)  # stable: arrival breaks ties
    value = _combine([line.stats[goal.stat_key] for line in reported], combine)
    if value is None and combine == Combine.SUM:
        value = 0  # nothing reported adds up to 0, which a target of 0 has reached
    if value is None:
        return Progress(value=None, met=False)  # max, min, latest: nothing to compare yet
    # A "min" stat (a fastest lap) reaches its target by going down to it.
    met = value <= goal.target if combine == Combine.MIN else value >= goal.target
    return Progress(value=value, met=met)


def _combine(values: list[int], combine: str) -> int | None:
    if not values:
        return None
    if combine == Combine.MAX:
        return max(values)
    if combine == Combine.MIN:
        return min(values)
    if combine == Combine.LATEST:
        return values[-1]
    return sum(values)
