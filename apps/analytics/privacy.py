"""The player's raw analytics events and active days (PlayerDay): in the data export, and the
events stripped on erasure (apps.accounts.privacy).

Erasure clears what the player's client sent of its own (a client event's free-form
`properties` and its `event_id`, either may hold anything the game put there) and keeps the
rows, source, name and time: aggregation (apps.analytics.aggregation) rebuilds a day from its raw
events, and a day re-aggregated after the erasure must keep its DAU, event counts, per-name
counts, MAU and retention. The panel's own records (purchases, refunds, new players, matches,
sessions, claims: ids and amounts only) are kept as they are, for the same reason (revenue,
payers, new players). Both stay until ANALYTICS_RAW_RETENTION_DAYS prunes them, pseudonymous
under the tombstone, as PlayerDay does."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.accounts.models import Player
from apps.analytics.models import PlayerDay, RawEvent


def export(player: Player) -> dict[str, Any]:
    events = RawEvent.objects.filter(game_id=player.game_id, player=player).order_by("id")
    days = PlayerDay.objects.filter(game_id=player.game_id, player_id=player.pk).order_by("day")
    return {
        "events": list(events.values("name", "source", "event_id", "occurred_at", "properties")),
        "days": list(days.values("day", "events", "sessions")),
    }


def erase(player: Player) -> None:
    RawEvent.objects.filter(
        game_id=player.game_id, player=player, source=RawEvent.Source.CLIENT
    ).filter(~Q(properties={}) | Q(event_id__isnull=False)).update(properties={}, event_id=None)
