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
from apps.events.authoring import reschedule_repeats, schedule_repeats
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
