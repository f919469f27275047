"""A game server's cloud-save calls about an erased player are refused with 410 player_erased
(nothing is written under the tombstone), and other players read nothing of the erased
player's public documents (docs/guide/privacy.md, "After erasure")."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.cloudsave.models import Document, DocumentVersion, SaveKey, SaveReceipt, SaveUsage
from tests.cloudsave.conftest import create

pytestmark = pytest.mark.django_db


@pytest.fixture
def erased(game, player: Player, alice: APIClient) -> Player:
    SaveKey.objects.create(game=game, key="card", public=True)
    SaveKey.objects.create(game=game, key="rank", writer=SaveKey.Writer.SERVER, public=True)
    assert create(alice, "card", {"title": "Hero"}).status_code == 201
    assert erase_player(player=player, actor=None) is True
    return player


def server_url(player: Player, key: str | None = None) -> str:
    url = f"/api/v1/saves/players/{player.pk}"
    return f"{url}/{key}" if key else url


def assert_erased(response) -> None:
    assert response.status_code == 410, response.content
    assert response.json()["code"] == "player_erased"


def assert_nothing_stored(player: Player) -> None:
    assert not Document.objects.filter(player=player).exists()
    assert not DocumentVersion.objects.filter(document__player=player).exists()
    assert not SaveUsage.objects.filter(player=player).exists()
    assert not SaveReceipt.objects.filter(player=player).exists()


@pytest.mark.parametrize("key", ["rank", "card", "slot1"])
def test_a_server_put_for_an_erased_player_is_410_and_writes_nothing(
    server_client: APIClient, erased: Player, key: str
):
    response = server_client.put(
        server_url(erased, key),
        {"value": {"mmr": 1500}},
        format="json",
        HTTP_IF_NONE_MATCH="*",
        HTTP_IDEMPOTENCY_KEY="k1",
    )

    assert_erased(response)
    assert_nothing_stored(erased)


def test_a_server_batch_for_an_erased_player_is_410_and_writes_nothing(
    server_client: APIClient, erased: Player
):
    writes = [{"key": "rank", "value": 1}, {"key": "card", "value": {"title": "x"}}]

    response = server_client.post(server_url(erased), {"writes": writes}, format="json")

    assert_erased(response)
    assert_nothing_stored(erased)


def test_a_server_delete_and_reads_for_an_erased_player_are_410(
    server_client: APIClient, erased: Player
):
    assert_erased(server_client.delete(server_url(erased, "card"), HTTP_IF_MATCH='"1"'))
    assert_erased(server_client.get(server_url(erased, "card")))
    assert_erased(server_client.get(server_url(erased)))


def test_a_server_write_that_finds_the_player_erased_after_its_check_is_410(
    server_client: APIClient, erased: Player, monkeypatch: pytest.MonkeyPatch
):
    """The erasure commits between the view's look-up and the write (the race, made certain):
    the write's own read of the player's row refuses it, and a game server is told why (not a
    player's token_revoked)."""
    from apps.cloudsave import api

    def as_before_the_erasure(game_id: int, player_id: int) -> Player:
        found = Player.objects.get(pk=player_id, game_id=game_id)
        found.erased_at = None
        return found

    monkeypatch.setattr(api, "_same_game_player", as_before_the_erasure)

    response = server_client.put(
        server_url(erased, "rank"), {"value": 1}, format="json", HTTP_IF_NONE_MATCH="*"
    )

    assert_erased(response)
    assert_nothing_stored(erased)


def test_a_live_players_server_writes_still_work(server_client: APIClient, bob_player: Player):
    response = server_client.put(
        server_url(bob_player, "slot1"), {"value": 1}, format="json", HTTP_IF_NONE_MATCH="*"
    )

    assert response.status_code == 201, response.content


def test_other_players_read_nothing_public_of_an_erased_player(bob: APIClient, erased: Player):
    assert bob.get(f"/api/v1/saves/public/{erased.pk}").json() == []
    response = bob.get(f"/api/v1/saves/public/{erased.pk}/card")
    assert response.status_code == 404
    assert response.json()["code"] == "save_not_found"
