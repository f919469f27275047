"""Deleting the original of a repeating event deletes the repeats it made that have not started
and have no claim, as when it stops repeating: left behind, they ran as standalone events, and
recreating the series (to fix its rewards, say) put a second live copy on each of those weeks,
both rewards claimable. Repeats that started or were claimed stay, live, on their own."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry
from apps.events.authoring import delete_events, schedule_repeats
from apps.events.models import Event, EventReward, EventRewardClaim
from tests.events.test_authoring import make_event

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, tzinfo=UTC)
CHANGELIST = "/admin/events/event/"


@pytest.fixture
def operator_client(client, game, economy):
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def weekly_in_an_hour(game, now: datetime) -> Event:
    """A weekly original starting in an hour, with its repeats made (22 days: weeks 1 to 3)."""
    origin = make_event(game, now + timedelta(hours=1), hours=4, recurrence="weekly")
    assert schedule_repeats(now=now) == 3
    return origin


def series_ids(origin: Event) -> list[int]:
    return list(
        Event.objects.filter(series=origin).order_by("occurrence").values_list("pk", flat=True)
    )


def deletions_of_repeats() -> list[tuple[str, dict]]:
    rows = AuditLogEntry.objects.filter(action="event.delete_repeats").order_by("id")
    return list(rows.values_list("target_id", "after"))


def test_deleting_an_original_deletes_its_repeats_not_started_and_keeps_the_rest(
    game, economy, player, settings
):
    settings.EVENT_REPEAT_HORIZON_DAYS = 21
    origin = make_event(game, NOW - timedelta(days=1), recurrence="weekly")
    assert schedule_repeats(now=NOW) == 3
    running, claimed, upcoming = series_ids(origin)
    Event.objects.filter(pk=running).update(starts_at=NOW - timedelta(hours=1))
    EventRewardClaim.objects.create(player=player, reward=EventReward.objects.get(event=claimed))

    done = delete_events(events=[origin], actor=None, now=NOW)

    assert (done.repeats_removed, done.repeats_kept) == (1, 2)
    left = Event.objects.order_by("pk").values_list("pk", "series_id", "active")
    assert list(left) == [(running, None, True), (claimed, None, True)]  # live, on their own
    assert not EventReward.objects.filter(event_id=upcoming).exists()
    assert deletions_of_repeats() == [
        (str(origin.pk), {"removed": [upcoming], "kept": [running, claimed]})
    ]
    assert schedule_repeats(now=NOW + timedelta(days=7)) == 0


def test_an_original_deleted_and_recreated_in_the_admin_has_one_live_copy_a_week(
    operator_client, game, settings
):
    settings.EVENT_REPEAT_HORIZON_DAYS = 22
    now = timezone.now()
    origin = weekly_in_an_hour(game, now)
    repeats = series_ids(origin)
    url = f"{CHANGELIST}{origin.pk}/delete/"

    page = operator_client.get(url).content.decode()
    response = operator_client.post(url, {"post": "yes"})

    assert "<li>Events: 4</li>" in page  # what goes is listed
    assert all(f"{CHANGELIST}{pk}/change/" in page for pk in repeats)
    assert response.status_code == 302
    assert not Event.objects.exists()
    assert AuditLogEntry.objects.filter(action="admin_delete", target_id=origin.pk).count() == 1
    assert deletions_of_repeats() == [(str(origin.pk), {"removed": repeats, "kept": []})]
    # The operator makes it anew, same window, rewards fixed.
    make_event(game, origin.starts_at, hours=4, recurrence="weekly")
    assert schedule_repeats(now=now) == 3
    assert set(Counter(Event.objects.values_list("starts_at", flat=True)).values()) == {1}


def test_bulk_delete_in_the_admin_takes_each_originals_repeats_not_started(
    operator_client, game, settings
):
    settings.EVENT_REPEAT_HORIZON_DAYS = 22
    now = timezone.now()
    first = weekly_in_an_hour(game, now)
    second = make_event(game, now - timedelta(days=1), recurrence="weekly")
    assert schedule_repeats(now=now) == 3
    first_repeats = series_ids(first)
    running = first_repeats[0]
    Event.objects.filter(pk=running).update(starts_at=now - timedelta(hours=1))
    selected = {"action": "delete_selected", "_selected_action": [first.pk, second.pk]}

    page = operator_client.post(CHANGELIST, selected).content.decode()
    second_repeats = series_ids(second)
    response = operator_client.post(CHANGELIST, selected | {"post": "yes"})

    assert f"{CHANGELIST}{running}/change/" not in page  # started: it stays
    assert all(f"{CHANGELIST}{pk}/change/" in page for pk in first_repeats[1:] + second_repeats)
    assert response.status_code == 302
    assert list(Event.objects.values_list("pk", "series_id")) == [(running, None)]
    assert AuditLogEntry.objects.filter(action="admin_delete").count() == 2
    assert deletions_of_repeats() == [
        (str(first.pk), {"removed": first_repeats[1:], "kept": [running]}),
        (str(second.pk), {"removed": second_repeats, "kept": []}),
    ]
