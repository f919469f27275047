"""The purchases' admin list reads one page of a big table: no date drill-down, no distinct
providers, no total beside the filtered count, and a search by ids compared as numbers."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.shop.models import Purchase
from tests.accounts.admin_lists import listed, signed_in_operator
from tests.shop.helpers import make_economy, make_offer

URL = "/admin/shop/purchase/"


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def purchases(game, player):
    make_economy(game)
    offer = make_offer(game)
    someone = Player.objects.create(game=game, display_name="someone")

    def purchase(buyer: Player, provider: str, key: str) -> Purchase:
        return Purchase.objects.create(
            game=game,
            player=buyer,
            offer=offer,
            price_currency="gold",
            price_amount=100,
            provider=provider,
            idempotency_key=key,
        )

    return [
        purchase(player, "", "k1"),
        purchase(player, "stripe", "k2"),
        purchase(someone, "apple", "k3"),
        purchase(someone, "legacy", "k4"),
    ]


def purchase_queries(client, url: str) -> tuple[list[str], list[Purchase]]:
    return listed(client, url, "shop_purchase")


def test_the_list_reads_no_dates_no_distinct_providers_and_one_count(operator_client, purchases):
    queries, shown = purchase_queries(operator_client, URL)

    assert len(shown) == len(purchases)
    # The providers' distinct values, the date drill-down's distinct days and its first and last.
    assert [sql for sql in queries if "DISTINCT" in sql.upper() or "MIN(" in sql] == []
    assert len([sql for sql in queries if "COUNT(" in sql]) == 1  # no second, full count


def test_a_number_searches_the_purchase_and_player_ids_as_numbers(
    operator_client, purchases, player
):
    queries, shown = purchase_queries(operator_client, f"{URL}?q={purchases[2].pk}")
    _, by_player = purchase_queries(operator_client, f"{URL}?q={player.pk}")

    assert purchases[2] in shown
    assert {purchases[0], purchases[1]} <= set(by_player)
    searched = [sql for sql in queries if "COUNT(" in sql or "LIMIT" in sql]
    assert searched
    for sql in searched:
        assert f'"shop_purchase"."id" = {purchases[2].pk}' in sql
        assert f'"shop_purchase"."player_id" = {purchases[2].pk}' in sql
        assert "UPPER(" not in sql and "LIKE" not in sql


def test_the_provider_filter_offers_the_providers_and_any_value_still_filters(
    operator_client, purchases
):
    response = operator_client.get(URL)
    [providers] = [spec for spec in response.context["cl"].filter_specs if spec.title == "provider"]
    offered = [choice["display"] for choice in providers.choices(response.context["cl"])][1:]
    assert offered == ["Stripe", "Sandbox (test payments)", "Apple App Store", "Google Play"]

    _, stripe = purchase_queries(operator_client, f"{URL}?provider__exact=stripe")
    _, legacy = purchase_queries(operator_client, f"{URL}?provider__exact=legacy")

    assert stripe == [purchases[1]]
    assert legacy == [purchases[3]]
