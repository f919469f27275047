"""The player list and the segment pages are UTC too: the list's date filters are labelled as
UTC days and say the whole day counts (unlike an override's created before), every time the
list and the segment pages show ends in "UTC", and so do the panel's messages that print one
(a ban's end, the sweep's next try), whatever TIME_ZONE is. The segment form shows its fields'
help texts, escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.inventory.models import Currency
from apps.inventory.services import Change
from apps.panel import services
from apps.panel.forms import SegmentActionForm
from apps.panel.models import STALLED_AFTER, SegmentAction
from tests.panel.confirming import confirm

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "Europe/Madrid"]


def players_page(game) -> str:
    return f"/panel/games/{game.pk}/players/"


def segment_page(game) -> str:
    return f"/panel/games/{game.pk}/segment/"


def run_page(action: SegmentAction) -> str:
    return f"/panel/games/{action.game_id}/segment/runs/{action.pk}/"


def utc_minute(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold")


@pytest.fixture
def action(game, operator, player, gold) -> SegmentAction:
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="outage", change=Change("currency", "gold", 10),
    )  # fmt: skip
    return action


# The player list's date filters


def test_the_date_filters_are_utc_days_and_say_the_whole_day_counts(operator_client, game):
    html = operator_client.get(players_page(game)).content.decode()

    for name, label in [
        ("created_after", "Created after (UTC day)"),
        ("created_before", "Created before (UTC day)"),
        ("seen_after", "Last seen after (UTC day)"),
        ("seen_before", "Last seen before (UTC day)"),
    ]:
        assert f"<label>{label} <input" in html
        assert f'aria-describedby="id_{name}_helptext"' in html
        help_text = html.split(f'id="id_{name}_helptext">')[1].split("</span>")[0]
        assert "The whole day counts" in help_text
    created_before = html.split('id="id_created_before_helptext">')[1].split("</span>")[0]
    assert "up to 23:59:59 UTC" in created_before
    assert "unlike a remote-config override&#x27;s created before" in created_before
    assert "leaves out the instant it names" in created_before


@pytest.mark.parametrize("deployment_zone", ZONES)
def test_created_before_a_day_still_takes_the_whole_utc_day(
    operator_client, game, settings, deployment_zone
):
    """A UTC day, as the label says, whatever TIME_ZONE is; both bounds' days included."""
    settings.TIME_ZONE = deployment_zone
    first, last, next_day = Player.objects.bulk_create(
        [Player(game=game, display_name=name) for name in ("first", "last", "next")]
    )
    for who, created in [
        (first, datetime(2026, 6, 10, 0, 0, tzinfo=UTC)),
        (last, datetime(2026, 6, 10, 23, 59, 59, tzinfo=UTC)),
        (next_day, datetime(2026, 6, 11, 0, 0, tzinfo=UTC)),
    ]:
        Player.objects.filter(pk=who.pk).update(created_at=created)

    response = operator_client.get(
        players_page(game) + "?created_after=2026-06-10&created_before=2026-06-10"
    )

    assert {p.pk for p in response.context["players"]} == {first.pk, last.pk}


@pytest.mark.parametrize("deployment_zone", ZONES)
def test_the_player_list_shows_created_and_last_seen_in_utc(
    operator_client, game, player, settings, deployment_zone
):
    settings.TIME_ZONE = deployment_zone
    Player.objects.filter(pk=player.pk).update(
        created_at=datetime(2026, 6, 10, 18, 30, tzinfo=UTC),
        last_login_at=datetime(2026, 6, 11, 7, 5, tzinfo=UTC),
    )

    html = operator_client.get(players_page(game)).content.decode()

    results = html[html.index('id="player-results"') :]
    assert "<td>2026-06-10 18:30 UTC</td><td>2026-06-11 07:05 UTC</td>" in results


# Messages that print a time


@pytest.mark.parametrize("deployment_zone", ZONES)
@pytest.mark.parametrize("typed", ["2099-06-10T18:30", "2099-06-10T20:30+02:00"])
def test_the_ban_message_ends_in_utc(
    operator_client, game, player, settings, deployment_zone, typed
):
    settings.TIME_ZONE = deployment_zone

    response = confirm(
        operator_client,
        f"{players_page(game)}{player.pk}/ban",
        {"reason": "Cheating", "until": typed},
        follow=True,
    )

    shown = [str(message) for message in response.context["messages"]]
    assert shown == [f"{player} is banned until 2099-06-10 18:30 UTC."]


@pytest.mark.parametrize("deployment_zone", ZONES)
def test_queue_again_with_the_queue_down_says_the_sweeps_next_try_in_utc(
    operator_client, action, broker_down, settings, deployment_zone
):
    settings.TIME_ZONE = deployment_zone
    idle = timezone.now() - timedelta(days=3)
    SegmentAction.objects.filter(pk=action.pk).update(
        status="running", started_at=idle, progressed_at=idle
    )

    response = operator_client.post(run_page(action), follow=True)

    action.refresh_from_db()
    next_try = (action.last_moved + STALLED_AFTER).astimezone(UTC)
    (shown,) = [str(message) for message in response.context["messages"]]
    assert re.search(r"\(not before \d\d:\d\d UTC\)", shown), shown
    assert f"(not before {next_try:%H:%M} UTC)" in shown


# The segment pages


@pytest.mark.parametrize("deployment_zone", ZONES)
def test_the_segment_pages_show_their_times_in_utc(
    operator_client, action, settings, deployment_zone
):
    settings.TIME_ZONE = deployment_zone
    SegmentAction.objects.filter(pk=action.pk).update(
        created_at=datetime(2026, 6, 10, 18, 30, tzinfo=UTC),
        finished_at=datetime(2026, 6, 10, 19, 45, 5, tzinfo=UTC),
    )

    recent = operator_client.get(segment_page(game=action.game)).content.decode()
    run = operator_client.get(run_page(action)).content.decode()

    assert "<td>2026-06-10 18:30 UTC</td>" in recent
    assert " on 2026-06-10 18:30 UTC — " in run
    assert "<p>Finished 2026-06-10 19:45:05 UTC.</p>" in run


@pytest.mark.parametrize("deployment_zone", ZONES)
def test_a_stalled_run_says_since_when_and_when_it_resumes_in_utc(
    operator_client, action, settings, deployment_zone
):
    settings.TIME_ZONE = deployment_zone
    stuck_since = timezone.now() - STALLED_AFTER - timedelta(minutes=1)
    next_try = timezone.now() + timedelta(minutes=4)
    SegmentAction.objects.filter(pk=action.pk).update(
        status="running", started_at=stuck_since, progressed_at=stuck_since,
        next_auto_resume_at=next_try,
    )  # fmt: skip

    html = operator_client.get(run_page(action)).content.decode()

    assert f"No progress since {utc_minute(stuck_since)}:" in html
    assert f"It resumes it by itself at {utc_minute(next_try)} (resume 1 of" in html


@pytest.mark.parametrize("deployment_zone", ZONES)
def test_a_run_left_to_an_operator_says_since_when_in_utc(
    operator_client, action, settings, deployment_zone
):
    settings.TIME_ZONE = deployment_zone
    last_moved = datetime(2026, 6, 10, 18, 30, tzinfo=UTC)
    SegmentAction.objects.filter(pk=action.pk).update(
        status="running", started_at=last_moved, progressed_at=last_moved
    )

    html = operator_client.get(run_page(action)).content.decode()

    assert "it has not moved since 2026-06-10 18:30 UTC, more than a day ago" in html


def test_the_segment_form_shows_its_help_texts(operator_client, game):
    html = operator_client.get(segment_page(game)).content.decode()

    form = html[html.index('id="segment-form"') :]
    assert 'aria-describedby="id_ban_until_helptext"' in form
    assert '<span class="gp-help" id="id_ban_until_helptext">Empty: until unbanned.</span>' in form


def test_a_help_text_is_escaped(operator_client, game, monkeypatch):
    field = SegmentActionForm.base_fields["ban_until"]
    monkeypatch.setattr(field, "help_text", "Empty: <b>until</b> unbanned & more.")

    html = operator_client.get(segment_page(game)).content.decode()

    assert "Empty: &lt;b&gt;until&lt;/b&gt; unbanned &amp; more." in html
    assert "<b>until</b>" not in html


def test_the_segment_preview_names_its_date_filters_as_utc_days(operator_client, game):
    html = operator_client.get(
        segment_page(game) + "?created_before=2026-06-10&banned=no"
    ).content.decode()

    preview = html[html.index('id="segment-preview"') :].split("</ul>")[0]
    assert "<li><strong>Created before (UTC day)</strong>: 2026-06-10</li>" in preview
    assert "<li><strong>Banned</strong>: no</li>" in preview
