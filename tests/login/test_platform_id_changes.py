"""Google Play Games changed a player's id (`originalPlayerId`): the login keeps the player."""

import pytest
import responses

from apps.accounts.models import AuthSession, PlatformIdentity, Player
from apps.platforms.models import PlatformCredential
from tests.accounts.conftest import LOGIN

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://oauth.google.test/token"
GAMES = "https://games.google.test/games/v1"
VERIFY_URL = f"{GAMES}/applications/123456789012/verify"
ME_URL = f"{GAMES}/players/me"
LOGIN_BODY = {"platform": "google_play", "credentials": {"server_auth_code": "4/0AX4-code"}}
OLD_ID, NEW_ID = "g0123456789", "a_987654321"


@pytest.fixture
def google(game, settings):
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


def google_answers(google, player_id, me_extra=None):
    """One code exchange and the two answers Google gives for it (its public response shapes)."""
    scope = "https://www.googleapis.com/auth/games_lite"
    google.post(TOKEN_URL, json={"access_token": "ya29.a", "expires_in": 3599, "scope": scope})
    google.get(VERIFY_URL, json={"kind": "games#applicationVerifyResponse", "player_id": player_id})
    me = {"kind": "games#player", "playerId": player_id, "displayName": "Ace", **(me_extra or {})}
    google.get(ME_URL, json=me)


def log_in(api_client):
    response = api_client.post(LOGIN, LOGIN_BODY, HTTP_X_GAME_KEY="alpha-client-key")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_changed_player_id_keeps_the_player_and_the_identity_takes_the_new_id(api_client, google):
    google_answers(google, OLD_ID)
    first = log_in(api_client)
    google.reset()

    google_answers(google, NEW_ID, {"originalPlayerId": OLD_ID})
    moved = log_in(api_client)
    google.reset()

    assert moved["player"]["id"] == first["player"]["id"]
    assert Player.objects.count() == 1
    identity = PlatformIdentity.objects.get(platform="google_play")
    assert identity.platform_user_id == NEW_ID
    assert not PlatformIdentity.objects.filter(platform_user_id=OLD_ID).exists()

    google_answers(google, NEW_ID)  # later, Google no longer mentions the old id
    assert log_in(api_client)["player"]["id"] == first["player"]["id"]
    assert Player.objects.count() == 1 and PlatformIdentity.objects.count() == 1
    assert AuthSession.objects.filter(player_id=first["player"]["id"]).count() == 3


def test_an_original_id_nobody_has_creates_the_player_under_the_new_id(api_client, google):
    google_answers(google, NEW_ID, {"originalPlayerId": OLD_ID})

    log_in(api_client)

    assert [i.platform_user_id for i in PlatformIdentity.objects.all()] == [NEW_ID]


def test_a_new_id_that_already_has_a_player_keeps_both_players_apart(api_client, google, caplog):
    google_answers(google, OLD_ID)
    old_player = log_in(api_client)["player"]["id"]
    google.reset()
    google_answers(google, NEW_ID)
    new_player = log_in(api_client)["player"]["id"]
    google.reset()

    google_answers(google, NEW_ID, {"originalPlayerId": OLD_ID})
    assert log_in(api_client)["player"]["id"] == new_player

    ids = dict(PlatformIdentity.objects.values_list("platform_user_id", "player_id"))
    assert ids == {OLD_ID: old_player, NEW_ID: new_player}
    assert "not moved" in caplog.text


def test_an_id_change_in_another_game_moves_nothing_here(api_client, google, other_game):
    other_player = Player.objects.create(game=other_game, display_name="x")
    PlatformIdentity.objects.create(
        game=other_game, player=other_player, platform="google_play", platform_user_id=OLD_ID
    )
    google_answers(google, NEW_ID, {"originalPlayerId": OLD_ID})

    assert log_in(api_client)["player"]["id"] != other_player.pk

    assert PlatformIdentity.objects.get(game=other_game).platform_user_id == OLD_ID


def test_unlinking_ends_the_sessions_opened_under_the_old_id_too(api_client, google, dev_platform):
    from tests.accounts.conftest import REFRESH, bearer

    google_answers(google, OLD_ID)
    before_the_move = log_in(api_client)
    google.reset()
    google_answers(google, NEW_ID, {"originalPlayerId": OLD_ID})
    current = bearer(log_in(api_client)["access_token"])
    google.reset()
    linked = current.post(
        "/api/v1/auth/link", {"platform": "dev", "credentials": {"user_id": "me"}}
    )
    assert linked.status_code == 200, linked.content

    assert current.post("/api/v1/auth/unlink", {"platform": "google_play"}).status_code == 200

    google_sessions = AuthSession.objects.filter(platform="google_play")
    assert sorted(s.platform_user_id for s in google_sessions) == [NEW_ID, OLD_ID]
    assert all(s.revoked_at is not None for s in google_sessions)
    refreshed = api_client.post(REFRESH, {"refresh_token": before_the_move["refresh_token"]})
    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "token_revoked"
