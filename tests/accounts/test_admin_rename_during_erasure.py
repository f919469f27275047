"""A rename in the player admin refused once the player is erased, before the form was sent or
while its save waited for the erasure: the operator is told nothing changed, and no audit entry
(nor Django's history) says they changed the name or the erasure stamp (apps/accounts/admin.py)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.models import GameAccess, Player
from apps.accounts.services import set_game_access
from apps.accounts.services.privacy import erase_player
from apps.audit.models import AuditLogEntry
from tests.accounts.test_privacy_review_fixes import change_form
from tests.conftest import while_an_erasure_waits_to_commit

CHANGELIST = "/admin/accounts/player/"


def rename(operator, player: Player, name: str):
    client = Client()
    client.force_login(operator)
    return client.post(f"{CHANGELIST}{player.pk}/change/", change_form(player, name), follow=True)


def shown(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def admin_entries(player: Player) -> list[str]:
    return list(
        AuditLogEntry.objects.filter(
            action__startswith="admin_", target_id=str(player.pk)
        ).values_list("action", flat=True)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rename_that_waited_for_the_erasure_is_refused_and_not_audited(tokens, admin_operator):
    player = Player.objects.get(pk=tokens["player"]["id"])

    response = while_an_erasure_waits_to_commit(
        player.pk, lambda: rename(admin_operator, player, "alice again")
    ).result(10)

    assert Player.objects.get(pk=player.pk).display_name == ""
    assert admin_entries(player) == []
    assert not LogEntry.objects.filter(object_id=str(player.pk)).exists()
    assert shown(response) == [f"Nothing changed: Player {player.pk}'s account was erased."]
    # Back to the player's page, which shows the erased player as it is now.
    assert response.redirect_chain == [(f"{CHANGELIST}{player.pk}/change/", 302)]


@pytest.mark.django_db
def test_a_rename_sent_after_the_erasure_is_refused_and_not_logged(tokens, admin_operator):
    player = Player.objects.get(pk=tokens["player"]["id"])
    assert erase_player(player=Player.objects.get(pk=player.pk), actor=None) is True

    response = rename(admin_operator, player, "alice again")

    assert Player.objects.get(pk=player.pk).display_name == ""
    assert admin_entries(player) == []
    assert not LogEntry.objects.filter(object_id=str(player.pk)).exists()
    assert shown(response) == [f"Nothing changed: Player {player.pk}'s account was erased."]


@pytest.mark.django_db
def test_a_live_players_rename_is_still_saved_and_audited(tokens, admin_operator):
    player = Player.objects.get(pk=tokens["player"]["id"])

    response = rename(admin_operator, player, "Alicia")

    assert not any("Nothing changed" in message for message in shown(response))
    assert Player.objects.get(pk=player.pk).display_name == "Alicia"
    assert admin_entries(player) == ["admin_change"]
    entry = AuditLogEntry.objects.get(action="admin_change", target_id=str(player.pk))
    assert (entry.before["display_name"], entry.after["display_name"]) == ("alice", "Alicia")


@pytest.fixture
def admin_operator(game):
    user = get_user_model().objects.create_user("olivia", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    return user
