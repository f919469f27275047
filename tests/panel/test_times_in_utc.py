"""The panel's times are UTC and say so: every date-time input is labelled "(UTC)" and read as
UTC whatever TIME_ZONE is, every time shown ends in "UTC", a leaderboard's period end is also
shown in the board's own time zone, and a remote-config override's created-before cut-off is
shown to the minute."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.leaderboards.models import Board, Period
from apps.panel.forms import SegmentActionForm
from apps.remoteconfig.models import ConfigOverride
from tests.panel.confirming import confirm

pytestmark = pytest.mark.django_db


def config_page(game) -> str:
    return f"/panel/games/{game.pk}/config/"


def boards_page(game) -> str:
    return f"/panel/games/{game.pk}/leaderboards/"


def player_page(game, player) -> str:
    return f"/panel/games/{game.pk}/players/{player.pk}/"


@pytest.fixture
def speed_key(operator_client, game) -> None:
    operator_client.post(config_page(game) + "set-key", {"key": "speed", "value": "1"})


@pytest.fixture
def madrid_board(game) -> Board:
    """A weekly board resetting at Madrid's Monday midnight; its open period ends on Monday
    2099-06-15 00:00 in Madrid (summer time, UTC+2), Sunday 22:00 in UTC."""
    board = Board.objects.create(
        game=game, slug="weekly", name="Weekly", reset="weekly", time_zone="Europe/Madrid"
    )
    Period.objects.create(
        board=board,
        number=1,
        starts_at=datetime(2099, 6, 7, 22, 0, tzinfo=UTC),
        ends_at=datetime(2099, 6, 14, 22, 0, tzinfo=UTC),
    )
    return board


def test_every_date_time_input_says_utc(operator_client, game, player, speed_key):
    config = operator_client.get(config_page(game)).content.decode()
    ban = operator_client.get(player_page(game, player)).content.decode()
    segment = operator_client.get(f"/panel/games/{game.pk}/segment/").content.decode()

    assert 'type="datetime-local"' in config and 'type="datetime-local"' in ban
    assert ">Created at or after (UTC):</label>" in config
    assert ">Created before (UTC):</label>" in config
    assert ">Until (UTC):</label>" in ban
    assert "Ban until (UTC)" in segment


def test_the_two_created_befores_say_what_they_mean(operator_client, game, speed_key):
    config = operator_client.get(config_page(game)).content.decode()

    assert "created before this minute, not at it" in config
    assert "the player list's date, whose whole day counts" in config


@pytest.mark.parametrize("deployment_zone", ["UTC", "Europe/Madrid"])
def test_an_override_created_before_1830_is_1830_utc_and_shown_so(
    operator_client, game, speed_key, settings, deployment_zone
):
    settings.TIME_ZONE = deployment_zone  # the inputs say UTC: they are read as UTC regardless

    operator_client.post(
        config_page(game) + "add-override",
        {"key": "speed", "position": 0, "value": "2", "payer": "unknown",
         "rollout_percent": 100, "created_after": "2027-06-01T08:15",
         "created_before": "2027-06-10T18:30"},
    )  # fmt: skip

    override = ConfigOverride.objects.get()
    assert override.created_after == datetime(2027, 6, 1, 8, 15, tzinfo=UTC)
    assert override.created_before == datetime(2027, 6, 10, 18, 30, tzinfo=UTC)
    html = operator_client.get(config_page(game)).content.decode()
    assert "from 2027-06-01 08:15 UTC" in html
    assert "before 2027-06-10 18:30 UTC" in html


def test_a_release_shows_when_it_was_published_in_utc(operator_client, game, speed_key):
    operator_client.post(config_page(game) + "publish", {"note": "first"})

    html = operator_client.get(config_page(game)).content.decode()

    releases = html[html.index('id="releases"') :]
    assert releases.count(" UTC</td>") == 1


def test_a_madrid_board_shows_its_period_end_in_utc_and_in_madrid(
    analyst_client, game, madrid_board
):
    listed = analyst_client.get(boards_page(game)).content.decode()
    page = analyst_client.get(f"{boards_page(game)}{madrid_board.pk}/").content.decode()

    row = listed[listed.index('id="boards"') :]
    assert "2099-06-14 22:00 UTC" in row and "2099-06-15 00:00 Europe/Madrid" in row
    window = page[page.index('id="period-window"') :].split("</p>")[0]
    assert "2099-06-07 22:00 UTC – 2099-06-14 22:00 UTC" in window
    assert "2099-06-08 00:00 – 2099-06-15 00:00 Europe/Madrid" in window


def test_a_utc_board_shows_its_period_end_once(analyst_client, game, madrid_board):
    madrid_board.time_zone = "UTC"
    madrid_board.save()

    listed = analyst_client.get(boards_page(game)).content.decode()

    row = listed[listed.index('id="boards"') :]
    assert "2099-06-14 22:00 UTC" in row and "2099-06-15 00:00" not in row


@pytest.mark.parametrize("deployment_zone", ["UTC", "Europe/Madrid"])
def test_a_ban_typed_as_1830_is_stored_and_shown_as_1830_utc(
    operator_client, game, player, settings, deployment_zone
):
    settings.TIME_ZONE = deployment_zone

    confirm(
        operator_client,
        player_page(game, player) + "ban",
        {"reason": "Cheating", "until": "2099-06-10T18:30"},
    )

    player.refresh_from_db()
    assert player.banned_until == datetime(2099, 6, 10, 18, 30, tzinfo=UTC)
    html = operator_client.get(player_page(game, player)).content.decode()
    state = html[html.index('id="ban-state"') :].split("</div>")[0]
    assert "until 2099-06-10 18:30 UTC" in state


def test_every_time_on_the_player_page_ends_in_utc(operator_client, game, player):
    player.last_login_at = datetime(2027, 6, 10, 18, 30, 5, tzinfo=UTC)
    player.save(update_fields=["last_login_at"])

    html = operator_client.get(player_page(game, player)).content.decode()

    kpis = html[: html.index('id="ban-state"')]
    assert f"{player.created_at:%Y-%m-%d %H:%M} UTC" in kpis
    assert "2027-06-10 18:30 UTC" in kpis


@pytest.mark.parametrize("deployment_zone", ["UTC", "Europe/Madrid"])
def test_a_segment_ban_typed_as_1830_is_1830_utc(settings, deployment_zone):
    settings.TIME_ZONE = deployment_zone
    form = SegmentActionForm(
        {"kind": "ban", "ban_until": "2099-06-10T18:30", "reason": "Bots",
         "idempotency_key": "k1"},
        currencies=["gold"],
        items=[],
    )  # fmt: skip

    assert form.is_valid(), form.errors
    assert form.cleaned_data["ban_until"] == datetime(2099, 6, 10, 18, 30, tzinfo=UTC)
