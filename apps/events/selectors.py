"""Running events with the player's progress, in a fixed number of queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import FilteredRelation, OuterRef, Prefetch, Q
from django.utils import timezone

from apps.accounts.models import Player
from apps.events.models import Event, EventReward
from apps.events.progress import Goal, Progress, reward_progress
from apps.multiplayer.selectors import match_lines
from apps.stats.selectors import stat_combine, stat_definitions

NEEDS_MATCHES = {
    EventReward.Requirement.STAT,
    EventReward.Requirement.MATCHES_PLAYED,
    EventReward.Requirement.MATCHES_WON,
}


def running_events(*, game_id: int, at: datetime | None = None) -> list[Event]:
    at = at or timezone.now()
    rewards = Prefetch("rewards", queryset=EventReward.objects.order_by("position", "id"))
    return list(
        Event.objects.filter(game_id=game_id, starts_at__lte=at, ends_at__gt=at)
        .prefetch_related(rewards)
        .order_by("ends_at", "id")
    )


EVENT_FIELDS = ("id", "name", "description", "starts_at", "ends_at")
REWARD_FIELDS = ("id", "name", "requirement", "stat_key", "target", "contents", "battlepass_xp")


def get_active_events(*, player_id: int, game_id: int) -> list[dict[str, Any]]:
    """Two queries, however many events and rewards: the running events with their rewards, the
    player's claims and each stat's combine rule (outer joins and a subquery); then, when a
    reward counts matches, the player's matches since the earliest such event."""
    at = timezone.now()
    rows = (
        Event.objects.filter(game_id=game_id, starts_at__lte=at, ends_at__gt=at)
        .annotate(
            own_claim=FilteredRelation(
                "rewards__claims", condition=Q(rewards__claims__player_id=player_id)
            ),
            combine=stat_combine(game_id=game_id, key=OuterRef("rewards__stat_key")),
        )
        .order_by("ends_at", "id", "rewards__position", "rewards__id")
        .values_list(
            *EVENT_FIELDS,
            *(f"rewards__{name}" for name in REWARD_FIELDS),
            "own_claim__id",
            "combine",
        )
    )
    listed: dict[int, tuple[dict[str, Any], list[tuple[dict[str, Any], Goal, bool]]]] = {}
    rewards_from = len(EVENT_FIELDS)
    for row in rows:
        if row[0] not in listed:
            listed[row[0]] = (dict(zip(EVENT_FIELDS, row[:rewards_from], strict=True)), [])
        event, rewards = listed[row[0]]
        reward = dict(zip(REWARD_FIELDS, row[rewards_from:-2], strict=True))
        if reward["id"] is None:
            continue  # an event without rewards
        claim_id, combine = row[-2:]
        goal = Goal(
            requirement=reward["requirement"],
            target=reward["target"],
            stat_key=reward["stat_key"],
            combine=combine,
            starts_at=event["starts_at"],
            ends_at=event["ends_at"],
        )
        rewards.append((reward, goal, claim_id is not None))
    counting = [
        goal.starts_at
        for _, rewards in listed.values()
        for _, goal, _ in rewards
        if goal.requirement in NEEDS_MATCHES
    ]
    lines = match_lines(player_id=player_id, since=min(counting)) if counting else []
    answer = []
    for event, rewards in listed.values():
        entries = []
        for reward, goal, claimed in rewards:
            progress = reward_progress(goal=goal, lines=lines)
            entries.append(
                {
                    "reward": reward,
                    "progress": progress.value,
                    "claimed": claimed,
                    "claimable": progress.met and not claimed,
                }
            )
        answer.append({"event": event, "rewards": entries})
    return answer


def reward_for_claim(*, player: Player, event_id: int, reward_id: int) -> EventReward | None:
    return (
        EventReward.objects.select_related("event")
        .filter(pk=reward_id, event_id=event_id, event__game_id=player.game_id)
        .first()
    )


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
