"""The ledger's admin list reads one page of a big table: no query over every entry (a date
drill-down, the reasons' distinct values, a total beside the filtered count), and its search
compares indexed columns as stored."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from apps.accounts.models import Player
from apps.inventory.models import Currency, LedgerEntry
from tests.accounts.admin_lists import listed, signed_in_operator

URL = "/admin/inventory/ledgerentry/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def entries(game, player):
    """Two players' entries, one of them an operator grant whose reference is its note."""
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    someone = Player.objects.create(game=game, display_name="someone")

    def entry(owner: Player, reason: str, reference: str) -> LedgerEntry:
        return LedgerEntry.objects.create(
            game=game,
            player=owner,
            currency=gold,
            delta=5,
            balance_after=5,
            reason=reason,
            reference=reference,
            idempotency_key=f"{reference}:currency:gold",
        )

    return [
        entry(player, "purchase", "purchase:42"),
        entry(player, "match_reward", "match:7"),
        entry(someone, "purchase", "purchase:421"),
        entry(someone, "operator_grant", "Purchase:42"),
    ]


def ledger_queries(client, url: str) -> tuple[list[str], list[LedgerEntry]]:
    return listed(client, url, "inventory_ledgerentry")


def test_the_list_reads_no_dates_no_distinct_reasons_and_one_count(operator_client, entries):
    queries, shown = ledger_queries(operator_client, URL)

    assert len(shown) == len(entries)
    # The reasons' distinct values, the date drill-down's distinct days and its first and last.
    assert [sql for sql in queries if "DISTINCT" in sql.upper() or "MIN(" in sql] == []
    assert len([sql for sql in queries if "COUNT(" in sql]) == 1  # no second, full count


def test_the_one_player_page_the_grant_form_opens_reads_only_that_players_entries(
    operator_client, entries, player
):
    queries, shown = ledger_queries(operator_client, f"{URL}?player__id__exact={player.pk}")

    assert {entry.player_id for entry in shown} == {player.pk}
    assert len(shown) == 2
    assert queries  # the count and the page
    assert [sql for sql in queries if f'"player_id" = {player.pk}' not in sql] == []


def test_a_number_searches_the_player_column_as_a_number(operator_client, entries, player):
    queries, shown = ledger_queries(operator_client, f"{URL}?q={player.pk}")

    assert {entry.player_id for entry in shown} == {player.pk}
    searched = [sql for sql in queries if "COUNT(" in sql or "LIMIT" in sql]
    assert searched
    for sql in searched:
        assert f'"inventory_ledgerentry"."player_id" = {player.pk}' in sql
        assert "UPPER(" not in sql and "LIKE" not in sql


def test_text_finds_the_whole_reference_as_written(operator_client, entries):
    queries, shown = ledger_queries(operator_client, f"{URL}?q=purchase:42")

    assert [entry.reference for entry in shown] == ["purchase:42"]  # not purchase:421, Purchase:42
    assert [sql for sql in queries if "UPPER(" in sql or "LIKE" in sql] == []


def test_a_reference_with_spaces_is_one_term(operator_client, entries, game, player):
    LedgerEntry.objects.create(
        game=game,
        player=player,
        currency=entries[0].currency,
        delta=1,
        balance_after=6,
        reason="operator_grant",
        reference="support ticket 42",
        idempotency_key="operator:abc:currency:gold",
    )

    _, shown = ledger_queries(operator_client, f"{URL}?q=support+ticket+42")

    assert [entry.reference for entry in shown] == ["support ticket 42"]


def test_the_reason_filter_offers_fixed_reasons_and_any_reason_still_filters(
    operator_client, entries
):
    response = operator_client.get(URL)
    [reasons] = [spec for spec in response.context["cl"].filter_specs if spec.title == "reason"]
    offered = [choice["display"] for choice in reasons.choices(response.context["cl"])][1:]
    assert {"purchase", "operator_grant", "starting_grant", "refund"} <= set(offered)

    _, purchases = ledger_queries(operator_client, f"{URL}?reason__exact=purchase")
    _, unlisted = ledger_queries(operator_client, f"{URL}?reason__exact=match_reward")

    assert {entry.reason for entry in purchases} == {"purchase"} and len(purchases) == 2
    assert [entry.reference for entry in unlisted] == ["match:7"]


def written_reasons() -> set[str]:
    """The constant reasons the apps pass to the ledger's services (the demo's aside)."""
    services = {"apply_changes", "change_balance", "grant_contents", "claw_back", "_apply"}
    reasons: set[str] = set()
    for path in (ROOT / "apps").rglob("*.py"):
        if "migrations" in path.parts or path.name == "demo.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            for keyword in node.keywords:
                if name in services and keyword.arg == "reason":
                    reasons |= {
                        constant.value
                        for constant in ast.walk(keyword.value)
                        if isinstance(constant, ast.Constant) and isinstance(constant.value, str)
                    }
    return reasons


def test_the_reason_filter_offers_every_reason_the_services_write():
    from apps.inventory.admin import LEDGER_REASONS

    offered = {value for value, _ in LEDGER_REASONS}

    assert "battlepass_tier" in written_reasons()  # the scan finds them
    # refund and chargeback are a refund's kind, passed on by name.
    assert written_reasons() - offered == set()
    assert {"refund", "chargeback"} <= offered
