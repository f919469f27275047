import pytest

from apps.accounts.models import ServerKey, hash_key
from apps.accounts.selectors import active_server_key
from apps.accounts.services import create_server_key, revoke_server_key


@pytest.mark.django_db
def test_server_key_is_stored_only_as_a_hash(game):
    issued = create_server_key(game=game, name="eu-1")

    stored = ServerKey.objects.get(pk=issued.server_key.pk)
    assert stored.key_hash == hash_key(issued.raw_key)
    assert issued.raw_key not in {stored.key_hash, stored.prefix, stored.name}
    assert len(issued.raw_key) > 40


@pytest.mark.django_db
def test_revoked_key_no_longer_authenticates(game):
    issued = create_server_key(game=game, name="eu-1")
    assert active_server_key(issued.raw_key) == issued.server_key

    revoke_server_key(server_key=issued.server_key)

    assert active_server_key(issued.raw_key) is None


@pytest.mark.django_db
def test_a_game_has_several_independent_keys(game):
    first = create_server_key(game=game, name="eu-1")
    second = create_server_key(game=game, name="us-1")
    revoke_server_key(server_key=first.server_key)

    assert active_server_key(second.raw_key) == second.server_key


@pytest.mark.django_db
def test_unknown_server_key_is_401_problem(api_client):
    api_client.credentials(HTTP_X_SERVER_KEY="nope")
    response = api_client.post("/api/v1/multiplayer/validate-token", {"token": "x"})
    assert response.status_code in (401, 501)
    assert response["Content-Type"].startswith("application/problem+json")
