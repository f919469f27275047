"""The admin's "Unban selected" action: an erased player among those selected is skipped and
counted (as "Ban selected" does: tests/accounts/test_admin_ban_skips_erased.py); the others are
unbanned."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess, Player
from apps.accounts.services import set_game_access
from apps.accounts.services.bans import ban_player
from apps.accounts.services.privacy import erase_player
from apps.audit.models import AuditLogEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/player/"


@pytest.fixture
def operator(game):
    user = get_user_model().objects.create_user("olivia", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    return user


def unban_selected(client, players: list[Player], **form: str):
    return client.post(
        CHANGELIST,
        {"action": "unban_selected", "_selected_action": [p.pk for p in players], **form},
        follow=True,
    )


def test_unban_selected_unbans_the_others_and_counts_the_erased_players_skipped(
    client, login, operator
):
    alice, bob, carol, dave = (
        Player.objects.get(pk=login(name)["player"]["id"])
        for name in ("alice", "bob", "carol", "dave")
    )
    for player in (alice, bob, carol, dave):
        ban_player(player=player, reason="wallhack", until=None, actor=operator)
    for erased in (alice, carol):  # the lowest ids: the changelist's order meets them first
        assert erase_player(player=erased, actor=operator) is True
    client.force_login(operator)

    response = unban_selected(client, [alice, bob, carol, dave], reason="appeal")

    assert response.status_code == 200
    unbanned = Player.objects.filter(banned_until__isnull=True).values_list("pk", flat=True)
    assert sorted(unbanned) == sorted([bob.pk, dave.pk])
    assert AuditLogEntry.objects.filter(action="player.unban").count() == 2
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Unbanned 2 player(s); skipped 2 erased player(s)."]


def test_unban_selected_without_erased_players_says_how_many(client, login, operator):
    players = [Player.objects.get(pk=login(name)["player"]["id"]) for name in ("alice", "bob")]
    for player in players:
        ban_player(player=player, reason="wallhack", until=None, actor=operator)
    client.force_login(operator)

    response = unban_selected(client, players)

    assert not Player.objects.filter(banned_until__isnull=False).exists()
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Unbanned 2 player(s)."]
