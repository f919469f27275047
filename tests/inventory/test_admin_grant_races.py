"""The admin's grant form sent twice at once, on PostgreSQL: once for another player (Back,
change the player id, submit while the first is still on its way) grants nothing more."""

from __future__ import annotations

import threading
import time

import pytest
from django.test import Client

import apps.inventory.admin as inventory_admin
from apps.accounts.models import GameAccess, Player
from apps.audit.models import AuditLogEntry
from tests.conftest import in_thread
from tests.inventory.test_admin_grant import KEY_REUSED, URL, form, shown_nonce
from tests.shop.helpers import balance, make_economy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_form_sent_for_another_player_while_the_first_commits_grants_nothing(
    make_operator, game, player, monkeypatch
):
    make_economy(game)
    bob = Player.objects.create(game=game, display_name="bob")
    alice = make_operator("alice", game, GameAccess.Role.OPERATOR)
    nonce = shown_nonce(logged_in(alice), player)
    applied, release = threading.Event(), threading.Event()
    adjust = inventory_admin.operator_adjust

    def slow_adjust(**kwargs):
        result = adjust(**kwargs)
        if kwargs["player"].pk == player.pk:  # the first form: written, not committed yet
            applied.set()
            release.wait(10)
        return result

    monkeypatch.setattr(inventory_admin, "operator_adjust", slow_adjust)
    first = in_thread(lambda: logged_in(alice).post(URL, form(player, 25, nonce=nonce)))
    assert applied.wait(10)
    second = in_thread(lambda: logged_in(alice).post(URL, form(bob, 25, nonce=nonce)))
    time.sleep(0.5)  # the second has looked for the key's use (and, unheld, granted) by now
    release.set()

    assert first.result(30).status_code == 302
    refused = second.result(30)
    assert refused.status_code == 200
    assert KEY_REUSED in refused.content.decode()
    assert (balance(player, "gold"), balance(bob, "gold")) == (25, 0)
    assert AuditLogEntry.objects.filter(action="inventory.grant").count() == 1


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
