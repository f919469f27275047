import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from tests.multiplayer.conftest import URL, match_body
from tests.multiplayer.test_registry import beat


@pytest.fixture
def operator(game):
    user = get_user_model().objects.create_user(username="alice", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    return user


@pytest.mark.django_db
def test_matches_are_read_only_with_their_results(
    client, operator, server_client, make_players, stat_defs
):
    server_client.post(URL, match_body("m-1", make_players(2)), format="json")
    client.force_login(operator)
    from apps.multiplayer.models import Match

    match = Match.objects.get()
    page = client.get(f"/admin/multiplayer/match/{match.pk}/change/")

    assert page.status_code == 200
    assert "xp_awarded" in page.content.decode() or "Xp awarded" in page.content.decode()
    assert client.get("/admin/multiplayer/match/add/").status_code == 403
    assert (
        client.post(f"/admin/multiplayer/match/{match.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Match.objects.exists()


@pytest.mark.django_db
def test_live_servers_are_listed_read_only_with_a_live_filter(client, operator, server_client):
    beat(server_client, "eu-1")
    client.force_login(operator)

    live = client.get("/admin/multiplayer/registeredserver/", {"state": "live"})
    stale = client.get("/admin/multiplayer/registeredserver/", {"state": "stale"})

    assert [s.server_id for s in live.context["cl"].result_list] == ["eu-1"]
    assert list(stale.context["cl"].result_list) == []
    assert client.get("/admin/multiplayer/registeredserver/add/").status_code == 403
