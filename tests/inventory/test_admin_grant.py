"""The operator's grant-or-revoke form: through the ledger, operator as actor, audited."""

from apps.accounts.models import GameAccess
from apps.audit.models import AuditLogEntry
from apps.inventory.models import LedgerEntry
from tests.shop.helpers import balance, fund, make_economy

URL = "/admin/inventory/wallet/grant/"


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
    response = client.post(URL, form(player, 25))
    client.post(URL, form(player, 25))  # a double submit of the same form changes nothing more

    assert response.status_code == 302
    assert balance(player, "gold") == 25
    entry = LedgerEntry.objects.get(player=player)
    assert (entry.actor, entry.reason, entry.delta) == (alice, "operator_grant", 25)
    audit = AuditLogEntry.objects.get(action="inventory.grant")
    assert (audit.actor, audit.before, audit.after) == (alice, {"gold": 0}, {"gold": 25})


def test_the_same_form_sent_again_with_another_amount_says_nothing_changed(
    client, make_operator, game, player
):
    make_economy(game)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))
    first = client.post(URL, form(player, 25), follow=True)
    assert [str(m) for m in first.context["messages"]] == [f"Done: +25 gold for {player}."]

    again = client.post(URL, form(player, 500), follow=True)  # Back, edit, submit

    shown = [str(message) for message in again.context["messages"]]
    assert shown == [
        "That form was already submitted; nothing changed. Open Grant or revoke again for a "
        "new one."
    ]
    assert balance(player, "gold") == 25
    assert LedgerEntry.objects.filter(player=player).count() == 1


def test_revoke_below_zero_is_refused_and_changes_nothing(client, make_operator, game, player):
    make_economy(game)
    fund(player, 10)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    response = client.post(URL, form(player, -11))

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

    response = client.post(URL, form(other_player, 5))

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
