"""Operators clone events (rewards included) and let weekly or monthly events repeat: a beat task
creates the repeats ahead, once per start, whatever how often it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry
from apps.events.authoring import add_months, schedule_repeats
from apps.events.models import Event, EventReward
from apps.events.tasks import schedule_event_repeats

pytestmark = pytest.mark.django_db


def make_event(game, start: datetime, hours: int = 48, **fields) -> Event:
    event = Event.objects.create(
        game=game, name="Weekend", starts_at=start, ends_at=start + timedelta(hours=hours), **fields
    )
    EventReward.objects.create(
        event=event, name="Play", contents=[{"currency": "gold", "quantity": 5}], position=1
    )
    return event


def test_clone_copies_window_and_rewards(client, game):
    operator = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=operator, game=game, role=GameAccess.Role.OPERATOR)
    event = make_event(game, datetime(2027, 1, 2, tzinfo=UTC))
    client.force_login(operator)
    client.post(
        "/admin/events/event/", {"action": "clone_selected", "_selected_action": [event.pk]}
    )
    copy = Event.objects.exclude(pk=event.pk).get()
    assert (copy.name, copy.starts_at, copy.ends_at, copy.active) == (
        "Weekend (copy)",
        event.starts_at,
        event.ends_at,
        False,  # to edit and switch on, as an offer's clone
    )
    assert list(copy.rewards.values_list("name", "contents")) == [
        ("Play", [{"currency": "gold", "quantity": 5}])
    ]
    assert AuditLogEntry.objects.filter(action="event.clone").count() == 1


def test_weekly_repeats_are_created_ahead_once(game, settings):
    settings.EVENT_REPEAT_HORIZON_DAYS = 21
    now = datetime(2027, 3, 1, tzinfo=UTC)
    origin = make_event(game, now - timedelta(days=1), recurrence=Event.Recurrence.WEEKLY)

    assert schedule_repeats(now=now) == 3
    assert schedule_repeats(now=now) == 0  # again: nothing more
    repeats = Event.objects.filter(series=origin).order_by("starts_at")
    assert [r.starts_at - origin.starts_at for r in repeats] == [
        timedelta(weeks=n) for n in (1, 2, 3)
    ]
    assert all(r.rewards.count() == 1 and r.recurrence == "none" for r in repeats)

    later = now + timedelta(days=7)
    assert schedule_repeats(now=later) == 1  # the horizon moved a week


def test_monthly_repeats_keep_the_day_or_the_months_last(game, settings):
    settings.EVENT_REPEAT_HORIZON_DAYS = 70
    start = datetime(2027, 1, 31, 18, tzinfo=UTC)
    origin = make_event(game, start, recurrence=Event.Recurrence.MONTHLY)
    schedule_repeats(now=start)
    starts = [e.starts_at for e in Event.objects.filter(series=origin).order_by("starts_at")]
    assert starts == [datetime(2027, 2, 28, 18, tzinfo=UTC), datetime(2027, 3, 31, 18, tzinfo=UTC)]
    assert add_months(datetime(2027, 12, 15, tzinfo=UTC), 1) == datetime(2028, 1, 15, tzinfo=UTC)


def test_repeat_until_and_past_repeats(game, settings):
    settings.EVENT_REPEAT_HORIZON_DAYS = 60
    now = datetime(2027, 3, 1, tzinfo=UTC)
    origin = make_event(
        game, now - timedelta(days=30), recurrence=Event.Recurrence.WEEKLY,
        repeat_until=now + timedelta(days=10),
    )  # fmt: skip
    schedule_repeats(now=now)
    starts = sorted(Event.objects.filter(series=origin).values_list("starts_at", flat=True))
    # Weekly from Jan 30: Feb 27 is over at Mar 1 00:00 (not created late), Mar 6 is due,
    # Mar 13 starts after repeat_until (Mar 11).
    assert starts == [datetime(2027, 3, 6, tzinfo=UTC)]


def test_a_repeating_event_must_end_before_its_next_repeat(game):
    event = Event(
        game=game, name="Long", starts_at=datetime(2027, 1, 1, tzinfo=UTC),
        ends_at=datetime(2027, 1, 10, tzinfo=UTC), recurrence=Event.Recurrence.WEEKLY,
    )  # fmt: skip
    with pytest.raises(ValidationError):
        event.full_clean()


def test_beat_task_runs_the_scheduler(game, settings):
    settings.EVENT_REPEAT_HORIZON_DAYS = 8
    from django.utils import timezone

    make_event(game, timezone.now() - timedelta(hours=1), recurrence=Event.Recurrence.WEEKLY)
    assert schedule_event_repeats.delay().get() == 1
    assert "schedule-event-repeats" in settings.CELERY_BEAT_SCHEDULE
