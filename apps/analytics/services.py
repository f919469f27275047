"""Recording analytics facts. Other apps call `record_server_event` for what the panel itself
knows (logins, purchases, matches, claims); clients cannot send these names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.analytics.models import RawEvent

SERVER_EVENT_NAMES = frozenset(
    {
        "session_start",  # login or refresh; properties: {"kind": "login"|"refresh", "platform"}
        "player_created",
        "purchase_completed",  # {"offer_id", "currency", "amount", "real_money"}
        "purchase_refunded",
        "match_played",  # {"match_id", "mode", "outcome"}
        "event_reward_claimed",  # {"event_id", "reward_id"}
        "battlepass_tier_claimed",  # {"season_id", "level", "track"}
    }
)


def record_server_event(
    *,
    game_id: int,
    player_id: int | None,
    name: str,
    properties: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> RawEvent:
    """Call inside the transaction of the fact it records, so both land or neither does."""
    if name not in SERVER_EVENT_NAMES:
        raise ValueError(f"Unknown server event {name!r}; add it to SERVER_EVENT_NAMES.")
    occurred_at = occurred_at or timezone.now()
    return RawEvent.objects.create(
        game_id=game_id,
        player_id=player_id,
        source=RawEvent.Source.SERVER,
        name=name,
        occurred_at=occurred_at,
        day=occurred_at.date(),
        properties=properties or {},
    )
