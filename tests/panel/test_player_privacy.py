"""The player page's data download and account erasure: the same export and erasure as the
API's (apps.accounts.privacy), for operators and owners, audited."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuthSession, PlatformIdentity, Player
from apps.accounts.services.privacy import ERASE_ACTION
from apps.accounts.services.sessions import open_session
from apps.audit.models import AuditLogEntry
from apps.cloudsave.models import Document
from tests.panel.conftest import client_for

pytestmark = pytest.mark.django_db


def action_url(game, player, action: str) -> str:
    return reverse("panel:player-action", args=[game.pk, player.pk, action])


@pytest.fixture
def alice(game) -> Player:
    player = Player.objects.create(game=game, display_name="alice")
    PlatformIdentity.objects.create(
        game=game, player=player, platform="dev", platform_user_id="alice-dev"
    )
    Document.objects.create(game=game, player=player, key="slot1", version=1, value={}, size=2)
    open_session(player=player, platform="dev", now=timezone.now())
    return player


def test_an_operator_downloads_the_players_data_and_it_is_audited(operator, game, alice):
    response = client_for(operator).post(action_url(game, alice, "export"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert f'filename="player-{alice.pk}-data.json"' in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profile"]["display_name"] == "alice"
    assert data["identities"][0]["platform_user_id"] == "alice-dev"
    assert data["cloud_saves"][0]["key"] == "slot1"
    (entry,) = AuditLogEntry.objects.filter(action="player.export")
    assert entry.actor == operator and entry.target_id == str(alice.pk)


def test_an_analyst_can_neither_download_nor_erase(analyst, game, alice):
    client = client_for(analyst)

    assert client.post(action_url(game, alice, "export")).status_code == 403
    assert client.post(action_url(game, alice, "erase"), {"confirm": "yes"}).status_code == 403
    assert Player.objects.get(pk=alice.pk).erased_at is None


def test_erasing_asks_first_then_erases_once_and_audits(
    operator, game, alice, django_capture_on_commit_callbacks
):
    client = client_for(operator)

    asked = client.post(action_url(game, alice, "erase"))
    assert asked.status_code == 200
    assert "Erase alice #" in asked.content.decode()
    assert Player.objects.get(pk=alice.pk).erased_at is None  # nothing yet

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(action_url(game, alice, "erase"), {"confirm": "yes"})
        again = client.post(action_url(game, alice, "erase"), {"confirm": "yes"})
    assert done.status_code == again.status_code == 302

    erased = Player.objects.get(pk=alice.pk)
    assert erased.erased_at is not None and erased.display_name == ""
    assert not PlatformIdentity.objects.filter(player=erased).exists()
    assert not Document.objects.filter(player=erased).exists()
    assert not AuthSession.objects.filter(player=erased, revoked_at__isnull=True).exists()
    (entry,) = AuditLogEntry.objects.filter(action=ERASE_ACTION)
    assert entry.actor == operator and entry.after == {"erased_by": "operator"}
    assert "alice" not in entry.target_repr

    page = client.get(reverse("panel:player", args=[game.pk, alice.pk])).content.decode()
    assert "erased" in page and "alice" not in page
    listed = client.get(reverse("panel:players", args=[game.pk])).content.decode()
    assert "erased" in listed and "alice" not in listed
