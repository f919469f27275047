"""Operators inspect a player's cloud saves on the panel's player page and restore a kept
version; the restore is audited, and an analyst may only look."""

from __future__ import annotations

import pytest

from apps.accounts.models import GameAccess
from apps.audit.models import AuditLogEntry
from apps.cloudsave.models import Document
from tests.cloudsave.conftest import URL, create, put
from tests.panel.confirming import confirm, confirmation_fields
from tests.panel.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def saved(alice):
    create(alice, "slot1", {"gold": 10})
    put(alice, "slot1", {"gold": 0}, HTTP_IF_MATCH='"1"')  # the player lost progress


def page(game, player) -> str:
    return f"/panel/games/{game.pk}/players/{player.pk}/"


def test_the_player_page_lists_documents_and_versions(game, player, saved):
    client = client_for(make_user("oscar", game, GameAccess.Role.OPERATOR))

    html = client.get(page(game, player)).content.decode()

    assert 'id="saves"' in html and "slot1" in html
    assert (
        "{&quot;gold&quot;: 10}" in html and 'name="version" value="1"' in html
    )  # JSON, not a repr
    assert 'name="current" value="2"' in html


def test_an_operator_restores_a_version_as_a_new_one_and_it_is_audited(alice, game, player, saved):
    operator = make_user("oscar", game, GameAccess.Role.OPERATOR)
    client = client_for(operator)

    response = confirm(
        client,
        page(game, player) + "restore-save",
        {"key": "slot1", "version": 1, "current": 2, "reason": "ticket 42: lost progress"},
    )

    assert response.status_code == 302
    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.value) == (3, {"gold": 10})
    entry = AuditLogEntry.objects.get(action="cloudsave.restore_version")
    assert entry.actor == operator and entry.reason == "ticket 42: lost progress"
    assert entry.before == {"version": 2, "deleted": False}
    assert entry.after == {"version": 3, "restored_from": 1}
    # A device still at version 2 is told, with the restored copy.
    stale = put(alice, "slot1", {"gold": 1}, HTTP_IF_MATCH='"2"')
    assert stale.status_code == 412 and stale.json()["current"]["value"] == {"gold": 10}
    assert alice.get(f"{URL}/slot1").json()["version"] == 3


def test_restoring_an_unknown_version_or_without_reason_changes_nothing(game, player, saved):
    client = client_for(make_user("oscar", game, GameAccess.Role.OPERATOR))

    for form in (
        {"key": "slot1", "version": 9, "current": 2, "reason": "x"},
        {"key": "nope", "version": 1, "current": 2, "reason": "x"},
        {"key": "slot1", "version": 1, "current": 2, "reason": ""},
        {"key": "slot1", "version": 1, "reason": "x"},  # not the form the page shows
    ):
        response = client.post(page(game, player) + "restore-save", form, follow=True)
        assert "Nothing changed" in response.content.decode()

    assert Document.objects.get(player=player).version == 2
    assert not AuditLogEntry.objects.filter(action="cloudsave.restore_version").exists()


def test_an_analyst_cannot_restore(game, player, saved):
    client = client_for(make_user("anna", game, GameAccess.Role.ANALYST))

    html = client.get(page(game, player)).content.decode()
    response = client.post(
        page(game, player) + "restore-save",
        {"key": "slot1", "version": 1, "current": 2, "reason": "x"},
    )

    assert "restore-save" not in html
    assert response.status_code == 403
    assert Document.objects.get(player=player).version == 2


def test_another_games_operator_gets_404(other_game, game, player, saved):
    client = client_for(make_user("bob", other_game, GameAccess.Role.OPERATOR))

    response = client.post(
        page(game, player) + "restore-save",
        {"key": "slot1", "version": 1, "current": 2, "reason": "x"},
    )

    assert response.status_code == 404
    assert Document.objects.get(player=player).version == 2


def test_a_deleted_document_is_brought_back_by_a_restore(alice, game, player, saved):
    assert alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"2"').status_code == 204
    client = client_for(make_user("oscar", game, GameAccess.Role.OPERATOR))

    response = confirm(
        client,
        page(game, player) + "restore-save",
        {"key": "slot1", "version": 1, "current": 3, "reason": "undo"},
    )

    assert response.status_code == 302
    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.deleted, document.value) == (4, False, {"gold": 10})
    assert alice.get(f"{URL}/slot1").json()["value"] == {"gold": 10}
    entry = AuditLogEntry.objects.get(action="cloudsave.restore_version")
    assert entry.before == {"version": 3, "deleted": True}


def test_a_deletion_is_not_offered_nor_taken_as_a_version_to_restore(alice, game, player, saved):
    alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"2"')
    create(alice, "slot1", {"gold": 5})  # version 4, after the deletion (version 3)
    client = client_for(make_user("oscar", game, GameAccess.Role.OPERATOR))

    html = client.get(page(game, player)).content.decode()
    response = client.post(
        page(game, player) + "restore-save",
        {"key": "slot1", "version": 3, "current": 4, "reason": "x"},
        follow=True,
    )

    assert 'name="version" value="1"' in html and 'name="version" value="3"' not in html
    assert "Nothing changed" in response.content.decode()
    assert "deletion" in response.content.decode()
    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.value) == (4, {"gold": 5})
    assert not AuditLogEntry.objects.filter(action="cloudsave.restore_version").exists()


def test_a_restore_sent_twice_or_after_the_players_write_changes_nothing_more(
    alice, game, player, saved
):
    client = client_for(make_user("oscar", game, GameAccess.Role.OPERATOR))
    form = {"key": "slot1", "version": 1, "current": 2, "reason": "ticket 42"}

    confirmed = confirmation_fields(client.post(page(game, player) + "restore-save", form))
    assert client.post(page(game, player) + "restore-save", confirmed).status_code == 302
    # A double click on the confirmation.
    again = client.post(page(game, player) + "restore-save", confirmed, follow=True)

    assert "Nothing changed" in again.content.decode()
    assert Document.objects.get(player=player).version == 3
    assert AuditLogEntry.objects.filter(action="cloudsave.restore_version").count() == 1

    put(alice, "slot1", {"gold": 7}, HTTP_IF_MATCH='"3"')  # the player plays on: version 4
    stale = {**form, "current": 3}  # a page loaded before that write
    response = client.post(page(game, player) + "restore-save", stale, follow=True)

    assert "Nothing changed" in response.content.decode()
    assert Document.objects.get(player=player).value == {"gold": 7}
