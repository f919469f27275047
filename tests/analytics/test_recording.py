"""record_server_event: the fact every app records, stored whole by its compiled INSERT."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from apps.analytics.models import DirtyDay, RawEvent
from apps.analytics.services import record_server_event


def test_a_server_event_is_stored_with_every_column_as_the_orm_would(player):
    before = timezone.now()
    when = before - timedelta(minutes=5)

    event = record_server_event(
        game_id=player.game_id,
        player_id=player.pk,
        name="purchase_completed",
        properties={"offer_id": 7, "amount": 10, "nested": {"a": [1, 2]}},
        occurred_at=when,
    )

    stored = RawEvent.objects.values().get()
    assert stored == {
        "id": event.pk,
        "game_id": player.game_id,
        "player_id": player.pk,
        "source": "server",
        "name": "purchase_completed",
        "event_id": None,
        "occurred_at": when,
        "day": when.astimezone(UTC).date(),
        "received_at": stored["received_at"],
        "properties": {"offer_id": 7, "amount": 10, "nested": {"a": [1, 2]}},
    }
    assert before <= stored["received_at"] <= timezone.now()
    # The returned event is the stored row, as create() would have returned it.
    assert (event.received_at, event.day) == (stored["received_at"], stored["day"])
    assert not DirtyDay.objects.exists()  # a recent day: the aggregation reads it anyway


def test_a_late_event_marks_its_day_dirty(player):
    when = datetime.combine(timezone.now().date() - timedelta(days=10), time(23, 30), tzinfo=UTC)

    record_server_event(
        game_id=player.game_id, player_id=player.pk, name="session_start", occurred_at=when
    )

    assert RawEvent.objects.get().day == when.date()
    assert list(DirtyDay.objects.values_list("day", flat=True)) == [when.date()]


def test_an_event_without_properties_or_time_is_stored_now_with_empty_properties(player):
    event = record_server_event(game_id=player.game_id, player_id=None, name="player_created")

    stored = RawEvent.objects.get(pk=event.pk)
    assert (stored.player_id, stored.properties, stored.day) == (None, {}, event.day)
    assert stored.occurred_at == event.occurred_at
    assert not DirtyDay.objects.exists()


def test_an_unknown_name_stores_nothing(player):
    with pytest.raises(ValueError, match="SERVER_EVENT_NAMES"):
        record_server_event(game_id=player.game_id, player_id=player.pk, name="made_up")

    assert not RawEvent.objects.exists()


def test_a_receiver_of_raw_events_still_runs(player):
    """The compiled INSERT sends no signal: a model that gains a receiver is saved by save()."""
    seen = []

    def receiver(sender, instance, created, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.append((instance.pk, created))

    post_save.connect(receiver, sender=RawEvent)
    try:
        event = record_server_event(
            game_id=player.game_id, player_id=player.pk, name="session_start"
        )
    finally:
        post_save.disconnect(receiver, sender=RawEvent)

    assert seen == [(event.pk, True)]
    assert RawEvent.objects.filter(pk=event.pk).exists()
