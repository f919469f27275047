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


@pytest.mark.django_db
def test_revoking_a_key_from_the_admin_is_audited_once(client, game):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import GameAccess
    from apps.accounts.services import set_game_access
    from apps.audit.models import AuditLogEntry

    owner = get_user_model().objects.create_user("olive", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)
    issued = create_server_key(game=game, name="eu-1")
    action = {"action": "revoke_selected", "_selected_action": [issued.server_key.pk]}

    client.post("/admin/accounts/serverkey/", action)
    client.post("/admin/accounts/serverkey/", action)  # already revoked: nothing more

    entry = AuditLogEntry.objects.get(action="server_key.revoke")
    assert (entry.actor, entry.game, entry.target_id) == (owner, game, str(issued.server_key.pk))
    assert (entry.before["revoked"], entry.after["revoked"]) == (False, True)
    assert active_server_key(issued.raw_key) is None


@pytest.mark.django_db
def test_a_new_key_is_shown_once_and_never_travels_in_a_cookie(client, game):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import GameAccess
    from apps.accounts.services import set_game_access

    owner = get_user_model().objects.create_user(username="o", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)

    added = client.post("/admin/accounts/serverkey/add/", {"game": game.pk, "name": "fleet"})
    shown = client.get(added["Location"]).content.decode()
    again = client.get(added["Location"]).content.decode()

    [key] = ServerKey.objects.all()
    raw = next(word for word in shown.split() if word.startswith(key.prefix))
    assert hash_key(raw) == key.key_hash  # the page shows the whole key once
    assert raw not in again
    # Kept server-side until shown: no cookie carries it (a signed cookie is readable).
    assert "messages" not in added.cookies
    assert all(raw not in morsel.value for morsel in added.cookies.values())
