"""Who reads and writes whose documents: a player only its own private ones, the game's public
keys of other players of the same game, a game server any player of its game; nothing crosses
games."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services import create_server_key
from apps.cloudsave.models import Document, DocumentVersion, SaveKey
from tests.cloudsave.conftest import URL, create
from tests.shop.conftest import access_token, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(game):
    SaveKey.objects.create(game=game, key="card", public=True)
    SaveKey.objects.create(game=game, key="rank", writer=SaveKey.Writer.SERVER, public=True)
    SaveKey.objects.create(game=game, key="anticheat", writer=SaveKey.Writer.SERVER)


@pytest.fixture
def charlie(other_player: Player) -> APIClient:
    """A player of another game."""
    return bearer(access_token(other_player))


def test_player_a_never_reads_bs_private_keys(alice, bob, bob_player, keys):
    create(bob, "slot1", {"secret": True})
    create(bob, "card", {"title": "Hero"})

    assert alice.get(URL).json() == []
    assert alice.get(f"{URL}/slot1").status_code == 404
    assert alice.get(f"/api/v1/saves/public/{bob_player.pk}/slot1").json()["code"] == (
        "save_not_found"
    )
    public = alice.get(f"/api/v1/saves/public/{bob_player.pk}").json()
    assert [(d["key"], d["value"]) for d in public] == [("card", {"title": "Hero"})]
    one = alice.get(f"/api/v1/saves/public/{bob_player.pk}/card")
    assert one.status_code == 200 and one["ETag"] == '"1"'


def test_another_games_keys_are_invisible(alice, player, charlie, other_player, keys):
    create(alice, "card", {"title": "Hero"})
    create(charlie, "card", {"title": "Other game"})

    assert charlie.get(f"/api/v1/saves/public/{player.pk}").json() == []
    assert charlie.get(f"/api/v1/saves/public/{player.pk}/card").status_code == 404
    assert alice.get(f"/api/v1/saves/public/{other_player.pk}").json() == []
    assert [d["value"] for d in alice.get(URL).json()] == [{"title": "Hero"}]


def test_a_server_writes_server_only_keys_the_player_then_reads(alice, player, server_client, keys):
    url = f"/api/v1/saves/players/{player.pk}/anticheat"

    created = server_client.put(url, {"value": {"flags": 0}}, format="json", HTTP_IF_NONE_MATCH="*")
    changed = server_client.put(url, {"value": {"flags": 1}}, format="json", HTTP_IF_MATCH='"1"')

    assert created.status_code == 201 and changed.status_code == 200
    assert alice.get(f"{URL}/anticheat").json()["value"] == {"flags": 1}
    assert server_client.get(url).json()["version"] == 2
    assert [v.source for v in DocumentVersion.objects.order_by("version")] == ["server", "server"]
    assert [d["key"] for d in server_client.get(f"/api/v1/saves/players/{player.pk}").json()] == [
        "anticheat"
    ]


def test_a_server_batch_and_delete(player, server_client, keys):
    base = f"/api/v1/saves/players/{player.pk}"
    writes = {"writes": [{"key": "rank", "value": 3}, {"key": "card", "value": {"t": 1}}]}

    assert server_client.post(base, writes, format="json").status_code == 200
    assert server_client.delete(f"{base}/rank", HTTP_IF_MATCH='"1"').status_code == 204
    assert Document.objects.get(key="rank").deleted


def test_a_server_reaches_no_player_of_another_game(other_player, server_client, other_game):
    Document.objects.create(
        game=other_game, player=other_player, key="slot1", version=1, value=1, size=1
    )
    base = f"/api/v1/saves/players/{other_player.pk}"

    for response in (
        server_client.get(base),
        server_client.get(f"{base}/slot1"),
        server_client.put(f"{base}/slot1", {"value": 2}, format="json", HTTP_IF_MATCH='"1"'),
        server_client.delete(f"{base}/slot1", HTTP_IF_MATCH='"1"'),
    ):
        assert response.status_code == 404 and response.json()["code"] == "player_not_found"
    assert Document.objects.get(player=other_player).value == 1


def test_another_games_server_key_cannot_write(player, other_game):
    client = APIClient()
    client.credentials(HTTP_X_SERVER_KEY=create_server_key(game=other_game, name="x").raw_key)

    response = client.put(
        f"/api/v1/saves/players/{player.pk}/slot1",
        {"value": 1},
        format="json",
        HTTP_IF_NONE_MATCH="*",
    )

    assert response.status_code == 404
    assert not Document.objects.exists()


def test_the_wrong_credential_kind_is_refused(alice, server_client, player):
    assert alice.get(f"/api/v1/saves/players/{player.pk}").status_code == 403
    assert server_client.get(URL).status_code == 403
    assert APIClient().get(URL).status_code == 401
