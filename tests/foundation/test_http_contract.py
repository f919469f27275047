"""HTTP details every client relies on: a challenge (WWW-Authenticate) on every 401, as RFC 9110
(11.6.1) requires, in the scheme of the endpoint's credential; and `Accept:
application/problem+json` answered with JSON, not 406 (docs/guide/errors.md)."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Game
from apps.devdocs.postman import openapi_schema
from apps.platforms.errors import InvalidCredentials
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers.dev import verifier as dev_verifier

BEARER = 'Bearer realm="api"'
BEARER_REFUSED = 'Bearer realm="api", error="invalid_token"'
SERVER_KEY = 'ServerKey realm="api"'
GAME_KEY = 'GameKey realm="api"'
PROBLEM = "application/problem+json"

LOGIN = "/api/v1/auth/third-party/login"
REFRESH = "/api/v1/auth/refresh"
VALIDATE = "/api/v1/auth/validate"
LINK = "/api/v1/auth/link"
STATS = "/api/v1/player/stats"
PHOTON = "/api/v1/multiplayer/photon/authenticate"
BOARDS = "/api/v1/leaderboards"
DEV_LOGIN = {"platform": "dev", "credentials": {"user_id": "alice", "display_name": "alice"}}

SCHEMA = openapi_schema()
OPERATIONS = sorted(
    (method, path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def client(**headers: str) -> APIClient:
    api = APIClient()
    api.credentials(**headers)
    return api


def assert_challenged(response: object, code: str, challenge: str) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"] == challenge


# --- WWW-Authenticate on every 401 ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "code", "challenge"),
    [
        ({}, "not_authenticated", BEARER),
        ({"HTTP_AUTHORIZATION": "Basic YWxpY2U6cHc="}, "not_authenticated", BEARER),
        ({"HTTP_AUTHORIZATION": "Bearer not-a-token"}, "invalid_token", BEARER_REFUSED),
        # A player endpoint takes a bearer token: that is its challenge, whatever was refused.
        ({"HTTP_X_SERVER_KEY": "unknown"}, "invalid_server_key", BEARER),
    ],
)
def test_a_player_endpoint_challenges_bearer(headers, code, challenge):
    assert_challenged(client(**headers).get(STATS), code, challenge)


@pytest.mark.django_db
def test_a_board_read_players_and_servers_make_challenges_bearer():
    assert_challenged(client().get(BOARDS), "not_authenticated", BEARER)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "not_authenticated"), ({"HTTP_X_SERVER_KEY": "unknown"}, "invalid_server_key")],
)
def test_a_game_server_endpoint_challenges_server_key(headers, code):
    response = client(**headers).post(VALIDATE, {"token": "x"}, format="json")
    assert_challenged(response, code, SERVER_KEY)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "code"), [("", "not_authenticated"), ("?key=unknown", "invalid_server_key")]
)
def test_photon_authentication_challenges_server_key(query, code):
    assert_challenged(client().get(PHOTON + query), code, SERVER_KEY)


@pytest.mark.django_db
@pytest.mark.parametrize("game_key", [None, "unknown"])
def test_login_without_a_known_game_key_challenges_game_key(game_key):
    headers = {} if game_key is None else {"HTTP_X_GAME_KEY": game_key}
    response = client(**headers).post(LOGIN, DEV_LOGIN, format="json")
    assert_challenged(response, "invalid_game_key", GAME_KEY)


@pytest.fixture
def dev_platform(game: Game) -> PlatformCredential:
    return PlatformCredential.objects.create(game=game, platform="dev", enabled=True)


def platform_refuses() -> mock._patch:
    refusal = InvalidCredentials("The platform refused the credential.")
    return mock.patch.object(dev_verifier, "verify", side_effect=refusal)


def test_a_login_the_platform_refuses_challenges_game_key(dev_platform):
    with platform_refuses():
        response = client(HTTP_X_GAME_KEY="alpha-client-key").post(LOGIN, DEV_LOGIN, format="json")
    assert_challenged(response, "invalid_credentials", GAME_KEY)


def test_a_link_the_platform_refuses_challenges_bearer(dev_platform):
    login = client(HTTP_X_GAME_KEY="alpha-client-key").post(LOGIN, DEV_LOGIN, format="json")
    assert login.status_code == 200, login.content
    player = client(HTTP_AUTHORIZATION=f"Bearer {login.json()['access_token']}")
    with platform_refuses():
        response = player.post(LINK, DEV_LOGIN, format="json")
    # The token was accepted: the challenge names the scheme, and no error.
    assert_challenged(response, "invalid_credentials", BEARER)


@pytest.mark.django_db
def test_an_unknown_refresh_token_keeps_its_bearer_refusal():
    response = client().post(REFRESH, {"refresh_token": "unknown"}, format="json")
    assert_challenged(response, "invalid_token", BEARER_REFUSED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer not-a-token"},
        {"HTTP_X_SERVER_KEY": "unknown"},
        {"HTTP_X_GAME_KEY": "unknown"},
    ],
    ids=["nothing", "bad-token", "bad-server-key", "bad-game-key"],
)
def test_every_401_of_every_operation_carries_a_challenge(headers):
    """Every operation of the schema, called with no or a refused credential: each 401 names
    the scheme of its endpoint's credential (statuses are the schema contract's business)."""
    api = client(**headers)
    challenged = 0
    for method, path in OPERATIONS:
        url = PATH_PARAMETER.sub("1", path)
        response = getattr(api, method)(url, {}, format="json") if method != "get" else api.get(url)
        if response.status_code != 401:
            continue
        challenged += 1
        challenge = response.get("WWW-Authenticate", "")
        assert challenge in {BEARER, BEARER_REFUSED, SERVER_KEY, GAME_KEY}, (method, path)
    assert challenged > 20  # the sweep reached the authenticated endpoints


# --- Accept: application/problem+json ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accept",
    [
        PROBLEM,
        f"{PROBLEM}; charset=utf-8",
        f"text/html, {PROBLEM};q=0.9",
        "APPLICATION/PROBLEM+JSON",
    ],
)
def test_accepting_problem_json_gets_the_json_answer(accept):
    response = client(HTTP_ACCEPT=accept).get("/api/v1/health/live")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    response.json()


@pytest.mark.django_db
def test_accepting_problem_json_gets_errors_as_problems():
    response = client(HTTP_ACCEPT=PROBLEM).get(STATS)
    assert_challenged(response, "not_authenticated", BEARER)


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["text/html", "application/xml", "text/html, application/xml"])
def test_an_accept_without_json_is_still_406(accept):
    response = client(HTTP_ACCEPT=accept).get("/api/v1/health/live")
    assert response.status_code == 406
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_acceptable"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/*", f"application/json, {PROBLEM}"]
)
def test_json_accepts_answer_as_before(accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = client(**headers).get("/api/v1/health/live")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_every_operation_documents_and_answers_406_for_an_accept_without_json():
    """The schema lists 406 and 500 on every operation; every operation, called with an Accept it
    cannot answer, does answer 406 `not_acceptable` (negotiation comes before its credential)."""
    api = client(HTTP_ACCEPT="text/html")
    for method, path in OPERATIONS:
        documented = SCHEMA["paths"][path][method]["responses"]
        assert {"406", "500"} <= set(documented), (method, path)
        url = PATH_PARAMETER.sub("1", path)
        response = getattr(api, method)(url, {}, format="json") if method != "get" else api.get(url)
        assert response.status_code == 406, (method, path, response.status_code)
        assert response.json()["code"] == "not_acceptable", (method, path)
