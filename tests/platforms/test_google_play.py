from __future__ import annotations

import logging

import pytest
import requests
from responses import matchers

from apps.platforms.verifiers import get_verifier
from apps.platforms.verifiers.base import VerifiedIdentity
from tests.platforms.helpers import raises_problem

pytestmark = pytest.mark.usefixtures("upstream")

TOKEN_URL = "https://oauth.google.test/token"
GAMES = "https://games.google.test/games/v1"
VERIFY_URL = f"{GAMES}/applications/123456789012/verify"
ME_URL = f"{GAMES}/players/me"
CONFIG = {
    "client_id": "web-client.apps.googleusercontent.com",
    "client_secret": "GOCSPX-secret",
    "application_id": "123456789012",
}
CODE = {"server_auth_code": "4/0AX4XfWh-code"}
GAMES_SCOPE = "https://www.googleapis.com/auth/games_lite"
BEARER = [matchers.header_matcher({"Authorization": "Bearer ya29.access"})]


def verify(config=CONFIG, credentials=CODE):
    return get_verifier("google_play").verify(config, credentials)


def token_ok(upstream, scope=GAMES_SCOPE):
    upstream.post(
        TOKEN_URL,
        json={"access_token": "ya29.access", "expires_in": 3599, "scope": scope},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": CODE["server_auth_code"],
                    "client_id": CONFIG["client_id"],
                    "client_secret": CONFIG["client_secret"],
                    "redirect_uri": "",
                },
                allow_blank=True,
            )
        ],
    )


def test_valid_code_is_the_play_player_id_with_display_name(upstream):
    token_ok(upstream, scope=f"openid {GAMES_SCOPE}")
    upstream.get(VERIFY_URL, json={"player_id": "g1234", "kind": "x"}, match=BEARER)
    upstream.get(ME_URL, json={"playerId": "g1234", "displayName": "Ace"}, match=BEARER)

    assert verify() == VerifiedIdentity("g1234", "Ace", entitlement_checked=True)


@pytest.mark.parametrize("description", ["Bad Request", "Code was already redeemed.", "expired"])
def test_used_expired_or_foreign_code_is_401(upstream, description):
    upstream.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": description},
    )

    with raises_problem("invalid_credentials", 401):
        verify()
    assert len(upstream.calls) == 1


def test_code_without_the_games_scope_is_401(upstream):
    token_ok(upstream, scope="openid email")

    with raises_problem("invalid_credentials", 401):
        verify()
    assert len(upstream.calls) == 1


def test_token_refused_by_verify_is_401(upstream):
    token_ok(upstream)
    upstream.get(VERIFY_URL, status=401, json={"error": {"code": 401, "status": "UNAUTHENTICATED"}})

    with raises_problem("invalid_credentials", 401):
        verify()


@pytest.mark.parametrize(
    ("status", "google_status"), [(403, "PERMISSION_DENIED"), (404, "NOT_FOUND")]
)
def test_application_refused_or_unknown_is_a_configuration_error_503_and_alerts(
    upstream, caplog, status, google_status
):
    token_ok(upstream)
    upstream.get(
        VERIFY_URL,
        status=status,
        json={"error": {"code": status, "message": "denied", "status": google_status}},
    )

    with (
        caplog.at_level(logging.ERROR, logger="apps.platforms"),
        raises_problem("platform_unavailable", 503),
    ):
        verify()
    assert "ALERT" in caplog.text and f"HTTP {status}" in caplog.text
    assert not any(call.request.url.startswith(ME_URL) for call in upstream.calls)


def test_players_me_naming_another_player_is_401(upstream):
    token_ok(upstream)
    upstream.get(VERIFY_URL, json={"player_id": "g1234"})
    upstream.get(ME_URL, json={"playerId": "g9999", "displayName": "Mallory"})

    with raises_problem("invalid_credentials", 401):
        verify()


@pytest.mark.parametrize("status", [401, 403])
def test_players_me_refusing_the_token_is_401(upstream, status):
    token_ok(upstream)
    upstream.get(VERIFY_URL, json={"player_id": "g1234"})
    upstream.get(
        ME_URL, status=status, json={"error": {"code": status, "status": "PERMISSION_DENIED"}}
    )

    with raises_problem("invalid_credentials", 401):
        verify()


@pytest.mark.parametrize(
    "me",
    [{"displayName": "Ace"}, {"playerId": ""}, {"playerId": None}, {"playerId": 1234}],
    ids=["no-player-id", "empty", "null", "number"],
)
def test_players_me_without_a_player_id_is_503(upstream, me):
    token_ok(upstream)
    upstream.get(VERIFY_URL, json={"player_id": "1234"})
    upstream.get(ME_URL, json=me)

    with raises_problem("platform_unavailable", 503):
        verify()


def test_players_me_game_player_id_is_not_the_player_id(upstream):
    token_ok(upstream)
    upstream.get(VERIFY_URL, json={"player_id": "g1234"})
    upstream.get(ME_URL, json={"playerId": "g9999", "gamePlayerId": "g1234"})

    with raises_problem("invalid_credentials", 401):
        verify()


def test_our_client_refused_is_503_and_alerts(upstream, caplog):
    upstream.post(TOKEN_URL, status=401, json={"error": "invalid_client"})

    with (
        caplog.at_level(logging.ERROR, logger="apps.platforms"),
        raises_problem("platform_unavailable", 503),
    ):
        verify()
    assert "ALERT" in caplog.text
    assert "GOCSPX-secret" not in caplog.text


@pytest.mark.parametrize("error", ["unauthorized_client", "invalid_request", None])
def test_other_oauth_error_is_503_and_alerts(upstream, caplog, error):
    upstream.post(TOKEN_URL, status=400, json={"error": error} if error else {})

    with (
        caplog.at_level(logging.ERROR, logger="apps.platforms"),
        raises_problem("platform_unavailable", 503),
    ):
        verify()
    assert "ALERT" in caplog.text
    assert len(upstream.calls) == 1


def test_timeout_is_503_and_the_code_is_never_sent_twice(upstream):
    upstream.post(TOKEN_URL, body=requests.exceptions.ReadTimeout())

    with raises_problem("platform_unavailable", 503):
        verify()
    assert len(upstream.calls) == 1


@pytest.mark.parametrize(
    ("url", "answer"),
    [
        (TOKEN_URL, {"status": 500, "json": {"error": "internal"}}),
        (TOKEN_URL, {"status": 429, "json": {}}),
        (TOKEN_URL, {"body": "<html>", "content_type": "text/html"}),
        (TOKEN_URL, {"json": {"token_type": "Bearer"}}),
        (VERIFY_URL, {"status": 503, "json": {}}),
        (VERIFY_URL, {"body": requests.exceptions.ConnectTimeout()}),
        (VERIFY_URL, {"body": "<html>", "content_type": "text/html"}),
        (VERIFY_URL, {"json": {"kind": "games#applicationVerifyResponse"}}),
        (VERIFY_URL, {"json": {"player_id": ""}}),
        (VERIFY_URL, {"json": ["g1234"]}),
        (ME_URL, {"body": "oops", "content_type": "text/plain"}),
        (ME_URL, {"status": 500, "json": {}}),
        (ME_URL, {"status": 429, "json": {}}),
        (ME_URL, {"body": requests.exceptions.ReadTimeout()}),
    ],
    ids=[
        "token-5xx",
        "token-429",
        "token-html",
        "token-no-access-token",
        "verify-5xx",
        "verify-timeout",
        "verify-html",
        "verify-no-player-id",
        "verify-empty-player-id",
        "verify-not-an-object",
        "me-garbage",
        "me-5xx",
        "me-429",
        "me-timeout",
    ],
)
def test_unusable_answer_is_503(upstream, url, answer):
    if url != TOKEN_URL:
        token_ok(upstream)
    if url == ME_URL:
        upstream.get(VERIFY_URL, json={"player_id": "g1234"})
    method = upstream.post if url == TOKEN_URL else upstream.get
    method(url, **answer)

    with raises_problem("platform_unavailable", 503):
        verify()


@pytest.mark.parametrize("missing", ["client_id", "client_secret", "application_id"])
def test_missing_config_is_platform_not_configured(upstream, missing):
    config = {key: value for key, value in CONFIG.items() if key != missing}

    with raises_problem("platform_not_configured", 400):
        verify(config)
    assert not upstream.calls


@pytest.mark.parametrize("credentials", [{}, {"server_auth_code": None}, {"code": "x"}])
def test_missing_code_is_validation_error(upstream, credentials):
    with raises_problem("validation_error", 400):
        verify(CONFIG, credentials)
    assert not upstream.calls


def test_a_changed_player_id_names_the_original_one(upstream):
    token_ok(upstream)
    upstream.get(VERIFY_URL, json={"player_id": "a_new"}, match=BEARER)
    upstream.get(ME_URL, json={"playerId": "a_new", "originalPlayerId": "g_old"}, match=BEARER)

    identity = verify()

    assert identity.platform_user_id == "a_new"
    assert identity.previous_platform_user_id == "g_old"


def test_verify_alternate_player_id_is_the_original_one_too(upstream):
    token_ok(upstream)
    upstream.get(VERIFY_URL, json={"player_id": "a_new", "alternate_player_id": "g_old"})
    upstream.get(ME_URL, json={"playerId": "a_new"})

    assert verify().previous_platform_user_id == "g_old"


@pytest.mark.parametrize("original", ["g1234", "", None, 42])
def test_an_original_id_that_is_the_same_or_not_text_is_no_change(upstream, original):
    token_ok(upstream)
    upstream.get(VERIFY_URL, json={"player_id": "g1234"})
    upstream.get(ME_URL, json={"playerId": "g1234", "originalPlayerId": original})

    assert verify().previous_platform_user_id is None
