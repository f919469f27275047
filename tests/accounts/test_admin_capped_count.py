"""The admin lists of big tables count at most 100 pages' worth of rows (a LIMIT'ed count, not
a scan of the table on each unfiltered page): past that the total reads "10000+", the page
links stop at the last counted page, and "Show all" stays within list_max_show_all. Shown
here on the player list with 2 rows a page and 2 pages counted."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

from apps.accounts.admin_scoping import AtLeast, CappedCountPaginator
from apps.accounts.models import Player
from tests.accounts.admin_lists import COUNT_LIMIT, listed, signed_in_operator

URL = "/admin/accounts/player/"

# Every list of a table that grows with players or their activity.
BIG_LISTS = [
    "/admin/accounts/player/",
    "/admin/accounts/authsession/",
    "/admin/accounts/platformidentity/",
    "/admin/audit/auditlogentry/",
    "/admin/inventory/wallet/",
    "/admin/inventory/playeritem/",
    "/admin/inventory/ledgerentry/",
    "/admin/payments/payment/",
    "/admin/payments/providerevent/",
    "/admin/shop/purchase/",
    "/admin/leaderboards/entry/",
    "/admin/leaderboards/payout/",
    "/admin/stats/playerstat/",
    "/admin/stats/playerprogress/",
    "/admin/events/eventrewardclaim/",
    "/admin/battlepass/seasonpass/",
    "/admin/battlepass/tierclaim/",
    "/admin/cloudsave/document/",
    "/admin/multiplayer/match/",
]


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def small_pages(monkeypatch):
    """The player list at 2 rows a page, 2 pages counted, "Show all" up to 3 rows."""
    model_admin = admin.site.get_model_admin(Player)
    monkeypatch.setattr(model_admin, "list_per_page", 2)
    monkeypatch.setattr(model_admin, "list_max_show_all", 3)
    monkeypatch.setattr(CappedCountPaginator, "max_pages", 2)


@pytest.fixture
def players(game, player):
    """Six players in all (the fixture's first), newest last."""
    return [player] + [Player.objects.create(game=game, display_name=f"p{n}") for n in range(5)]


@pytest.mark.parametrize("url", BIG_LISTS)
def test_a_big_list_counts_through_a_limit(admin_client, game, url):
    queries, _ = listed(admin_client, url, "")

    [count] = [sql for sql in queries if "COUNT(" in sql]
    assert f"LIMIT {COUNT_LIMIT}" in count
    assert "ORDER BY" not in count  # the database stops at the cap, whatever the list's sort


def test_every_list_without_a_grand_total_counts_capped_and_above_show_all():
    capped = [
        admin.site.get_model_admin(model)
        for model in apps.get_models()
        if admin.site.is_registered(model)
        and not admin.site.get_model_admin(model).show_full_result_count
    ]

    assert {model_admin.model._meta.label_lower for model_admin in capped} >= {
        url.split("/")[2] + "." + url.split("/")[3] for url in BIG_LISTS
    }
    for model_admin in capped:
        assert model_admin.paginator is CappedCountPaginator, model_admin
        cap = model_admin.list_per_page * CappedCountPaginator.max_pages
        assert cap > model_admin.list_max_show_all, model_admin  # "Show all" never lists past it


def test_past_the_cap_the_total_reads_plus_and_the_pages_stop_at_the_cap(
    operator_client, small_pages, players
):
    response = operator_client.get(URL)
    cl = response.context["cl"]
    page = response.content.decode()

    assert cl.result_count == 4 and isinstance(cl.result_count, AtLeast)
    assert cl.paginator.num_pages == 2
    assert [player.pk for player in cl.result_list] == [players[5].pk, players[4].pk]
    assert "4+ players" in page
    assert "Select all 4+ players" in page  # the actions' "select across" (every row)
    assert 'href="?p=2"' in page and "?p=3" not in page
    assert 'class="showall"' not in page  # 4+ rows is more than "Show all" lists

    second = operator_client.get(URL + "?p=2")
    assert [player.pk for player in second.context["cl"].result_list] == [
        players[3].pk,
        players[2].pk,
    ]

    # Past the last counted page: Django's redirect for a page that does not exist.
    beyond = operator_client.get(URL + "?p=3")
    assert beyond.status_code == 302 and beyond["Location"] == URL + "?e=1"

    # "Show all" asked for by hand lists one page, not every row.
    assert len(operator_client.get(URL + "?all=").context["cl"].result_list) == 2


def test_within_the_cap_the_count_is_exact_and_show_all_lists_them(
    operator_client, small_pages, game, player
):
    others = [Player.objects.create(game=game, display_name=f"p{n}") for n in range(2)]

    response = operator_client.get(URL)
    cl = response.context["cl"]

    assert cl.result_count == 3 and not isinstance(cl.result_count, AtLeast)
    assert "3 players" in response.content.decode()
    assert 'class="showall"' in response.content.decode()
    shown = operator_client.get(URL + "?all=").context["cl"].result_list
    assert {p.pk for p in shown} == {player.pk, *(other.pk for other in others)}


def test_a_search_or_filter_reaches_rows_past_the_cap(operator_client, small_pages, players):
    response = operator_client.get(URL + f"?q={players[0].pk}")

    assert list(response.context["cl"].result_list) == [players[0]]
    assert "1 result" in response.content.decode()


def test_a_players_history_pages_through_the_same_paginator(admin_client, player):
    assert admin_client.get(f"{URL}{player.pk}/history/").status_code == 200


def test_a_list_of_rows_not_a_queryset_is_capped_too():
    paginator = CappedCountPaginator(list(range(25)), 10)
    paginator.max_pages = 2

    assert paginator.count == 20 and str(paginator.count) == "20+"
    assert paginator.num_pages == 2
    assert list(paginator.page(2)) == list(range(10, 20))
