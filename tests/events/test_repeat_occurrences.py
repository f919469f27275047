"""Each occurrence of a repeating event is made once, whatever the operator does to the original
afterwards: moving its start or changing its recurrence makes no second set of repeats (whose
rewards players could claim twice), a repeat the operator deleted stays deleted, and repeats
that have not started follow the original's new schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.events.authoring import add_months, reschedule_repeats, schedule_repeats
from apps.events.models import Event, EventRewardClaim
from tests.battlepass.admin_forms import form_as_shown
from tests.events.test_authoring import make_event

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture
def weekly(game, settings):
    """A weekly original that started yesterday, with its three repeats made (horizon 21 d)."""
    settings.EVENT_REPEAT_HORIZON_DAYS = 21
    origin = make_event(game, NOW - timedelta(days=1), recurrence=Event.Recurrence.WEEKLY)
    assert schedule_repeats(now=NOW) == 3
    return origin


def repeats(origin: Event) -> list[tuple[int | None, datetime]]:
    rows = Event.objects.filter(series=origin).order_by("occurrence", "starts_at")
    return list(rows.values_list("occurrence", "starts_at"))


def test_repeats_are_numbered_by_occurrence(weekly):
    assert repeats(weekly) == [(n, weekly.starts_at + timedelta(weeks=n)) for n in (1, 2, 3)]
    assert Event.objects.get(pk=weekly.pk).repeats_made == 3


def test_moving_the_originals_start_makes_no_second_set(weekly):
    Event.objects.filter(pk=weekly.pk).update(
        starts_at=weekly.starts_at + timedelta(days=1), ends_at=weekly.ends_at + timedelta(days=1)
    )

    assert schedule_repeats(now=NOW) == 0
    assert schedule_repeats(now=NOW + timedelta(days=1)) == 0
    assert [n for n, _ in repeats(weekly)] == [1, 2, 3]


def test_changing_the_recurrence_makes_no_second_set(weekly):
    Event.objects.filter(pk=weekly.pk).update(recurrence=Event.Recurrence.MONTHLY)

    assert schedule_repeats(now=NOW) == 0
    assert [n for n, _ in repeats(weekly)] == [1, 2, 3]


def test_a_deleted_repeat_stays_deleted(weekly):
    Event.objects.get(series=weekly, occurrence=2).delete()  # the operator cancels a week

    assert schedule_repeats(now=NOW) == 0
    assert schedule_repeats(now=NOW + timedelta(days=7)) == 1  # the next week only
    assert [n for n, _ in repeats(weekly)] == [1, 3, 4]


def test_repeats_not_started_follow_the_originals_new_window(weekly, player):
    first = Event.objects.get(series=weekly, occurrence=1)
    Event.objects.filter(pk=first.pk).update(starts_at=NOW - timedelta(hours=1))  # running
    second = Event.objects.get(series=weekly, occurrence=2)
    EventRewardClaim.objects.create(player=player, reward=second.rewards.get())  # claimed
    weekly.starts_at += timedelta(hours=6)
    weekly.ends_at += timedelta(hours=3)
    weekly.save()

    done = reschedule_repeats(origin=weekly, actor=None, now=NOW)

    assert (done.moved, done.removed) == (1, 0)
    third = Event.objects.get(series=weekly, occurrence=3)
    assert (third.starts_at, third.ends_at) == (
        weekly.starts_at + timedelta(weeks=3),
        weekly.ends_at + timedelta(weeks=3),
    )
    assert Event.objects.get(pk=first.pk).starts_at == NOW - timedelta(hours=1)  # started
    assert Event.objects.get(pk=second.pk).starts_at == second.starts_at  # claimed
    assert schedule_repeats(now=NOW) == 0


def test_moving_the_original_a_week_earlier_never_puts_a_repeat_on_a_running_week(game, settings):
    settings.EVENT_REPEAT_HORIZON_DAYS = 21
    origin = make_event(
        game, NOW - timedelta(days=8), hours=6 * 24, recurrence=Event.Recurrence.WEEKLY
    )
    schedule_repeats(now=NOW)
    running = Event.objects.get(series=origin, occurrence=1)
    assert running.starts_at <= NOW < running.ends_at
    origin.starts_at -= timedelta(weeks=1)
    origin.ends_at -= timedelta(weeks=1)
    origin.save()

    done = reschedule_repeats(origin=origin, actor=None, now=NOW)

    series = list(Event.objects.filter(pk=origin.pk) | Event.objects.filter(series=origin))
    windows = sorted((event.starts_at, event.ends_at) for event in series)
    assert all(end <= next_start for (_, end), (next_start, _) in pairwise(windows))
    assert [e.pk for e in series if e.starts_at <= NOW < e.ends_at] == [running.pk]
    assert done.removed == 1  # occurrence 2, whose new window was occurrence 1's


def test_shortening_a_series_removes_its_later_repeats_and_lengthening_makes_them_anew(weekly):
    weekly.repeat_until = weekly.starts_at + timedelta(weeks=1)
    weekly.save()
    done = reschedule_repeats(origin=weekly, actor=None, now=NOW)
    assert (done.moved, done.removed) == (0, 2)
    assert [n for n, _ in repeats(weekly)] == [1]

    weekly.repeat_until = None
    weekly.save()

    assert schedule_repeats(now=NOW) == 2
    assert [n for n, _ in repeats(weekly)] == [1, 2, 3]


def test_a_series_that_stops_repeating_loses_the_repeats_not_started(weekly):
    weekly.recurrence = Event.Recurrence.NONE
    weekly.save()

    done = reschedule_repeats(origin=weekly, actor=None, now=NOW)

    assert done.removed == 3
    assert repeats(weekly) == []


def test_an_inactive_original_makes_no_repeats(game, settings):
    settings.EVENT_REPEAT_HORIZON_DAYS = 21
    origin = make_event(
        game, NOW - timedelta(days=1), recurrence=Event.Recurrence.WEEKLY, active=False
    )

    assert schedule_repeats(now=NOW) == 0
    origin.active = True
    origin.save()
    assert schedule_repeats(now=NOW) == 3


def test_the_admin_moves_the_repeats_when_the_operator_moves_the_original(
    client, game, economy, settings
):
    settings.EVENT_REPEAT_HORIZON_DAYS = 21
    now = timezone.now().replace(microsecond=0)
    origin = make_event(game, now + timedelta(days=1), recurrence=Event.Recurrence.WEEKLY)
    assert schedule_repeats(now=now) == 2  # weeks 1 and 2 start within 21 days
    operator = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=operator, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(operator)
    url = f"/admin/events/event/{origin.pk}/change/"
    data = form_as_shown(client, url)
    later = origin.starts_at + timedelta(hours=6)
    data["starts_at_0"], data["starts_at_1"] = (
        later.strftime("%Y-%m-%d"),
        later.strftime("%H:%M:%S"),
    )

    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "2 moved, 0 removed" in response.content.decode()
    origin.refresh_from_db()
    assert origin.starts_at == later
    assert repeats(origin) == [(n, later + timedelta(weeks=n)) for n in (1, 2)]
    assert [e.ends_at - e.starts_at for e in Event.objects.filter(series=origin)] == [
        timedelta(hours=42)
    ] * 2
    assert schedule_repeats(now=now) == 0


JAN_5 = datetime(2027, 1, 5, tzinfo=UTC)


def run_daily(first: datetime, last: datetime) -> None:
    """The beat task, once a day from `first` to `last`."""
    day = first
    while day <= last:
        schedule_repeats(now=day)
        day += timedelta(days=1)


def windows(origin: Event) -> list[tuple[datetime, datetime]]:
    series = Event.objects.filter(pk=origin.pk) | Event.objects.filter(series=origin)
    return sorted(series.values_list("starts_at", "ends_at"))


def never_two_at_once(origin: Event) -> bool:
    return all(end <= next_start for (_, end), (next_start, _) in pairwise(windows(origin)))


def edit_original(origin: Event, *, now: datetime, **changes) -> tuple[int, int]:
    """What the admin does when an operator saves the original's new schedule."""
    before = Event.objects.get(pk=origin.pk)
    for name, value in changes.items():
        setattr(origin, name, value)
    origin.save()
    done = reschedule_repeats(origin=origin, actor=None, before=before, now=now)
    return done.moved, done.removed


@pytest.fixture
def monthly_since_january(game, settings):
    """Monthly from Jan 5 (7 days), run daily until Apr 6: repeats 1-4 (Feb 5 to May 5)."""
    settings.EVENT_REPEAT_HORIZON_DAYS = 35
    origin = make_event(game, JAN_5, hours=7 * 24, recurrence=Event.Recurrence.MONTHLY)
    run_daily(JAN_5, datetime(2027, 4, 6, 12, tzinfo=UTC))
    assert [start.day for start, _ in windows(origin)] == [5] * 5
    return origin


@pytest.fixture
def weekly_since_january(game, settings):
    """Weekly from Jan 5 (7 days), run daily until Mar 16 noon: repeat 10 (Mar 16-23) runs,
    11-15 are made (to Apr 20)."""
    settings.EVENT_REPEAT_HORIZON_DAYS = 35
    origin = make_event(game, JAN_5, hours=7 * 24, recurrence=Event.Recurrence.WEEKLY)
    run_daily(JAN_5, datetime(2027, 3, 16, 12, tzinfo=UTC))
    assert Event.objects.get(pk=origin.pk).repeats_made == 15
    return origin


def test_a_monthly_series_switched_to_weekly_runs_weekly_after_the_running_repeat(
    monthly_since_january,
):
    origin, switch = monthly_since_january, datetime(2027, 4, 6, 12, tzinfo=UTC)

    moved, removed = edit_original(origin, now=switch, recurrence=Event.Recurrence.WEEKLY)
    run_daily(switch, datetime(2027, 6, 1, 12, tzinfo=UTC))

    # Repeat 3 (Apr 5-12) runs on; weekly resumes when it ends, every week, until the horizon.
    assert never_two_at_once(origin)
    after = [start for start, _ in windows(origin) if start > datetime(2027, 4, 5, tzinfo=UTC)]
    assert after == [datetime(2027, 4, 13, tzinfo=UTC) + timedelta(weeks=n) for n in range(13)]
    assert (moved, removed) == (1, 0)  # May 5's repeat is Apr 13's now


def test_a_weekly_series_switched_to_monthly_is_not_quiet_for_months(weekly_since_january):
    origin, switch = weekly_since_january, datetime(2027, 3, 16, 12, tzinfo=UTC)

    moved, removed = edit_original(origin, now=switch, recurrence=Event.Recurrence.MONTHLY)

    upcoming = [start for start, _ in windows(origin) if start > switch]
    assert upcoming == [datetime(2027, month, 5, tzinfo=UTC) for month in (4, 5, 6, 7, 8)]
    assert (moved, removed) == (5, 0)
    run_daily(switch, datetime(2027, 10, 1, 12, tzinfo=UTC))
    assert never_two_at_once(origin)
    upcoming = [start for start, _ in windows(origin) if start > switch]
    assert upcoming == [datetime(2027, month, 5, tzinfo=UTC) for month in range(4, 12)]


def test_moving_a_weekly_series_start_far_back_keeps_one_repeat_a_week(weekly_since_january):
    origin, switch = weekly_since_january, datetime(2027, 3, 16, 12, tzinfo=UTC)
    back = timedelta(weeks=10, days=3, hours=12)

    edit_original(
        origin, now=switch, starts_at=origin.starts_at - back, ends_at=origin.ends_at - back
    )
    run_daily(switch, datetime(2027, 5, 1, tzinfo=UTC))

    # Repeat 10 runs to Mar 23; the new schedule's weeks start on Fridays at noon.
    assert never_two_at_once(origin)
    after = [start for start, _ in windows(origin) if start > switch]
    assert after == [datetime(2027, 3, 26, 12, tzinfo=UTC) + timedelta(weeks=n) for n in range(11)]


def test_the_scheduler_makes_no_repeat_over_one_kept_from_the_old_schedule(
    monthly_since_january,
):
    origin = monthly_since_january
    # Changed without reschedule_repeats (a shell, a data fix): repeat 3 runs Apr 5-12.
    Event.objects.filter(pk=origin.pk).update(recurrence=Event.Recurrence.WEEKLY)

    run_daily(datetime(2027, 4, 6, 12, tzinfo=UTC), datetime(2027, 4, 20, 12, tzinfo=UTC))

    assert never_two_at_once(origin)
    assert datetime(2027, 4, 13, tzinfo=UTC) in [start for start, _ in windows(origin)]


def test_the_admin_switching_weekly_to_monthly_resumes_after_the_running_repeat(
    client, game, economy, settings
):
    settings.EVENT_REPEAT_HORIZON_DAYS = 35
    now = timezone.now().replace(microsecond=0)
    origin = make_event(
        game,
        now - timedelta(weeks=10, hours=12),
        hours=7 * 24,
        recurrence=Event.Recurrence.WEEKLY,
    )
    schedule_repeats(now=now)
    running = Event.objects.get(series=origin, occurrence=10)
    assert running.starts_at <= now < running.ends_at
    assert Event.objects.filter(series=origin, starts_at__gt=now).count() == 5
    operator = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=operator, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(operator)
    url = f"/admin/events/event/{origin.pk}/change/"
    data = form_as_shown(client, url)
    data["recurrence"] = Event.Recurrence.MONTHLY

    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    monthly = [add_months(origin.starts_at, n) for n in range(1, 12)]
    expected = [start for start in monthly if start >= running.ends_at][:5]
    upcoming = [start for start, _ in windows(origin) if start > now]
    assert upcoming == expected
    assert never_two_at_once(origin)
