"""multiplayer/validate-token answers exactly what auth/validate answers, plus the public profile,
with real access tokens from apps.accounts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.sessions import open_session
from apps.multiplayer.selectors import PROFILE_SECONDS, _profiles
from apps.stats.services import add_xp
from gamingpanel import shortcache
from gamingpanel.shortcache import clear_every_cache

URL = "/api/v1/multiplayer/validate-token"
AUTH_VALIDATE = "/api/v1/auth/validate"


def access_token(player) -> str:
    return open_session(player=player, platform="dev", now=timezone.now()).access_token


@pytest.mark.django_db
def test_valid_token_answers_as_auth_validate_plus_the_public_profile(server_client, game, player):
    add_xp(game_id=game.pk, xp_by_player={player.pk: 2500})
    token = access_token(player)

    response = server_client.post(URL, {"token": token}, format="json")
    plain = server_client.post(AUTH_VALIDATE, {"token": token}, format="json").json()

    assert response.status_code == 200
    body = response.json()
    assert body == plain | {"player": {"display_name": "alice", "level": 3, "banned": False}}
    assert (body["valid"], body["player_id"], body["game_id"]) == (True, player.pk, game.pk)


@pytest.mark.django_db
def test_banned_players_token_is_refused_like_auth_validate(server_client, player):
    token = access_token(player)
    ban_player(
        player=player, reason="cheating", until=timezone.now() + timedelta(days=1), actor=None
    )

    response = server_client.post(URL, {"token": token}, format="json")
    plain = server_client.post(AUTH_VALIDATE, {"token": token}, format="json").json()

    assert response.status_code == 200
    assert response.json() == plain
    assert response.json()["valid"] is False
    assert "player" not in response.json()


@pytest.mark.django_db
def test_garbage_token_is_200_valid_false_without_a_profile(server_client):
    response = server_client.post(URL, {"token": "garbage"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"valid": False, "reason": "invalid_token"}


@pytest.mark.django_db
def test_token_of_another_game_is_not_valid_here(server_client, other_player):
    response = server_client.post(URL, {"token": access_token(other_player)}, format="json")

    assert response.json() == {"valid": False, "reason": "wrong_game"}


@pytest.mark.django_db
def test_missing_token_is_400_validation_error(server_client):
    response = server_client.post(URL, {}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


@pytest.mark.django_db
def test_player_bearer_token_on_validate_token_is_403_wrong_credential_kind(player):
    client = APIClient()
    token = access_token(player)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.post(URL, {"token": token}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")


@pytest.mark.django_db
def test_player_bearer_token_reads_server_info_but_not_match_result(player):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(player)}")

    assert client.get("/api/v1/multiplayer/server-info").status_code == 200
    refused = client.post("/api/v1/multiplayer/match-result", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "wrong_credential_kind")


@pytest.mark.django_db
def test_a_valid_token_costs_two_queries_cold_and_none_warm_once_the_key_is_cached(
    server_client, player, django_assert_max_num_queries
):
    token = access_token(player)
    server_client.post(URL, {"token": token}, format="json")  # caches the key and the profile
    clear_every_cache()  # the player and profile only: the server key stays in the shared cache

    # The player still exists; its profile (one message on PostgreSQL, two queries on SQLite).
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 3):
        first = server_client.post(URL, {"token": token}, format="json")
    with django_assert_max_num_queries(0):
        again = server_client.post(URL, {"token": token}, format="json")

    assert first.json() == again.json()
    assert again.json()["player"]["display_name"] == "alice"


@pytest.mark.django_db
def test_a_cold_profile_is_one_message_of_compiled_statements(server_client, game, player):
    token = access_token(player)
    server_client.post(URL, {"token": token}, format="json")  # caches the key and the player
    clear_every_cache()
    server_client.post(URL, {"token": token}, format="json")  # the player again, then cached
    _profiles.clear()  # only the profile is cold now

    with CaptureQueriesContext(connection) as captured:
        body = server_client.post(URL, {"token": token}, format="json").json()

    sent = [query["sql"] for query in captured.captured_queries]
    assert body["player"] == {"display_name": "alice", "level": 1, "banned": False}
    if connection.vendor == "postgresql":  # the public fields and the level, sent together
        assert len(sent) == 1 and sent[0].count("EXECUTE gp_") == 2
    else:  # SQLite runs them one after the other
        assert len(sent) == 2
        assert "banned_until" in sent[0] and "stats_playerprogress" in sent[1]


@pytest.mark.django_db
def test_a_ban_that_has_ended_shows_as_not_banned(server_client, player):
    token = access_token(player)
    Player.objects.filter(pk=player.pk).update(banned_until=timezone.now() - timedelta(hours=1))

    body = server_client.post(URL, {"token": token}, format="json").json()

    assert body["valid"] is True
    assert body["player"] == {"display_name": "alice", "level": 1, "banned": False}


@pytest.mark.django_db
def test_a_profile_is_at_most_profile_seconds_stale(server_client, game, player, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(shortcache.time, "monotonic", lambda: clock[0])
    token = access_token(player)
    assert server_client.post(URL, {"token": token}, format="json").json()["player"]["level"] == 1

    Player.objects.filter(pk=player.pk).update(display_name="Alice\u2028the Great")
    add_xp(game_id=game.pk, xp_by_player={player.pk: 2500})
    clock[0] += PROFILE_SECONDS * 0.9
    cached = server_client.post(URL, {"token": token}, format="json").json()["player"]
    clock[0] += PROFILE_SECONDS * 0.2
    fresh = server_client.post(URL, {"token": token}, format="json")

    assert cached == {"display_name": "alice", "level": 1, "banned": False}
    assert fresh.json()["player"] == {
        "display_name": "Alice\u2028the Great",
        "level": 3,
        "banned": False,
    }
    assert b"Alice\\u2028the Great" in fresh.content  # JSON escapes what JavaScript cannot take


@pytest.mark.django_db
def test_a_deleted_players_token_is_not_valid(server_client, player):
    token = access_token(player)
    Player.objects.filter(pk=player.pk).delete()

    body = server_client.post(URL, {"token": token}, format="json").json()

    assert body["valid"] is False and "player" not in body


@pytest.mark.django_db
def test_a_ban_not_yet_heard_of_by_the_token_check_is_refused_from_the_profile(
    server_client, player
):
    """Between a ban's commit and its revocation reaching this process, the token checks as
    valid; the profile, read fresh, shows the ban: the answer is not valid, player_banned (a
    server admitting players on `valid` alone let the banned player in)."""
    token = access_token(player)
    # The ban as stored, its revocation of the player's sessions not yet heard of.
    Player.objects.filter(pk=player.pk).update(banned_until=timezone.now() + timedelta(days=1))
    clear_every_cache()

    body = server_client.post(URL, {"token": token}, format="json").json()

    assert body == {"valid": False, "reason": "player_banned"}
