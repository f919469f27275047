"""Streaming CSV exports (players with the list's filters, purchases, ledger, audit log) and the
readable audit on the player page and in the admin."""

from __future__ import annotations

import csv
import io

import pytest

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import Currency
from apps.inventory.services import Change, operator_adjust
from apps.shop.models import Offer, Purchase


def export(client, game, table: str, query: str = ""):
    return client.get(f"/panel/games/{game.pk}/records/{table}.csv{query}")


def rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold")


def test_players_export_follows_the_filters_and_guards_formulas(analyst_client, game, player):
    Player.objects.create(game=game, display_name='=HYPERLINK("http://evil")')
    ban_player(player=player, reason="cheat", until=None, actor=None)
    everyone = rows(export(analyst_client, game, "players"))
    assert everyone[0][:3] == ["id", "display_name", "created_at"]
    assert len(everyone) == 3
    assert any(row[1].startswith("'=HYPERLINK") for row in everyone[1:])
    banned = rows(export(analyst_client, game, "players", "?banned=yes"))
    assert [row[0] for row in banned[1:]] == [str(player.pk)]
    assert banned[1][4] == "permanent"


def test_purchases_and_ledger_exports(analyst_client, owner, game, player, gold):
    offer = Offer.objects.create(
        game=game, name="Gems", price_currency="USD", price_amount=499, contents=[]
    )
    Purchase.objects.create(
        game=game, player=player, offer=offer, real_money=True, price_currency="USD",
        price_amount=499, status=Purchase.Status.COMPLETED,
    )  # fmt: skip
    operator_adjust(
        actor=owner, player=player, change=Change("currency", "gold", 25), note="outage",
        idempotency_key="k1",
    )  # fmt: skip
    purchases = rows(export(analyst_client, game, "purchases"))
    assert purchases[1][4] == "Gems" and purchases[1][6] == "completed"
    ledger = rows(export(analyst_client, game, "ledger"))
    assert ledger[1][3:6] == ["currency", "gold", "25"]
    assert ledger[1][9] == owner.username


def test_audit_export_is_for_owners_with_readable_changes(
    owner_client, analyst_client, operator_client, game, player
):
    ban_player(player=player, reason="cheat", until=None, actor=None)
    audit = rows(export(owner_client, game, "audit"))
    assert audit[1][3] == "player.ban"
    assert "Banned until: — → permanent" in audit[1][7]
    assert export(analyst_client, game, "audit").status_code == 403
    assert export(operator_client, game, "audit").status_code == 403


def test_exports_are_scoped_to_the_game(operator_client, other_game, game):
    assert export(operator_client, other_game, "players").status_code == 404
    assert export(operator_client, game, "secrets").status_code == 404


def test_player_page_and_admin_show_the_audit_as_named_changes(owner_client, game, player):
    ban_player(player=player, reason="cheat", until=None, actor=None)
    page = owner_client.get(f"/panel/games/{game.pk}/players/{player.pk}/").content.decode()
    assert "Banned until</strong>: — → permanent" in page
    assert "&#x27;banned_until&#x27;" not in page
    logged = AuditLogEntry.objects.get(action="player.ban")
    admin_page = owner_client.get(f"/admin/audit/auditlogentry/{logged.pk}/change/")
    assert admin_page.status_code == 200
    body = admin_page.content.decode()
    assert "<th>Banned until</th><td>—</td><td>permanent</td>" in body


@pytest.mark.parametrize("table", ["players", "purchases", "ledger"])
def test_every_download_is_audited_with_its_table_and_filters(analyst_client, analyst, game, table):
    rows(export(analyst_client, game, table, "?banned=yes"))

    (entry,) = AuditLogEntry.objects.filter(action="records.export")
    assert entry.game == game
    assert entry.actor == analyst
    assert (entry.target_type, entry.target_id) == ("accounts.game", str(game.pk))
    assert entry.after == {"table": table, "filters": "banned=yes"}


def test_refused_downloads_are_not_audited(analyst_client, game, other_game):
    assert export(analyst_client, game, "players", "?banned=maybe").status_code == 400
    assert export(analyst_client, game, "audit").status_code == 403
    assert export(analyst_client, other_game, "players").status_code == 404
    assert not AuditLogEntry.objects.filter(action="records.export").exists()
