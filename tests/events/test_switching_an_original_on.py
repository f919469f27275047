"""An original switched back on (or edited without a change to its schedule) keeps its repeats
where they are: none is moved then, so none of them may run at the same time as the original
(both would be claimable)."""

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
def operator_client(client, game):
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def edit(client, event: Event, **changes: str | None):
    url = f"/admin/events/event/{event.pk}/change/"
    data = form_as_shown(client, url)
    data.update(changes)
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(url, data)


@pytest.fixture
def upcoming_series(game, economy, settings):
    """A weekly original (2 days long) that starts in 3 days and its first two repeats."""
    settings.EVENT_REPEAT_HORIZON_DAYS = 20
    now = timezone.now().replace(microsecond=0)
    origin = make_event(game, now + timedelta(days=3), recurrence=Event.Recurrence.WEEKLY)
    assert schedule_repeats(now=now) == 2
    return origin


def move_first_repeat_onto_the_switched_off_original(client, origin: Event) -> Event:
    assert edit(client, origin, active=None).status_code == 302  # switched off
    first = Event.objects.get(series=origin, occurrence=1)
    start = origin.starts_at + timedelta(hours=1)
    response = edit(
        client,
        first,
        starts_at_0=start.strftime("%Y-%m-%d"),
        starts_at_1=start.strftime("%H:%M:%S"),
        ends_at_0=(start + timedelta(days=2)).strftime("%Y-%m-%d"),
        ends_at_1=start.strftime("%H:%M:%S"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]  # the original is off
    return first


def test_switching_on_an_original_a_repeat_now_overlaps_is_refused(
    operator_client, upcoming_series
):
    first = move_first_repeat_onto_the_switched_off_original(operator_client, upcoming_series)

    response = edit(operator_client, upcoming_series, active="on")

    assert response.status_code == 200
    assert "Another event of this series runs then" in response.content.decode()
    assert not Event.objects.get(pk=upcoming_series.pk).active
    assert Event.objects.get(pk=first.pk).active


def test_switching_it_on_once_the_repeat_is_off_is_saved(operator_client, upcoming_series):
    first = move_first_repeat_onto_the_switched_off_original(operator_client, upcoming_series)
    Event.objects.filter(pk=first.pk).update(active=False)

    response = edit(operator_client, upcoming_series, active="on")

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Event.objects.get(pk=upcoming_series.pk).active


def test_moving_the_original_still_moves_its_upcoming_repeats_out_of_its_way(
    operator_client, upcoming_series
):
    later = upcoming_series.starts_at + timedelta(days=7)

    response = edit(
        operator_client,
        upcoming_series,
        starts_at_0=later.strftime("%Y-%m-%d"),
        ends_at_0=(later + timedelta(days=2)).strftime("%Y-%m-%d"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    live = list(Event.objects.filter(active=True).order_by("starts_at"))
    assert all(a.ends_at <= b.starts_at for a, b in zip(live, live[1:], strict=False))


def test_an_original_saved_unchanged_keeps_its_repeats_on_its_schedule(
    operator_client, game, economy, settings
):
    """The page shows times to the second: an original made with microseconds (by code, the
    API's clock) is saved to the second. Its repeats not started follow it, as after any
    change to its schedule, rather than keep a start the series no longer has."""
    settings.EVENT_REPEAT_HORIZON_DAYS = 20
    start = timezone.now().replace(microsecond=250_000) + timedelta(days=3)
    origin = make_event(game, start, recurrence=Event.Recurrence.WEEKLY)
    assert schedule_repeats() == 2

    response = edit(operator_client, origin)

    assert response.status_code == 302, response.content.decode()[:2000]
    origin.refresh_from_db()
    assert origin.starts_at == start.replace(microsecond=0)
    assert [e.starts_at for e in Event.objects.filter(series=origin).order_by("occurrence")] == [
        origin.starts_at + timedelta(weeks=1),
        origin.starts_at + timedelta(weeks=2),
    ]
