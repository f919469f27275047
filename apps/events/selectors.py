"""Running events with the player's progress, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db.models import OuterRef, Prefetch
from django.utils import timezone

from apps.accounts.models import Player
from apps.battlepass.selectors import season_runs
from apps.events.models import Event, EventReward, EventRewardClaim
from apps.events.progress import Goal, Progress, reward_progress
from apps.inventory.lines import grant_lines
from apps.multiplayer.selectors import match_lines, match_lines_of, match_lines_statement
from apps.stats.selectors import stat_combine, stat_definitions
from gamingpanel.shortcache import ShortCache
from gamingpanel.sql import CompiledQuery, Statement, run_together

NEEDS_MATCHES = {
    EventReward.Requirement.STAT,
    EventReward.Requirement.MATCHES_PLAYED,
    EventReward.Requirement.MATCHES_WON,
}


def running_events(*, game_id: int, at: datetime | None = None) -> list[Event]:
    at = at or timezone.now()
    rewards = Prefetch("rewards", queryset=EventReward.objects.order_by("position", "id"))
    return list(
        Event.objects.filter(game_id=game_id, active=True, starts_at__lte=at, ends_at__gt=at)
        .prefetch_related(rewards)
        .order_by("ends_at", "id")
    )


EVENT_FIELDS = ("id", "name", "description", "starts_at", "ends_at")
REWARD_FIELDS = ("id", "name", "requirement", "stat_key", "target", "contents", "battlepass_xp")

# How stale the events' definitions may be in each process: an event, a reward or a stat's
# combine rule that an operator adds or edits reaches players within this many seconds. Whether
# an event runs is decided on every request from the kept windows (events that start within
# this are kept too), so events start and end on time; claims and matches are never kept.
DEFINITIONS_SECONDS = 2.0


@dataclass(frozen=True)
class EventDefinition:
    event: dict[str, Any]  # EVENT_FIELDS
    rewards: list[tuple[dict[str, Any], Goal]]  # REWARD_FIELDS, and what each asks


_definitions: ShortCache[list[EventDefinition]] = ShortCache(seconds=DEFINITIONS_SECONDS)


def event_definitions(*, game_id: int) -> list[EventDefinition]:
    """The game's active events that run now or start within DEFINITIONS_SECONDS, by end, with
    their rewards: one query, kept DEFINITIONS_SECONDS in this process."""
    return _definitions.get_or_load(game_id, lambda: _load_definitions(game_id=game_id)) or []


def _load_definitions(*, game_id: int) -> list[EventDefinition]:
    at = timezone.now()
    rows = (
        Event.objects.filter(
            game_id=game_id,
            active=True,
            starts_at__lte=at + timedelta(seconds=DEFINITIONS_SECONDS),
            ends_at__gt=at,
        )
        .annotate(combine=stat_combine(game_id=game_id, key=OuterRef("rewards__stat_key")))
        .order_by("ends_at", "id", "rewards__position", "rewards__id")
        .values_list(*EVENT_FIELDS, *(f"rewards__{name}" for name in REWARD_FIELDS), "combine")
    )
    definitions: dict[int, EventDefinition] = {}
    rewards_from = len(EVENT_FIELDS)
    for row in rows:
        if row[0] not in definitions:
            event = dict(zip(EVENT_FIELDS, row[:rewards_from], strict=True))
            definitions[row[0]] = EventDefinition(event=event, rewards=[])
        definition = definitions[row[0]]
        reward = dict(zip(REWARD_FIELDS, row[rewards_from:-1], strict=True))
        if reward["id"] is None:
            continue  # an event without rewards
        # Kept in the form every grant is answered in (apps.inventory.lines), made once per
        # load instead of on every read; shared by every read: never change it.
        reward["contents"] = grant_lines(reward["contents"])
        goal = Goal(
            requirement=reward["requirement"],
            target=reward["target"],
            stat_key=reward["stat_key"],
            combine=row[-1],
            starts_at=definition.event["starts_at"],
            ends_at=definition.event["ends_at"],
        )
        definition.rewards.append((reward, goal))
    return list(definitions.values())


@lru_cache(maxsize=64)
def claims_among(count: int) -> CompiledQuery:
    """A compiled query (gamingpanel.sql), one per number of rewards listed: which of `count`
    rewards the player claimed."""
    among = ", ".join(["%s"] * count)
    # Only placeholders are interpolated; every id is a parameter.
    return CompiledQuery.compile(
        f"SELECT reward_id FROM {{claim}} WHERE player_id = %s AND reward_id IN ({among})",  # noqa: S608
        claim=EventRewardClaim,
    )


def get_active_events(*, player_id: int, game_id: int) -> list[dict[str, Any]]:
    """The running events with the player's progress and claims per reward. One round trip
    however many events and rewards, once this process knows the game's `event_definitions`
    (one more query every DEFINITIONS_SECONDS): the player's claims of the listed rewards, and
    when a reward counts matches, the player's matches since the earliest such event, sent
    together (two queries where statements cannot travel together, as on SQLite)."""
    at = timezone.now()
    running = [
        definition
        for definition in event_definitions(game_id=game_id)
        if definition.event["starts_at"] <= at < definition.event["ends_at"]
    ]
    reward_ids = [reward["id"] for definition in running for reward, _ in definition.rewards]
    counting = [
        goal.starts_at
        for definition in running
        for _, goal in definition.rewards
        if goal.requirement in NEEDS_MATCHES
    ]
    # The claims and the matches need no answer from each other: sent together, one round trip
    # on PostgreSQL (gamingpanel.sql.run_together).
    statements: list[Statement] = []
    if reward_ids:
        statements.append((claims_among(len(reward_ids)), [player_id, *reward_ids]))
    if counting:
        statements.append(match_lines_statement(player_id=player_id, since=min(counting)))
    answers = iter(run_together(statements))
    claimed = {reward_id for (reward_id,) in next(answers)} if reward_ids else set()
    lines = match_lines_of(next(answers)) if counting else []
    # A reward that grants only season XP waits for a season (claim_event_reward refuses it):
    # asked only when the running events have one, from the battle pass's kept definitions.
    waiting = any(
        only_season_xp(reward["contents"], reward["battlepass_xp"])
        for definition in running
        for reward, _ in definition.rewards
    ) and not season_runs(game_id=game_id, at=at)
    answer = []
    for definition in running:
        entries = []
        for reward, goal in definition.rewards:
            progress = reward_progress(goal=goal, lines=lines)
            is_claimed = reward["id"] in claimed
            held = waiting and only_season_xp(reward["contents"], reward["battlepass_xp"])
            entries.append(
                {
                    "reward": reward,
                    "progress": progress.value,
                    "claimed": is_claimed,
                    "claimable": progress.met and not is_claimed and not held,
                }
            )
        answer.append({"event": definition.event, "rewards": entries})
    return answer


def only_season_xp(contents: object, battlepass_xp: int) -> bool:
    """A reward whose whole grant is battle-pass XP (no currency or item lines)."""
    return bool(battlepass_xp) and not contents


def reward_for_claim(*, player: Player, event_id: int, reward_id: int) -> EventReward | None:
    """The reward a player claims, of an event switched on; of one switched off only when the
    player claimed it already (one more query, only then), so a claim retried after an operator
    switched the event off answers already_claimed (docs/guide/offline.md: done), not
    reward_not_found. A claim on its way reads that again in the statement that locks the
    reward (services.KEY_SHARE_REWARD)."""
    reward = (
        EventReward.objects.select_related("event")
        .filter(pk=reward_id, event_id=event_id, event__game_id=player.game_id)
        .first()
    )
    if reward is None or reward.event.active:
        return reward
    claimed = EventRewardClaim.objects.filter(player_id=player.pk, reward_id=reward.pk).exists()
    return reward if claimed else None


def progress_of(*, player: Player, reward: EventReward) -> Progress:
    """One reward's progress for a claim (at most two queries)."""
    event = reward.event
    lines = (
        match_lines(player_id=player.pk, since=event.starts_at)
        if reward.requirement in NEEDS_MATCHES
        else []
    )
    definition = (
        stat_definitions(game_id=player.game_id).get(reward.stat_key)
        if reward.requirement == EventReward.Requirement.STAT
        else None
    )
    goal = Goal(
        requirement=reward.requirement,
        target=reward.target,
        stat_key=reward.stat_key,
        combine=definition.combine if definition else None,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
    )
    return reward_progress(goal=goal, lines=lines)
