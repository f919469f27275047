"""A date-time typed with an offset that carries it past the calendar in UTC (9999-12-31 23:59
at UTC-1 is 10000-01-01 00:59 UTC; 0001-01-01 00:00 at UTC+1 is in the year 0) is refused by
the form, and nothing is stored. PostgreSQL would store the instant, and every later read of the
row (the player page and list, the exports, the config page) was a 500: Python's datetime cannot
hold it."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_seen
from apps.panel.models import SegmentAction
from apps.remoteconfig.models import ConfigOverride

pytestmark = pytest.mark.django_db

PAST_THE_LAST_DAY = "9999-12-31T23:59-01:00"
BEFORE_THE_FIRST_DAY = "0001-01-01T00:00+01:00"


def pages(game, player) -> list[str]:
    base = f"/panel/games/{game.pk}"
    return [
        f"{base}/players/{player.pk}/",
        f"{base}/players/",
        f"{base}/records/players.csv",
        f"{base}/config/",
    ]


def read_all(client, game, player) -> None:
    for page in pages(game, player):
        response = client.get(page)
        assert response.status_code == 200, page
        if response.streaming:
            b"".join(response.streaming_content)


@pytest.mark.parametrize("until", [PAST_THE_LAST_DAY, "9999-12-31T23:59:59.999999-00:01"])
def test_a_ban_past_the_calendar_is_refused(operator_client, game, player, until):
    url = f"/panel/games/{game.pk}/players/{player.pk}/ban"
    for body in (
        {"reason": "cheating", "until": until},  # the form, before its confirmation
        {"reason": "cheating", "until": until, "confirm": "yes", "seen_ban": ban_seen(player)},
    ):
        response = operator_client.post(url, body, follow=True)

        assert response.status_code == 200
        assert "Nothing changed: until: Outside the calendar in UTC" in response.content.decode()
    player.refresh_from_db()
    assert player.banned_until is None
    read_all(operator_client, game, player)


@pytest.mark.parametrize(
    ("field", "value"),
    [("created_after", BEFORE_THE_FIRST_DAY), ("created_before", PAST_THE_LAST_DAY)],
)
def test_an_override_past_the_calendar_is_refused(operator_client, game, player, field, value):
    config = f"/panel/games/{game.pk}/config/"
    operator_client.post(config + "set-key", {"key": "speed", "value": "1"})

    response = operator_client.post(
        config + "add-override",
        {"key": "speed", "position": 0, "value": "2", "rollout_percent": 100, field: value},
        follow=True,
    )

    assert "Outside the calendar in UTC" in response.content.decode()
    assert not ConfigOverride.objects.filter(config_key__game=game).exists()
    read_all(operator_client, game, player)


def test_a_segment_ban_past_the_calendar_is_refused(operator_client, game, player):
    response = operator_client.post(
        f"/panel/games/{game.pk}/segment/",
        {
            "kind": "ban",
            "reason": "cheating ring",
            "idempotency_key": "segment-form-1",
            "ban_until": PAST_THE_LAST_DAY,
            "confirm": "yes",
        },
    )

    assert response.status_code == 200  # the form again, with why
    assert "Outside the calendar in UTC" in response.content.decode()
    assert not SegmentAction.objects.filter(game=game).exists()
    assert Player.objects.get(pk=player.pk).banned_until is None
    read_all(operator_client, game, player)


def test_the_calendars_last_minute_in_utc_is_still_a_ban(operator_client, game, player):
    url = f"/panel/games/{game.pk}/players/{player.pk}/ban"
    body = {"reason": "cheating", "until": "9999-12-31T22:59-01:00"}

    operator_client.post(url, {**body, "confirm": "yes", "seen_ban": ban_seen(player)})

    player.refresh_from_db()
    assert player.banned_until is not None and player.banned_until.year == 9999
    read_all(operator_client, game, player)
