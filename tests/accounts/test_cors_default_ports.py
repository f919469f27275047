"""A game's CORS origin typed with its scheme's default port (https://x:443, http://x:80) is the
origin a browser sends without it: normalised when saved in the admin, and when read, so a value
saved before applies too."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.admin import GameForm
from apps.accounts.models import Game, parse_origins
from tests.accounts.conftest import LOGIN

pytestmark = pytest.mark.django_db


def test_default_ports_are_dropped_and_others_kept():
    assert parse_origins(
        "https://play.example.com:443\nhttp://localhost:80\nhttps://a.example:8443\n"
        "http://b.example:443\nhttps://c.example:0443\nhttps://play.example.com"
    ) == [
        "https://play.example.com",
        "http://localhost",
        "https://a.example:8443",
        "http://b.example:443",
        "https://c.example",
    ]


def test_the_admin_saves_the_origin_a_browser_sends(game):
    form = GameForm(instance=game, data={"cors_allowed_origins": "https://Play.example.com:443/"})
    form.is_valid()
    assert form.cleaned_data["cors_allowed_origins"] == "https://play.example.com"


def test_an_origin_stored_with_its_default_port_applies(game):
    Game.objects.filter(pk=game.pk).update(cors_allowed_origins="https://play.example.com:443")

    answer = APIClient().options(
        LOGIN,
        HTTP_ORIGIN="https://play.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-game-key,content-type",
    )

    assert answer["Access-Control-Allow-Origin"] == "https://play.example.com"


@pytest.mark.parametrize(
    "configured",
    ["https://launcher.example:443", "https://Launcher.Example", "HTTPS://launcher.example/"],
)
def test_a_deployment_wide_origin_is_read_as_a_games_is(settings, game, configured):
    """CORS_ALLOWED_ORIGINS typed with the default port, capitals or a final slash is the
    origin a browser sends, as a game's origins are: django-cors-headers alone compares the
    host and port as typed, so the first two never matched."""
    settings.CORS_ALLOWED_ORIGINS = [configured]

    preflight = APIClient().options(
        LOGIN,
        HTTP_ORIGIN="https://launcher.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-game-key,content-type",
    )
    refused = APIClient().post(
        LOGIN,
        {},
        format="json",
        HTTP_X_GAME_KEY="alpha-client-key",
        HTTP_ORIGIN="https://launcher.example",
    )

    assert preflight["Access-Control-Allow-Origin"] == "https://launcher.example"
    assert refused["Access-Control-Allow-Origin"] == "https://launcher.example"
    other = APIClient().options(
        LOGIN, HTTP_ORIGIN="https://other.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in other
