"""The operator's grant-or-revoke form: through the ledger, operator as actor, audited."""

import re
from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import GameAccess, Player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import LedgerEntry
from tests.shop.helpers import balance, fund, make_economy

URL = "/admin/inventory/wallet/grant/"


def shown_nonce(client, player=None) -> str:
    """The key of a form as the page shows it (one per form shown)."""
    page = client.get(f"{URL}?player={player.pk}" if player else URL).content.decode()
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def form(player, delta, code="gold", nonce="n1"):
    return {
        "player": player.pk,
        "kind": "currency",
        "code": code,
        "delta": delta,
        "note": "support ticket 42",
        "nonce": nonce,
    }


def test_operator_grant_goes_through_the_ledger_with_actor_and_audit(
    client, make_operator, game, player
):
    make_economy(game)
    alice = make_operator("alice", game, GameAccess.Role.OPERATOR)
    client.force_login(alice)

    assert client.get(f"{URL}?player={player.pk}").status_code == 200
    nonce = shown_nonce(client, player)
    response = client.post(URL, form(player, 25, nonce=nonce))
    client.post(URL, form(player, 25, nonce=nonce))  # a double submit changes nothing more

    assert response.status_code == 302
    assert balance(player, "gold") == 25
    entry = LedgerEntry.objects.get(player=player)
    assert (entry.actor, entry.reason, entry.delta) == (alice, "operator_grant", 25)
    audit = AuditLogEntry.objects.get(action="inventory.grant")
    assert (audit.actor, audit.before, audit.after) == (alice, {"gold": 0}, {"gold": 25})


def test_the_same_form_sent_again_says_nothing_changed(client, make_operator, game, player):
    make_economy(game)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))
    nonce = shown_nonce(client, player)
    first = client.post(URL, form(player, 25, nonce=nonce), follow=True)
    assert [str(m) for m in first.context["messages"]] == [f"Done: +25 gold for {player}."]

    again = client.post(URL, form(player, 25, nonce=nonce), follow=True)  # Back, submit

    shown = [str(message) for message in again.context["messages"]]
    assert shown == [
        "That form was already submitted; nothing changed. Open Grant or revoke again for a "
        "new one."
    ]
    assert balance(player, "gold") == 25
    assert LedgerEntry.objects.filter(player=player).count() == 1


KEY_REUSED = "That form was already used for another grant or revoke"


def test_the_same_form_sent_again_with_another_amount_is_refused(
    client, make_operator, game, player
):
    make_economy(game)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))
    nonce = shown_nonce(client, player)
    client.post(URL, form(player, 25, nonce=nonce))

    again = client.post(URL, form(player, 500, nonce=nonce))  # Back, edit, submit

    assert again.status_code == 200  # the form again, with why
    assert KEY_REUSED in again.content.decode()
    assert balance(player, "gold") == 25
    assert LedgerEntry.objects.filter(player=player).count() == 1


def test_the_same_form_sent_again_for_another_player_grants_nothing(
    client, make_operator, game, player
):
    """The ledger's key is per player: the form's key, sent again for another player (Back,
    change the player id, submit), applied that too, a second grant from one form."""
    make_economy(game)
    bob = Player.objects.create(game=game, display_name="bob")
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))
    nonce = shown_nonce(client, player)
    client.post(URL, form(player, 25, nonce=nonce))

    again = client.post(URL, form(bob, 25, nonce=nonce))

    assert again.status_code == 200
    assert KEY_REUSED in again.content.decode()
    assert (balance(player, "gold"), balance(bob, "gold")) == (25, 0)
    assert AuditLogEntry.objects.filter(action="inventory.grant").count() == 1


def test_a_form_refused_by_the_ledger_can_be_corrected_and_sent(
    client, make_operator, game, player
):
    make_economy(game)
    fund(player, 10)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))
    nonce = shown_nonce(client, player)
    assert client.post(URL, form(player, -11, nonce=nonce)).status_code == 200  # refused

    response = client.post(URL, form(player, -10, nonce=nonce))

    assert response.status_code == 302
    assert balance(player, "gold") == 0


def test_a_key_not_shown_to_this_operator_is_refused(client, make_operator, game, player):
    """A made-up key, or another operator's form, grants nothing: the key is the form's."""
    make_economy(game)
    client.force_login(make_operator("bob", game, GameAccess.Role.OPERATOR))
    bobs = shown_nonce(client, player)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    made_up = client.post(URL, form(player, 5, nonce="n1"))
    another_operators = client.post(URL, form(player, 5, nonce=bobs))

    for response in (made_up, another_operators):
        assert response.status_code == 200
        assert "Open Grant or revoke again" in response.content.decode()
    assert balance(player, "gold") == 0


def test_a_form_older_than_a_day_is_refused(client, make_operator, game, player, monkeypatch):
    make_economy(game)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))
    earlier = timezone.now() - timedelta(days=1, minutes=1)
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: earlier)
        nonce = shown_nonce(client, player)  # the page as shown a day and a minute ago

    response = client.post(URL, form(player, 5, nonce=nonce))

    assert response.status_code == 200
    assert "Open Grant or revoke again" in response.content.decode()
    assert balance(player, "gold") == 0


def test_revoke_below_zero_is_refused_and_changes_nothing(client, make_operator, game, player):
    make_economy(game)
    fund(player, 10)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    response = client.post(URL, form(player, -11, nonce=shown_nonce(client, player)))

    assert response.status_code == 200
    assert "Needs 11 gold, has 10" in response.content.decode()
    assert balance(player, "gold") == 10
    assert not AuditLogEntry.objects.exists()


def test_analyst_cannot_grant(client, make_operator, game, player):
    make_economy(game)
    client.force_login(make_operator("charlie", game, GameAccess.Role.ANALYST))

    response = client.post(URL, form(player, 5))

    assert response.status_code == 403
    assert balance(player, "gold") == 0


def test_operator_of_game_a_cannot_grant_to_game_b_player(
    client, make_operator, game, other_game, other_player
):
    make_economy(other_game)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    response = client.post(URL, form(other_player, 5, nonce=shown_nonce(client)))

    assert response.status_code == 200
    assert "No such player in a game you may change" in response.content.decode()
    assert balance(other_player, "gold") == 0


def test_a_tampered_nonce_longer_than_the_ledger_key_is_a_form_error(
    client, make_operator, game, player
):
    make_economy(game)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    response = client.post(URL, form(player, 5, nonce="n" * 200))

    assert response.status_code == 200  # the form again, with its error; was a 500 on PostgreSQL
    assert balance(player, "gold") == 0
    assert not LedgerEntry.objects.exists()


def test_an_item_grant_sent_again_replays(client, make_operator, game, player):
    make_economy(game)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))
    sent = {**form(player, 3, code="potion", nonce=shown_nonce(client, player)), "kind": "item"}
    client.post(URL, sent)

    again = client.post(URL, sent, follow=True)

    assert [str(m) for m in again.context["messages"]][-1].startswith("That form was already")
    assert list(LedgerEntry.objects.values_list("item__sku", "delta")) == [("potion", 3)]
