from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import PlatformIdentity, Player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import Currency, ItemDefinition, LedgerEntry, Wallet
from tests.panel.confirming import confirm


def url(game, player=None, suffix: str = "") -> str:
    base = f"/panel/games/{game.pk}/players/"
    return base if player is None else f"{base}{player.pk}/{suffix}"


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold")


@pytest.fixture
def sword(game):
    return ItemDefinition.objects.create(game=game, sku="sword", name="Sword", kind="durable")


def grant(client, game, player, follow: bool = False, **fields):
    """The grant form; a revoke goes through its confirmation."""
    body = {
        "direction": "grant",
        "target": "currency:gold",
        "quantity": 50,
        "reason": "Compensation for the outage",
        "idempotency_key": "form-1",
        **fields,
    }
    if body["direction"] == "revoke":
        return confirm(client, url(game, player, "grant"), body, follow=follow)
    return client.post(url(game, player, "grant"), body, follow=follow)


def test_search_by_name_platform_id_and_player_id(operator_client, game, player, other_player):
    PlatformIdentity.objects.create(
        game=game, player=player, platform="steam", platform_user_id="76561198000000001"
    )
    bob_in_a = Player.objects.create(game=game, display_name="bobby")

    def found(query):
        response = operator_client.get(url(game) + f"?q={query}")
        return {p.pk for p in response.context["players"]}

    assert found("ALI") == {player.pk}
    assert found("76561198000000001") == {player.pk}
    assert found(str(bob_in_a.pk)) == {bob_in_a.pk}
    assert found("bob") == {bob_in_a.pk}  # bob of game B is not found from game A
    assert found(str(other_player.pk)) == set()


def test_player_page_shows_identities_wallet_and_ledger(operator_client, game, player, gold):
    PlatformIdentity.objects.create(
        game=game, player=player, platform="epic", platform_user_id="e1"
    )
    grant(operator_client, game, player)

    response = operator_client.get(url(game, player))

    page = response.content.decode()
    assert response.status_code == 200
    assert "e1" in page
    assert 'data-currency="gold">50<' in page
    assert "operator_grant" in page
    assert 'id="ban-form"' in page


def test_player_of_another_game_is_404(operator_client, game, other_player):
    assert operator_client.get(url(game, other_player)).status_code == 404
    response = operator_client.post(url(game, other_player, "ban"), {"reason": "x"})
    assert response.status_code == 404
    other_player.refresh_from_db()
    assert other_player.banned_until is None


def test_operator_bans_with_reason_and_until_and_it_is_audited(
    operator_client, operator, game, player
):
    until = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")

    response = confirm(
        operator_client, url(game, player, "ban"), {"reason": "Cheating", "until": until}
    )

    assert response.status_code == 302
    player.refresh_from_db()
    assert player.is_banned and player.ban_reason == "Cheating"
    assert player.banned_until.strftime("%Y-%m-%dT%H:%M") == until
    entry = AuditLogEntry.objects.get(action="player.ban")
    assert (entry.actor, entry.game, entry.target_id, entry.reason) == (
        operator,
        game,
        str(player.pk),
        "Cheating",
    )


def test_ban_without_reason_or_in_the_past_changes_nothing(operator_client, game, player):
    past = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    operator_client.post(url(game, player, "ban"), {"reason": ""})
    response = operator_client.post(
        url(game, player, "ban"), {"reason": "x", "until": past}, follow=True
    )

    assert "Nothing changed" in response.content.decode()
    player.refresh_from_db()
    assert player.banned_until is None
    assert not AuditLogEntry.objects.exists()


def test_unban_is_audited(operator_client, game, player):
    confirm(operator_client, url(game, player, "ban"), {"reason": "Cheating"})

    operator_client.post(url(game, player, "unban"), {"reason": "Appeal accepted"})

    player.refresh_from_db()
    assert player.banned_until is None
    assert list(AuditLogEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "player.ban",
        "player.unban",
    ]


def test_revoke_sessions_ends_them_and_audits_each(operator_client, operator, game, player):
    from apps.accounts.models import AuthSession
    from apps.accounts.services.sessions import open_session

    for _ in range(2):
        open_session(player=player, platform="dev", now=timezone.now())

    response = confirm(
        operator_client,
        url(game, player, "revoke-sessions"),
        {"reason": "Stolen phone"},
        follow=True,
    )

    assert "Ended 2 session(s)" in response.content.decode()
    assert not AuthSession.objects.filter(player=player, revoked_at__isnull=True).exists()
    audit = AuditLogEntry.objects.filter(action="session.revoke")
    assert [(a.actor, a.reason) for a in audit] == [(operator, "Stolen phone")] * 2


def test_grant_and_revoke_currency_through_the_ledger(
    operator_client, operator, game, player, gold
):
    grant(operator_client, game, player)
    grant(operator_client, game, player, direction="revoke", quantity=20, idempotency_key="form-2")

    wallet = Wallet.objects.get(player=player, currency=gold)
    assert wallet.balance == 30
    entries = LedgerEntry.objects.filter(player=player).order_by("id")
    assert [(e.delta, e.reason, e.actor_id) for e in entries] == [
        (50, "operator_grant", operator.pk),
        (-20, "operator_revoke", operator.pk),
    ]
    audit = AuditLogEntry.objects.order_by("id")
    assert [(a.action, a.before, a.after, a.reason) for a in audit] == [
        ("inventory.grant", {"gold": 0}, {"gold": 50}, "Compensation for the outage"),
        ("inventory.revoke", {"gold": 50}, {"gold": 30}, "Compensation for the outage"),
    ]


def test_a_resubmitted_grant_form_grants_once(operator_client, game, player, gold):
    grant(operator_client, game, player)
    response = grant(operator_client, game, player, follow=True)

    assert "already submitted" in response.content.decode()
    assert Wallet.objects.get(player=player).balance == 50
    assert AuditLogEntry.objects.count() == 1


def test_grant_an_item(operator_client, game, player, sword):
    grant(operator_client, game, player, target="item:sword", quantity=1)

    assert player.items.get().quantity == 1


def test_grant_needs_a_reason_and_a_known_target(operator_client, game, player, gold):
    grant(operator_client, game, player, reason="  ")
    grant(operator_client, game, player, target="currency:diamonds", idempotency_key="f2")
    grant(operator_client, game, player, quantity=0, idempotency_key="f3")

    assert not LedgerEntry.objects.exists()
    assert not AuditLogEntry.objects.exists()


def test_revoking_more_than_held_changes_nothing(operator_client, game, player, gold):
    response = grant(operator_client, game, player, direction="revoke", follow=True)

    assert "Nothing changed" in response.content.decode()
    assert not LedgerEntry.objects.exists()
    assert not AuditLogEntry.objects.exists()


@pytest.mark.parametrize("action", ["ban", "unban", "revoke-sessions", "grant"])
def test_analyst_gets_403_on_every_action(analyst_client, game, player, gold, action):
    response = analyst_client.post(
        url(game, player, action),
        {"reason": "x", "direction": "grant", "target": "currency:gold", "quantity": 5,
         "idempotency_key": "k"},
    )  # fmt: skip

    assert response.status_code == 403
    player.refresh_from_db()
    assert player.banned_until is None
    assert not LedgerEntry.objects.exists()
    assert not AuditLogEntry.objects.exists()


def test_analyst_reads_the_player_page_without_action_forms(analyst_client, game, player):
    response = analyst_client.get(url(game, player))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="ban-form"' not in page and 'id="grant-form"' not in page
    assert "can read, not change" in page


def test_unknown_action_is_404_and_get_is_405(operator_client, game, player):
    assert operator_client.post(url(game, player, "delete")).status_code == 404
    assert operator_client.get(url(game, player, "ban")).status_code == 405


def test_owners_see_the_players_ban_history_and_operators_do_not(
    owner_client, operator_client, game, player
):
    confirm(operator_client, url(game, player, "ban"), {"reason": "Cheating"})
    operator_client.post(url(game, player, "unban"), {"reason": "Appeal"})

    owner_page = owner_client.get(url(game, player)).content.decode()
    operator_page = operator_client.get(url(game, player)).content.decode()

    assert 'id="audit"' in owner_page
    assert "player.ban" in owner_page and "player.unban" in owner_page
    assert 'id="audit"' not in operator_page
