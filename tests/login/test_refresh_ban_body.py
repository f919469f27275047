"""A refresh refused for a ban says when the ban ends, as a login refused for it does."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from tests.accounts.conftest import LOGIN, REFRESH, assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.server_urls")]


def refused_login() -> dict:
    response = APIClient().post(
        LOGIN,
        {"platform": "dev", "credentials": {"user_id": "alice", "display_name": "alice"}},
        HTTP_X_GAME_KEY="alpha-client-key",
    )
    return assert_problem(response, 403, "player_banned")


def refused_refresh(raw: str) -> dict:
    return assert_problem(APIClient().post(REFRESH, {"refresh_token": raw}), 403, "player_banned")


def test_a_permanent_ban_reads_the_same_at_refresh_as_at_login(
    tokens, django_capture_on_commit_callbacks
):
    player = Player.objects.get(pk=tokens["player"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=player, reason="cheating", until=None, actor=None)  # revokes the session

    refresh_body, login_body = refused_refresh(tokens["refresh_token"]), refused_login()

    assert refresh_body["banned_until"] == login_body["banned_until"] == "9999-12-31T00:00:00+00:00"
    assert refresh_body.keys() == login_body.keys()


def test_a_timed_ban_reads_the_same_at_refresh_as_at_login(tokens):
    # Set in the row alone, as a ban whose revocation has not reached the session yet.
    until = (timezone.now() + timedelta(days=2)).replace(microsecond=250_000)
    Player.objects.filter(pk=tokens["player"]["id"]).update(banned_until=until)

    refresh_body, login_body = refused_refresh(tokens["refresh_token"]), refused_login()

    assert refresh_body["banned_until"] == login_body["banned_until"]
    assert datetime.fromisoformat(refresh_body["banned_until"]) == until
    assert refresh_body["banned_until"].endswith("+00:00")
    assert refresh_body.keys() == login_body.keys()


def test_a_ban_stated_in_another_zone_is_answered_in_utc(tokens):
    paris = datetime(2099, 6, 1, 12, 30, tzinfo=UTC).astimezone(timezone.get_fixed_timezone(120))
    Player.objects.filter(pk=tokens["player"]["id"]).update(banned_until=paris)

    assert refused_refresh(tokens["refresh_token"])["banned_until"] == "2099-06-01T12:30:00+00:00"
    assert refused_login()["banned_until"] == "2099-06-01T12:30:00+00:00"
