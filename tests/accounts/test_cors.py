"""CORS per game: browser builds call the API from the origins their game lists in the admin;
preflights are answered; no cookies or credentials."""

from __future__ import annotations

import pytest
from django import forms
from rest_framework.test import APIClient

from apps.accounts.admin import GameForm
from apps.accounts.models import Game, parse_origins
from tests.accounts.conftest import LOGIN

pytestmark = pytest.mark.django_db

PLAY = "https://play.alpha.example"
BETA_PLAY = "https://play.beta.example"
BODY = {"platform": "dev", "credentials": {"user_id": "alice"}}


@pytest.fixture
def origins(game: Game, other_game: Game) -> None:
    Game.objects.filter(pk=game.pk).update(cors_allowed_origins=f"{PLAY}\nhttp://localhost:8080")
    Game.objects.filter(pk=other_game.pk).update(cors_allowed_origins=BETA_PLAY)


def preflight(origin: str, path: str = LOGIN, headers: str = "x-game-key,content-type"):
    return APIClient().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_a_preflight_from_a_listed_origin_is_answered(origins):
    answer = preflight(PLAY, headers="authorization,x-game-key,idempotency-key,content-type")

    assert answer.status_code == 200
    assert answer["Access-Control-Allow-Origin"] == PLAY
    allowed = {name.strip() for name in answer["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "x-game-key", "idempotency-key", "content-type"} <= allowed
    assert "POST" in answer["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in answer
    assert int(answer["Access-Control-Max-Age"]) > 0


def test_a_preflight_from_an_unlisted_origin_gets_no_permission(origins):
    answer = preflight("https://evil.example")
    assert "Access-Control-Allow-Origin" not in answer


def test_a_login_is_readable_only_from_its_own_games_origins(origins, dev_platform):
    own = APIClient().post(
        LOGIN, BODY, format="json", HTTP_X_GAME_KEY="alpha-client-key", HTTP_ORIGIN=PLAY
    )
    other = APIClient().post(
        LOGIN, BODY, format="json", HTTP_X_GAME_KEY="alpha-client-key", HTTP_ORIGIN=BETA_PLAY
    )

    assert own.status_code == other.status_code == 200
    assert own["Access-Control-Allow-Origin"] == PLAY
    assert "x-request-id" in own["Access-Control-Expose-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in other  # beta's page cannot read alpha's answer
    assert "Set-Cookie" not in own and not own.cookies


def test_a_player_request_follows_the_tokens_game(origins, dev_platform):
    token = APIClient().post(LOGIN, BODY, format="json", HTTP_X_GAME_KEY="alpha-client-key")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")

    own = client.get("/api/v1/player/inventory", HTTP_ORIGIN="http://localhost:8080")
    other = client.get("/api/v1/player/inventory", HTTP_ORIGIN=BETA_PLAY)

    assert own.status_code == 200
    assert own["Access-Control-Allow-Origin"] == "http://localhost:8080"
    assert "Access-Control-Allow-Origin" not in other
    assert "origin" in own["Vary"].lower()


def test_a_refused_token_answer_is_readable_from_a_listed_origin(origins):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    answer = client.get("/api/v1/player/inventory", HTTP_ORIGIN=PLAY)
    assert answer.status_code == 401
    assert answer["Access-Control-Allow-Origin"] == PLAY  # the page can read why


def test_the_panel_is_never_cross_origin(origins):
    answer = APIClient().get("/admin/login/", HTTP_ORIGIN=PLAY)
    assert "Access-Control-Allow-Origin" not in answer


def test_deployment_wide_origins_apply_to_every_game(settings, dev_platform):
    settings.CORS_ALLOWED_ORIGINS = ["https://launcher.example"]
    answer = APIClient().post(
        LOGIN,
        BODY,
        format="json",
        HTTP_X_GAME_KEY="alpha-client-key",
        HTTP_ORIGIN="https://launcher.example",
    )
    assert answer["Access-Control-Allow-Origin"] == "https://launcher.example"


def test_a_request_without_origin_gets_no_cors_headers(origins, dev_platform):
    answer = APIClient().post(LOGIN, BODY, format="json", HTTP_X_GAME_KEY="alpha-client-key")
    assert "Access-Control-Allow-Origin" not in answer
    assert "origin" in answer["Vary"].lower()


def test_origins_are_checked_when_saved_in_the_admin(game):
    assert parse_origins(" https://A.example/ ,http://localhost:8080\n") == [
        "https://a.example",
        "http://localhost:8080",
    ]
    for wrong in ("play.example.com", "https://a.example/path", "ftp://a.example", "*"):
        with pytest.raises(ValueError):
            parse_origins(wrong)
    form = GameForm(instance=game, data={"cors_allowed_origins": "https://ok.example\nnope"})
    form.is_valid()
    assert "cors_allowed_origins" in form.errors
    assert isinstance(form.fields["cors_allowed_origins"], forms.CharField)


# What a page may read without being allowed to (the CORS-safelisted answer headers), and Vary,
# which tells caches, not clients, how an answer varies.
SAFELISTED_ANSWER_HEADERS = {
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
    "vary",
}


def client_headers_in_the_schema() -> tuple[set[str], set[str]]:
    """The request headers of every operation a game client calls (with a player token or the
    game key) and every answer header the schema documents, lowercased."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    sent: set[str] = set()
    read: set[str] = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            schemes = {name for option in operation.get("security", []) for name in option}
            if schemes & {"playerToken", "gameKey"}:
                sent |= {
                    parameter["name"].lower()
                    for parameter in operation.get("parameters", [])
                    if parameter["in"] == "header"
                }
            for answer in operation.get("responses", {}).values():
                read |= {name.lower() for name in answer.get("headers") or {}}
    return sent, read


def test_every_header_a_client_sends_or_reads_is_allowed_cross_origin(settings):
    sent, read = client_headers_in_the_schema()

    assert {"if-match", "if-none-match", "x-client-version", "x-client-platform"} <= sent
    assert sent <= set(settings.CORS_ALLOW_HEADERS)
    assert "etag" in read
    assert read - SAFELISTED_ANSWER_HEADERS <= set(settings.CORS_EXPOSE_HEADERS)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        (
            "PUT",
            "/api/v1/player/saves/slot1",
            "authorization,content-type,if-match,idempotency-key",
        ),
        ("PUT", "/api/v1/player/saves/slot1", "authorization,content-type,if-none-match"),
        ("GET", "/api/v1/config", "authorization,x-client-version,x-client-platform,if-none-match"),
    ],
)
def test_a_browser_build_may_send_cloud_save_and_remote_config_headers(
    origins, method, path, headers
):
    answer = APIClient().options(
        path,
        HTTP_ORIGIN=PLAY,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )

    assert answer.status_code == 200
    assert answer["Access-Control-Allow-Origin"] == PLAY
    allowed = {name.strip() for name in answer["Access-Control-Allow-Headers"].split(",")}
    assert set(headers.split(",")) <= allowed
    assert method in answer["Access-Control-Allow-Methods"]


def test_a_browser_build_can_read_the_configs_etag(origins, dev_platform):
    token = APIClient().post(LOGIN, BODY, format="json", HTTP_X_GAME_KEY="alpha-client-key")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")

    answer = client.get("/api/v1/config", HTTP_ORIGIN=PLAY, HTTP_X_CLIENT_VERSION="1.0.0")

    assert answer.status_code == 200
    assert answer["ETag"]
    assert answer["Access-Control-Allow-Origin"] == PLAY
    exposed = {name.strip() for name in answer["Access-Control-Expose-Headers"].split(",")}
    assert "etag" in exposed


def test_an_origin_added_in_the_admin_applies_within_its_bound(origins, monkeypatch):
    from apps.accounts import cors
    from gamingpanel import shortcache

    now = [1_000.0]
    monkeypatch.setattr(shortcache.time, "monotonic", lambda: now[0])
    new_origin = "https://new.alpha.example"
    assert preflight(PLAY).headers.get("Access-Control-Allow-Origin") == PLAY  # origins read
    Game.objects.filter(cors_allowed_origins__contains=PLAY).update(
        cors_allowed_origins=f"{PLAY}\n{new_origin}"
    )

    now[0] += cors.ORIGINS_SECONDS - 0.1
    kept = preflight(new_origin).headers.get("Access-Control-Allow-Origin")
    now[0] += 0.1
    applied = preflight(new_origin).headers.get("Access-Control-Allow-Origin")

    assert (kept, applied) == (None, new_origin)


def test_a_preflight_carries_the_security_headers_every_answer_does(origins):
    """CORS answers a preflight itself: inside it, Django's security and frame middleware never
    saw that answer, which went out without nosniff, a referrer policy or X-Frame-Options."""
    answer = preflight(PLAY)

    assert answer["Access-Control-Allow-Origin"] == PLAY
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["Referrer-Policy"]
    assert answer["Cross-Origin-Opener-Policy"]
