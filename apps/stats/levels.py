"""The level curve as numbers: cumulative XP thresholds, and the level a total XP reaches."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_XP_PER_LEVEL = 1000
DEFAULT_GROWTH_PERCENT = 10
DEFAULT_MAX_LEVEL = 100
MAX_XP = 2**63 - 1  # the XP column's largest value


@dataclass(frozen=True)
class Curve:
    xp_per_level: int = DEFAULT_XP_PER_LEVEL
    growth_percent: int = DEFAULT_GROWTH_PERCENT
    max_level: int = DEFAULT_MAX_LEVEL

    def thresholds(self) -> tuple[int, ...]:
        return _thresholds(self.xp_per_level, self.growth_percent, self.max_level)

    def level_for(self, xp: int) -> int:
        """Highest level whose threshold `xp` has reached (level 1 needs 0 XP)."""
        return bisect_right(self.thresholds(), xp)

    def xp_to_next_level(self, xp: int) -> int | None:
        """XP still missing to the next level; None at the curve's last level, or at the last
        one any XP total reaches."""
        level = self.level_for(xp)
        if level >= self.max_level or self.thresholds()[level] > MAX_XP:
            return None
        return self.thresholds()[level] - xp

    def reachable(self) -> bool:
        """Whether a player can reach every level: its last threshold fits the XP column."""
        return self.thresholds()[-1] <= MAX_XP


@lru_cache(maxsize=64)
def _thresholds(xp_per_level: int, growth_percent: int, max_level: int) -> tuple[int, ...]:
    """thresholds[n - 1] is the total XP that reaches level n; rounded per step so every
    process computes the same integers."""
    totals, total, step = [0], 0, float(xp_per_level)
    for _ in range(max_level - 1):
        if total > MAX_XP:
            totals.append(total)  # past what any player holds: no further step is computed
            continue  # (a steep curve's steps pass the float range: round(inf) would raise)
        total += round(step)
        totals.append(total)
        step *= 1 + growth_percent / 100
    return tuple(totals)
