"""A player page's grant form carries one idempotency key, and the key names one action: the form
sent again replays it, but the key sent with another action (another player, another amount) is
refused (`idempotency_key_reused`) and the first stays applied. The ledger's own key is per
player, so the same key for players A and B granted both, also at the same instant."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.accounts.models import GameAccess, Player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.panel import tasks
from apps.panel.models import OperatorKey, SegmentAction
from apps.panel.views import players as players_views
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.panel.conftest import client_for, make_user


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold")


@pytest.fixture
def second_player(game):
    return Player.objects.create(game=game, display_name="carol")


def grant(client, game, player, *, quantity: int = 50, key: str = "form-1", follow=False):
    return client.post(
        f"/panel/games/{game.pk}/players/{player.pk}/grant",
        {
            "direction": "grant",
            "target": "currency:gold",
            "quantity": quantity,
            "reason": "Compensation for the outage",
            "idempotency_key": key,
        },
        follow=follow,
    )


def balances(*players) -> list[int]:
    return [
        sum(Wallet.objects.filter(player=player).values_list("balance", flat=True))
        for player in players
    ]


@pytest.mark.django_db
def test_the_same_key_for_another_player_is_refused_and_the_first_grant_stays(
    operator_client, game, player, second_player, gold
):
    grant(operator_client, game, player)

    response = grant(operator_client, game, second_player, follow=True)

    html = response.content.decode()
    assert "Nothing changed: That form&#x27;s key was already used for another action" in html
    assert balances(player, second_player) == [50, 0]
    assert LedgerEntry.objects.count() == 1
    assert list(AuditLogEntry.objects.values_list("action", "target_id")) == [
        ("inventory.grant", str(player.pk))
    ]


@pytest.mark.django_db
def test_the_same_key_for_another_amount_is_refused_not_replayed_as_done(
    operator_client, game, player, gold
):
    grant(operator_client, game, player)

    response = grant(operator_client, game, player, quantity=70, follow=True)

    html = response.content.decode()
    assert "already used for another action" in html and "already submitted" not in html
    assert balances(player) == [50]


@pytest.mark.django_db
def test_the_same_form_sent_again_still_replays(operator_client, game, player, gold):
    grant(operator_client, game, player)

    response = grant(operator_client, game, player, follow=True)

    assert "That form was already submitted; nothing changed." in response.content.decode()
    assert balances(player) == [50]
    assert OperatorKey.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_grant_leaves_its_key_free(operator_client, game, player, gold):
    """A change the ledger refused (here: a revoke of more than held) did nothing: its key
    names nothing yet, so the form sent again once it can apply applies."""
    body = {"direction": "revoke", "target": "currency:gold", "quantity": 20, "reason": "fraud"}
    url = f"/panel/games/{game.pk}/players/{player.pk}/grant"

    operator_client.post(url, {**body, "idempotency_key": "revoke-1", "confirm": "yes"})
    assert not OperatorKey.objects.exists()
    grant(operator_client, game, player, key="grant-1")
    operator_client.post(url, {**body, "idempotency_key": "revoke-1", "confirm": "yes"})

    assert balances(player) == [30]


@pytest.mark.django_db
def test_keys_are_per_game(operator_client, game, player, gold, other_game, other_player):
    """Another game's operator sending the same key is not refused, nor told of game A's."""
    Currency.objects.create(game=other_game, code="gold", name="Gold")
    bob = client_for(make_user("bob", other_game, GameAccess.Role.OPERATOR))
    grant(operator_client, game, player)

    grant(bob, other_game, other_player)

    assert balances(player, other_player) == [50, 50]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_for_two_players_at_once_applies_one(
    game, operator, player, second_player, gold
):
    clients = [client_for(operator), client_for(operator)]
    start = threading.Barrier(2)

    def send(n: int) -> int:
        try:
            start.wait()
            return grant(clients[n], game, [player, second_player][n]).status_code
        finally:
            connection.close()  # each thread opened its own

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(send, range(2)))

    assert statuses == [302, 302]
    assert sorted(balances(player, second_player)) == [0, 50]
    assert LedgerEntry.objects.count() == 1
    assert AuditLogEntry.objects.filter(action="inventory.grant").count() == 1
    assert OperatorKey.objects.count() == 1


# A segment action's form: the same rule.


def segment_grant(client, game, **fields):
    body = {
        "kind": "grant",
        "target": "currency:gold",
        "quantity": 100,
        "reason": "Outage on Tuesday",
        "idempotency_key": "segment-form-1",
        **fields,
    }
    return client.post(f"/panel/games/{game.pk}/segment/", body, follow=True)


@pytest.mark.django_db
def test_a_segment_form_key_sent_with_another_action_is_refused(
    operator_client, game, player, gold, monkeypatch
):
    monkeypatch.setattr(tasks.run_segment_action, "delay", lambda *args, **kwargs: None)
    segment_grant(operator_client, game)

    response = segment_grant(operator_client, game, quantity=5000)

    assert "Nothing changed: That form&#x27;s key was already used" in response.content.decode()
    assert list(SegmentAction.objects.values_list("quantity", flat=True)) == [100]


@pytest.mark.django_db
def test_a_segment_form_sent_again_still_finds_its_action(
    operator_client, game, player, gold, monkeypatch
):
    monkeypatch.setattr(tasks.run_segment_action, "delay", lambda *args, **kwargs: None)
    segment_grant(operator_client, game)

    response = segment_grant(operator_client, game)

    assert "That form was already submitted" in response.content.decode()
    assert SegmentAction.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_player_under_a_key_being_applied_waits_then_is_refused(
    game, operator, player, second_player, gold, monkeypatch
):
    """The first grant holds its claim until it commits: the second, for another player, waits
    for it (its own wallet is not locked by the first), then finds the key taken."""
    applying, release = threading.Event(), threading.Event()
    real_adjust = players_views.operator_adjust

    def held_adjust(**kwargs):
        if kwargs["player"].pk == player.pk:
            applying.set()
            release.wait(10)
        return real_adjust(**kwargs)

    monkeypatch.setattr(players_views, "operator_adjust", held_adjust)
    first = in_thread(lambda: grant(client_for(operator), game, player).status_code)
    assert applying.wait(10)
    second = in_thread(lambda: grant(client_for(operator), game, second_player, follow=True))

    wait_until_a_statement_waits_for_a_lock()
    release.set()

    assert first.result(10) == 302
    assert "already used for another action" in second.result(10).content.decode()
    assert balances(player, second_player) == [50, 0]
