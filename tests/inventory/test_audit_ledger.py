import pytest
from django.core.management import CommandError, call_command

from apps.inventory.models import LedgerEntry, PlayerItem, Wallet
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


def test_an_unknown_game_exits_2_saying_nothing_was_audited(holdings, player, capsys):
    """A mistyped slug is told apart from a ledger that does not balance (exit 1), even when
    the ledger does not balance."""
    Wallet.objects.filter(player=player).update(balance=31)

    with pytest.raises(CommandError) as failure:
        call_command("audit_ledger", "--game", "no-such-game")

    assert failure.value.returncode == 2
    assert str(failure.value) == "No game with slug 'no-such-game': nothing was audited."
    assert "MISMATCH" not in capsys.readouterr().out


def test_audit_reports_a_deleted_wallet_whose_ledger_is_not_zero(holdings, player, capsys):
    Wallet.objects.filter(player=player).delete()  # the ledger still sums to 30 gold

    with pytest.raises(CommandError) as failure:
        call_command("audit_ledger")

    assert failure.value.returncode == 1
    out = capsys.readouterr().out
    assert (
        f"MISMATCH player={player.pk} currency=gold stored=0 ledger_sum=30 last_balance_after=30"
        in out
    )
    assert "1 of 2 balances disagree" in str(failure.value)


def test_audit_reports_a_holding_never_made(holdings, player, capsys):
    PlayerItem.objects.filter(player=player).delete()

    with pytest.raises(CommandError):
        call_command("audit_ledger")

    out = capsys.readouterr().out
    assert f"MISMATCH player={player.pk} item=potion stored=0 ledger_sum=2" in out


def test_audit_reports_a_missing_row_by_its_last_balance_after(holdings, player, capsys):
    """A row-less group whose deltas sum to 0 but whose last entry says a balance was left."""
    gold = Wallet.objects.get(player=player).currency
    entry = LedgerEntry.objects.filter(player=player, currency=gold).earliest("id")
    LedgerEntry.objects.create(
        game_id=entry.game_id,
        player=player,
        currency=gold,
        delta=-30,
        balance_after=5,
        reason="t",
        idempotency_key="c",
    )
    Wallet.objects.filter(player=player).delete()

    with pytest.raises(CommandError):
        call_command("audit_ledger")

    out = capsys.readouterr().out
    assert "currency=gold stored=0 ledger_sum=0 last_balance_after=5" in out


def test_audit_passes_a_missing_row_whose_ledger_nets_to_zero(holdings, player, capsys):
    """No row and nothing to hold: the same as a row at 0 (the potions were all used)."""
    apply_changes(
        player=player, changes=[Change("item", "potion", -2)], reason="t", idempotency_key="c"
    )
    PlayerItem.objects.filter(player=player).delete()

    call_command("audit_ledger")

    assert "OK: 1 balances agree" in capsys.readouterr().out


def test_audit_of_one_game_reports_only_its_missing_rows(holdings, player, other_game, capsys):
    Wallet.objects.filter(player=player).delete()

    call_command("audit_ledger", "--game", other_game.slug)

    assert "OK: 0 balances" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("audit_ledger", "--game", player.game.slug)


def test_audit_finds_missing_rows_in_one_grouped_query_each(
    holdings, player, django_assert_max_num_queries
):
    for n in range(5):
        apply_changes(
            player=player,
            changes=[Change("currency", "gold", 1), Change("item", "potion", 1)],
            reason="t",
            idempotency_key=f"more-{n}",
        )
    Wallet.objects.filter(player=player).delete()
    PlayerItem.objects.filter(player=player).delete()

    # Per kind: the rows counted, the rows that disagree, the ledger's groups without a row.
    with django_assert_max_num_queries(6), pytest.raises(CommandError):
        call_command("audit_ledger")
