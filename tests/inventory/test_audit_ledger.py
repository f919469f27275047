import pytest
from django.core.management import CommandError, call_command

from apps.inventory.models import Wallet
from apps.inventory.services import Change, apply_changes
from tests.shop.helpers import make_economy


@pytest.fixture
def holdings(player, game):
    make_economy(game)
    apply_changes(
        player=player,
        changes=[Change("currency", "gold", 50), Change("item", "potion", 2)],
        reason="t",
        idempotency_key="a",
    )
    apply_changes(
        player=player, changes=[Change("currency", "gold", -20)], reason="t", idempotency_key="b"
    )


def test_audit_passes_when_balances_match_the_ledger(holdings, capsys):
    call_command("audit_ledger")

    assert "OK: 2 balances agree" in capsys.readouterr().out


def test_audit_reports_a_tampered_balance_and_exits_1(holdings, player, capsys):
    Wallet.objects.filter(player=player).update(balance=31)  # bypasses the ledger on purpose

    with pytest.raises(CommandError) as failure:
        call_command("audit_ledger")

    assert failure.value.returncode == 1
    out = capsys.readouterr().out
    assert f"MISMATCH player={player.pk} currency=gold stored=31 ledger_sum=30" in out


def test_audit_can_be_limited_to_one_game(holdings, other_game, capsys):
    call_command("audit_ledger", "--game", other_game.slug)

    assert "OK: 0 balances" in capsys.readouterr().out
