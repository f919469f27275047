"""The admin's "Ban selected" action: an erased player among those selected is skipped and
counted; the others are banned."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess, Player
from apps.accounts.services import set_game_access
from apps.accounts.services.privacy import erase_player
from apps.audit.models import AuditLogEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/player/"


@pytest.fixture
def operator(game):
    user = get_user_model().objects.create_user("olivia", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    return user


def ban_selected(client, players: list[Player], **form: str):
    return client.post(
        CHANGELIST,
        {"action": "ban_selected", "_selected_action": [p.pk for p in players], **form},
        follow=True,
    )


def test_ban_selected_bans_the_others_and_counts_the_erased_players_skipped(
    client, login, operator
):
    alice, bob, carol, dave = (
        Player.objects.get(pk=login(name)["player"]["id"])
        for name in ("alice", "bob", "carol", "dave")
    )
    for erased in (alice, carol):
        assert erase_player(player=erased, actor=operator) is True
    client.force_login(operator)

    response = ban_selected(client, [alice, bob, carol, dave], reason="wallhack")

    assert response.status_code == 200
    banned = Player.objects.filter(banned_until__isnull=False).values_list("pk", flat=True)
    assert sorted(banned) == sorted([bob.pk, dave.pk])
    assert AuditLogEntry.objects.filter(action="player.ban").count() == 2
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Banned 2 player(s); skipped 2 erased player(s)."]


def test_ban_selected_without_a_reason_still_bans_no_one(client, login, operator):
    players = [Player.objects.get(pk=login(name)["player"]["id"]) for name in ("alice", "bob")]
    client.force_login(operator)

    response = ban_selected(client, players)

    assert not Player.objects.filter(banned_until__isnull=False).exists()
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["A ban needs a reason."]
