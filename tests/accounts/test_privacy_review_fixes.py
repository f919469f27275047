"""What operators can still do to an erased player (docs/guide/privacy.md): no unban, and no
name given back through the admin; and the erased player's revoked sessions keep no platform
account id (tests/accounts/test_privacy.py)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from apps.accounts.errors import PlayerErased
from apps.accounts.models import AuthSession, GameAccess, Player
from apps.accounts.services import set_game_access
from apps.accounts.services.bans import ban_player, unban_player
from apps.accounts.services.privacy import erase_player
from apps.audit.models import AuditLogEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/player/"


@pytest.fixture
def operator(game):
    user = get_user_model().objects.create_user("olivia", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    return user


@pytest.fixture
def erased(tokens, operator) -> Player:
    """alice, banned, then erased (the erasure clears the reason, not the ban's end)."""
    player = Player.objects.get(pk=tokens["player"]["id"])
    ban_player(player=player, reason="wallhack", until=None, actor=operator)
    assert erase_player(player=player, actor=operator) is True
    return Player.objects.get(pk=player.pk)


def test_unban_refuses_an_erased_player(erased, operator):
    with pytest.raises(PlayerErased):
        unban_player(player=erased, reason="appeal", actor=operator)

    assert Player.objects.get(pk=erased.pk).banned_until == erased.banned_until
    assert not AuditLogEntry.objects.filter(action="player.unban").exists()
    assert set(AuthSession.objects.values_list("revoke_reason", flat=True)) == {"player_erased"}


def test_the_admins_unban_skips_an_erased_player_and_says_so(client, erased, operator):
    client.force_login(operator)

    response = client.post(
        CHANGELIST,
        {"action": "unban_selected", "_selected_action": [erased.pk], "reason": "appeal"},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Unbanned 0 player(s); skipped 1 erased player(s)."]
    assert not AuditLogEntry.objects.filter(action="player.unban").exists()


def test_an_erased_players_name_is_read_only_in_the_admin(client, erased, operator, login):
    live = Player.objects.get(pk=login("bob")["player"]["id"])
    client.force_login(operator)

    erased_page = client.get(f"{CHANGELIST}{erased.pk}/change/").content.decode()
    live_page = client.get(f"{CHANGELIST}{live.pk}/change/").content.decode()

    assert 'name="display_name"' not in erased_page
    assert 'name="display_name"' in live_page
    # Erasure is the panel's action, never an edit of the field, on any player.
    assert 'name="erased_at' not in erased_page and 'name="erased_at' not in live_page


def test_posting_a_name_for_an_erased_player_changes_nothing(client, erased, operator):
    client.force_login(operator)

    response = client.post(f"{CHANGELIST}{erased.pk}/change/", change_form(erased, "alice"))

    assert response.status_code == 302  # saved, without the name
    assert Player.objects.get(pk=erased.pk).display_name == ""


def test_a_name_edit_read_before_the_erasure_does_not_bring_the_name_back(tokens, operator):
    # The form was read and validated, then the erasure committed before the save.
    stale = Player.objects.get(pk=tokens["player"]["id"])
    erase_player(player=Player.objects.get(pk=stale.pk), actor=operator)
    stale.display_name = "alice again"
    request = RequestFactory().post("/")
    request.user = operator
    request._messages = _Messages()  # type: ignore[attr-defined]

    admin.site._registry[Player].save_model(request, stale, form=None, change=True)

    assert Player.objects.get(pk=stale.pk).display_name == ""
    assert request._messages.seen == [  # type: ignore[attr-defined]
        f"Nothing changed: Player {stale.pk}'s account was erased."
    ]


def test_a_live_players_name_is_still_edited_in_the_admin(client, tokens, operator):
    client.force_login(operator)
    player = Player.objects.get(pk=tokens["player"]["id"])

    response = client.post(f"{CHANGELIST}{player.pk}/change/", change_form(player, "Alicia"))

    assert response.status_code == 302
    assert Player.objects.get(pk=player.pk).display_name == "Alicia"


def change_form(player: Player, display_name: str) -> dict[str, object]:
    """The player's change form as the admin's page posts it (its identities' inline too)."""
    identities = list(player.identities.values_list("pk", flat=True))
    data: dict[str, object] = {
        "display_name": display_name,
        "identities-TOTAL_FORMS": len(identities),
        "identities-INITIAL_FORMS": len(identities),
        "identities-MIN_NUM_FORMS": 0,
        "identities-MAX_NUM_FORMS": 0,
    }
    for index, identity_id in enumerate(identities):
        data[f"identities-{index}-id"] = identity_id
        data[f"identities-{index}-player"] = player.pk
    return data


class _Messages:
    """Collects what the admin tells the operator (django.contrib.messages' storage API)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def add(self, level: int, message: str, extra_tags: str = "") -> None:
        self.seen.append(str(message))
