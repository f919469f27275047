"""An event's `repeat_until` is never earlier than its start: such a series would stop before it
ever repeated, a mistyped date taken silently. The admin shows the refusal beside the field and
stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.events.authoring import schedule_repeats
from apps.events.models import Event
from tests.battlepass.admin_forms import form_as_shown
from tests.events.test_authoring import make_event

pytestmark = pytest.mark.django_db

START = datetime(2027, 3, 6, 18, 0, tzinfo=UTC)


@pytest.fixture
def operator_client(client, game):
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def weekly(game, **fields) -> Event:
    return Event(
        game=game,
        name="Weekend",
        starts_at=START,
        ends_at=START + timedelta(days=2),
        recurrence=Event.Recurrence.WEEKLY,
        **fields,
    )


def test_the_model_refuses_repeat_until_before_the_start(game):
    event = weekly(game, repeat_until=START - timedelta(minutes=1))

    with pytest.raises(ValidationError) as refused:
        event.full_clean()

    assert list(refused.value.message_dict) == ["repeat_until"]
    assert "earlier than the event's start (2027-03-06 18:00 UTC)" in str(refused.value)


def test_the_start_is_said_in_utc_whatever_zone_it_was_given_in(game):
    paris = START.astimezone(ZoneInfo("Europe/Paris"))
    event = weekly(game, repeat_until=START - timedelta(days=1))
    event.starts_at, event.ends_at = paris, paris + timedelta(days=2)

    with pytest.raises(ValidationError) as refused:
        event.full_clean()

    assert "(2027-03-06 18:00 UTC)" in str(refused.value)


@pytest.mark.parametrize("until", [START, START + timedelta(days=30), None])
def test_repeat_until_at_or_after_the_start_or_empty_is_taken(game, until):
    event = weekly(game, repeat_until=until)

    event.full_clean()  # raises ValidationError when refused

    assert event.repeat_until == until


def test_a_schedule_that_stops_at_its_start_makes_no_repeat(game, economy, settings):
    settings.EVENT_REPEAT_HORIZON_DAYS = 60
    make_event(game, START, recurrence=Event.Recurrence.WEEKLY, repeat_until=START)

    assert schedule_repeats(now=START) == 0


def form(game, *, until: datetime) -> dict[str, str]:
    return {
        "game": str(game.pk),
        "name": "Weekend",
        "description": "",
        "starts_at_0": START.strftime("%Y-%m-%d"),
        "starts_at_1": START.strftime("%H:%M:%S"),
        "ends_at_0": (START + timedelta(days=2)).strftime("%Y-%m-%d"),
        "ends_at_1": START.strftime("%H:%M:%S"),
        "active": "on",
        "recurrence": "weekly",
        "repeat_until_0": until.strftime("%Y-%m-%d"),
        "repeat_until_1": until.strftime("%H:%M:%S"),
        "rewards-TOTAL_FORMS": "0",
        "rewards-INITIAL_FORMS": "0",
    }


def test_the_admin_refuses_a_new_event_repeating_until_before_its_start(operator_client, game):
    response = operator_client.post(
        "/admin/events/event/add/", form(game, until=START - timedelta(days=1))
    )

    assert response.status_code == 200  # the form again
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["repeat_until"]  # beside the field
    assert "earlier than the event's start" in errors["repeat_until"][0]
    assert not Event.objects.exists()


def test_the_admin_takes_repeat_until_on_the_start(operator_client, game):
    response = operator_client.post("/admin/events/event/add/", form(game, until=START))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Event.objects.get().repeat_until == START


def test_moving_an_original_past_its_repeat_until_is_refused_and_changes_nothing(
    operator_client, game, economy, settings
):
    settings.EVENT_REPEAT_HORIZON_DAYS = 30
    origin = make_event(
        game,
        START,
        recurrence=Event.Recurrence.WEEKLY,
        repeat_until=START + timedelta(days=21),
    )
    assert schedule_repeats(now=START - timedelta(days=1)) == 3
    stored = list(Event.objects.order_by("pk").values())
    later = START + timedelta(days=28)
    url = f"/admin/events/event/{origin.pk}/change/"
    data = form_as_shown(operator_client, url)
    data.update(
        starts_at_0=later.strftime("%Y-%m-%d"),
        ends_at_0=(later + timedelta(days=2)).strftime("%Y-%m-%d"),
    )

    response = operator_client.post(url, data)

    assert response.status_code == 200
    assert "repeat_until" in response.context["adminform"].form.errors
    assert list(Event.objects.order_by("pk").values()) == stored
