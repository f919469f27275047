"""An operator edits an event of a series (its page in the admin): its window may change, but it
never runs at the same time as another live event of its series (each would be claimable), and a
repeat has no schedule of its own, which the scheduler would ignore."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.events.authoring import schedule_repeats
from apps.events.models import Event
from tests.battlepass.admin_forms import form_as_shown
from tests.events.test_authoring import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def series(game, economy, settings):
    """A weekly original (2 days long) that started yesterday and its next two repeats."""
    settings.EVENT_REPEAT_HORIZON_DAYS = 14
    now = timezone.now().replace(microsecond=0)
    origin = make_event(game, now - timedelta(days=1), recurrence=Event.Recurrence.WEEKLY)
    assert schedule_repeats(now=now) == 2
    return origin


@pytest.fixture
def operator_client(client, game):
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def edit(client, repeat: Event, **changes: str):
    url = f"/admin/events/event/{repeat.pk}/change/"
    data = form_as_shown(client, url)
    data.update(changes)
    return client.post(url, data)


def test_a_repeat_lengthened_into_the_next_one_is_refused(operator_client, series):
    first, second = Event.objects.filter(series=series).order_by("occurrence")
    late = second.starts_at + timedelta(hours=1)

    response = edit(
        operator_client,
        first,
        ends_at_0=late.strftime("%Y-%m-%d"),
        ends_at_1=late.strftime("%H:%M:%S"),
    )

    assert response.status_code == 200  # the form again, with the refusal
    assert "Another event of this series runs then" in response.content.decode()
    first.refresh_from_db()
    assert first.ends_at == first.starts_at + timedelta(hours=48)


def test_a_repeat_moved_onto_the_original_is_refused(operator_client, series):
    first = Event.objects.get(series=series, occurrence=1)

    response = edit(
        operator_client,
        first,
        starts_at_0=series.starts_at.strftime("%Y-%m-%d"),
        starts_at_1=series.starts_at.strftime("%H:%M:%S"),
    )

    assert response.status_code == 200
    first.refresh_from_db()
    assert first.starts_at == series.starts_at + timedelta(weeks=1)


def test_a_repeat_given_a_recurrence_of_its_own_is_refused(operator_client, series):
    first = Event.objects.get(series=series, occurrence=1)

    response = edit(operator_client, first, recurrence=Event.Recurrence.MONTHLY)

    assert response.status_code == 200
    assert "follows its original" in response.content.decode()
    assert Event.objects.get(pk=first.pk).recurrence == Event.Recurrence.NONE


def test_a_repeat_moved_within_its_week_is_saved(operator_client, series):
    first = Event.objects.get(series=series, occurrence=1)
    end = first.ends_at + timedelta(days=2)

    response = edit(
        operator_client,
        first,
        ends_at_0=end.strftime("%Y-%m-%d"),
        ends_at_1=end.strftime("%H:%M:%S"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Event.objects.get(pk=first.pk).ends_at == end


def test_a_repeat_switched_off_may_share_its_window(operator_client, series):
    first, second = Event.objects.filter(series=series).order_by("occurrence")
    Event.objects.filter(pk=second.pk).update(active=False)
    late = second.starts_at + timedelta(hours=1)

    response = edit(
        operator_client,
        first,
        ends_at_0=late.strftime("%Y-%m-%d"),
        ends_at_1=late.strftime("%H:%M:%S"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_original_moved_onto_its_running_repeat_is_refused(operator_client, game, economy):
    now = timezone.now().replace(microsecond=0)
    origin = make_event(game, now - timedelta(days=8), recurrence=Event.Recurrence.WEEKLY)
    schedule_repeats(now=now - timedelta(days=2))
    running = Event.objects.get(series=origin, occurrence=1)
    assert running.starts_at <= now < running.ends_at
    moved = now - timedelta(hours=1)

    response = edit(
        operator_client,
        origin,
        starts_at_0=moved.strftime("%Y-%m-%d"),
        starts_at_1=moved.strftime("%H:%M:%S"),
        ends_at_0=(moved + timedelta(days=2)).strftime("%Y-%m-%d"),
        ends_at_1=moved.strftime("%H:%M:%S"),
    )

    assert response.status_code == 200
    assert "Another event of this series runs then" in response.content.decode()
    assert Event.objects.get(pk=origin.pk).starts_at == now - timedelta(days=8)
