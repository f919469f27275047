"""A repeating event so late in year 9999 that its next occurrence is past the calendar has no
next occurrence: the beat task goes on to every other series (any game's), and saving the
original is no 500. The task raised on it, so no series after it ever got its repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.events.authoring import reschedule_repeats, schedule_repeats
from apps.events.models import Event
from tests.events.test_authoring import make_event

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, tzinfo=UTC)
LAST_WEEK = datetime(9999, 12, 27, tzinfo=UTC)  # its next week is past 9999-12-31


@pytest.mark.parametrize(
    ("recurrence", "start"),
    [(Event.Recurrence.WEEKLY, LAST_WEEK), (Event.Recurrence.MONTHLY, datetime(9999, 12, 1))],
)
def test_a_series_whose_next_occurrence_is_past_the_calendar_stops_nobody_elses(
    game, other_game, settings, recurrence, start
):
    settings.EVENT_REPEAT_HORIZON_DAYS = 21
    late = make_event(game, start.replace(tzinfo=UTC), hours=24, recurrence=recurrence)
    other = make_event(other_game, NOW - timedelta(days=1), recurrence=Event.Recurrence.WEEKLY)
    assert late.pk < other.pk  # the task deals with series in id order

    assert schedule_repeats(now=NOW) == 3  # the other game's three weeks
    assert Event.objects.filter(series=other).count() == 3
    assert not Event.objects.filter(series=late).exists()

    # The original rescheduled after an edit (the admin's save) has nothing to move.
    before = Event.objects.get(pk=late.pk)
    late.ends_at += timedelta(hours=1)
    late.save()
    done = reschedule_repeats(origin=late, actor=None, before=before, now=NOW)
    assert (done.moved, done.removed) == (0, 0)
