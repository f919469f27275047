"""Running events with the player's progress, in a fixed number of queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from apps.accounts.models import Player
from apps.events.models import Event, EventReward, EventRewardClaim
from apps.events.progress import reward_progress
from apps.multiplayer.selectors import match_lines
from apps.stats.selectors import stat_definitions

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


def get_active_events(*, player: Player) -> list[dict[str, Any]]:
    """At most five queries: events, rewards, claims, the player's matches since the earliest
    event that counts matches, and the stat definitions."""
    events = running_events(game_id=player.game_id)
    rewards = [reward for event in events for reward in event.rewards.all()]
    claimed = (
        set(
            EventRewardClaim.objects.filter(player=player, reward__in=rewards).values_list(
                "reward_id", flat=True
            )
        )
        if rewards
        else set()
    )
    counting = [e for e in events if any(r.requirement in NEEDS_MATCHES for r in e.rewards.all())]
    lines = (
        match_lines(player_id=player.pk, since=min(e.starts_at for e in counting))
        if counting
        else []
    )
    needs_stats = any(r.requirement == EventReward.Requirement.STAT for r in rewards)
    combines = (
        {key: d.combine for key, d in stat_definitions(game_id=player.game_id).items()}
        if needs_stats
        else {}
    )
    answer = []
    for event in events:
        entries = []
        for reward in event.rewards.all():
            progress = reward_progress(reward=reward, event=event, lines=lines, combines=combines)
            entries.append(
                {
                    "reward": reward,
                    "progress": progress.value,
                    "claimed": reward.pk in claimed,
                    "claimable": progress.met and reward.pk not in claimed,
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


def progress_of(*, player: Player, reward: EventReward) -> Any:
    """One reward's progress for a claim (at most two queries)."""
    event = reward.event
    lines = (
        match_lines(player_id=player.pk, since=event.starts_at)
        if reward.requirement in NEEDS_MATCHES
        else []
    )
    combines = (
        {key: d.combine for key, d in stat_definitions(game_id=player.game_id).items()}
        if reward.requirement == EventReward.Requirement.STAT
        else {}
    )
    return reward_progress(reward=reward, event=event, lines=lines, combines=combines)
