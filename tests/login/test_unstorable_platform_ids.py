"""A platform's answer naming a user id no identity row can hold (longer than the column, or
with U+0000 or a lone surrogate, which JSON carries) is a 503 platform_unavailable, not a 500."""

import pytest
import responses

from apps.accounts.models import PlatformIdentity, Player
from apps.platforms.models import PlatformCredential
from tests.accounts.conftest import LOGIN, assert_problem
from tests.login.test_platform_id_changes import GAMES, LOGIN_BODY, TOKEN_URL, google_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def google(game, settings):
    """As tests/login/test_platform_id_changes.py's: Google Play enabled, its hosts faked."""
    settings.GOOGLE_OAUTH_TOKEN_URL = TOKEN_URL
    settings.GOOGLE_GAMES_API_BASE_URL = GAMES
    credential = PlatformCredential(
        game=game,
        platform="google_play",
        config={"client_id": "web.apps.googleusercontent.com", "application_id": "123456789012"},
    )
    credential.set_secrets({"client_secret": "GOCSPX-secret"})
    credential.save()
    with responses.RequestsMock() as mock:
        yield mock


def post_login(api_client):
    return api_client.post(LOGIN, LOGIN_BODY, HTTP_X_GAME_KEY="alpha-client-key")


@pytest.mark.parametrize("player_id", ["g" * 201, "g12\u000034", "g12\ud80034"])
def test_a_user_id_no_identity_can_hold_is_503_and_makes_no_player(api_client, google, player_id):
    google_answers(google, player_id)

    assert_problem(post_login(api_client), 503, "platform_unavailable")
    assert not Player.objects.exists()
    assert not PlatformIdentity.objects.exists()


def test_a_user_id_as_long_as_the_column_logs_in(api_client, google):
    google_answers(google, "g" * 200)

    response = post_login(api_client)

    assert response.status_code == 200, response.content
    assert PlatformIdentity.objects.get().platform_user_id == "g" * 200


@pytest.mark.parametrize("original", ["g0\u00001", "g0\ud8001"])
def test_an_unstorable_original_player_id_is_ignored(api_client, google, original):
    # No identity is stored under it, so there is nothing to move: a plain first login.
    google_answers(google, "a_987654321", {"originalPlayerId": original})

    response = post_login(api_client)

    assert response.status_code == 200, response.content
    assert response.json()["player"]["created"] is True
    assert PlatformIdentity.objects.get().platform_user_id == "a_987654321"


def test_an_idc_user_id_with_a_lone_surrogate_is_503(api_client, game, settings):
    # IDC's userid is also sent on to its profile call, which once failed with a 500 of its own.
    settings.IDCGAMES_VERIFY_URL = "https://idc.test/unilogin/getAccessData.php"
    settings.IDCGAMES_PROFILE_URL = "https://idc.test/unilogin/getUserProfileInfo.php"
    credential = PlatformCredential(game=game, platform="idcgames", config={"app_id": "1234"})
    credential.set_secrets({"app_secret": "IDCAPISECRET42"})
    credential.save()
    body = {"platform": "idcgames", "credentials": {"token": "idctk", "uuid": "u-1"}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as idc:
        idc.get(settings.IDCGAMES_VERIFY_URL, json={"status": 0, "user": {"userid": "4\ud8002"}})
        idc.get(settings.IDCGAMES_PROFILE_URL, json={"nick": "Paco"})

        response = api_client.post(LOGIN, body, HTTP_X_GAME_KEY="alpha-client-key")

    assert_problem(response, 503, "platform_unavailable")
    assert not Player.objects.exists()
