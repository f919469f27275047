"""The player list: server-side paging, filters, sort and case-insensitive search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL, PlatformIdentity, Player
from apps.shop.models import Offer, Purchase
from apps.stats.models import PlayerProgress


def url(game) -> str:
    return f"/panel/games/{game.pk}/players/"


def ids(response) -> list[int]:
    assert response.status_code == 200
    return [p.pk for p in response.context["players"]]


@pytest.fixture
def offer(game):
    return Offer.objects.create(
        game=game, name="Gems", price_currency="USD", price_amount=499, contents=[]
    )


def paid(player, offer, amount: int, currency: str = "USD", status=Purchase.Status.COMPLETED):
    return Purchase.objects.create(
        game=player.game, player=player, offer=offer, real_money=True, status=status,
        price_currency=currency, price_amount=amount,
    )  # fmt: skip


def test_pages_through_every_player_and_says_how_many(operator_client, game):
    Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(120)])
    first = operator_client.get(url(game))
    assert len(ids(first)) == 50
    assert "of 120" in first.content.decode()
    seen = set(ids(first))
    for page in (2, 3):
        seen |= set(ids(operator_client.get(url(game) + f"?page={page}")))
    assert len(seen) == 120
    assert len(ids(operator_client.get(url(game) + "?page=3"))) == 20


def test_search_is_case_insensitive_for_names_and_platform_ids(operator_client, game, player):
    PlatformIdentity.objects.create(
        game=game, player=player, platform="epic", platform_user_id="AbCdEf0123"
    )
    Player.objects.create(game=game, display_name="someone else")
    assert ids(operator_client.get(url(game) + "?q=abcdef0123")) == [player.pk]
    assert ids(operator_client.get(url(game) + "?q=ALICE")) == [player.pk]


def test_filters_by_platform_banned_and_dates(operator_client, game, player):
    now = timezone.now()
    steam = Player.objects.create(game=game, display_name="steamer", last_login_at=now)
    PlatformIdentity.objects.create(game=game, player=steam, platform="steam", platform_user_id="7")
    banned = Player.objects.create(
        game=game, display_name="cheat", banned_until=PERMANENT_BAN_UNTIL
    )
    old = Player.objects.create(game=game, display_name="veteran")
    Player.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=40))

    assert ids(operator_client.get(url(game) + "?platform=steam")) == [steam.pk]
    assert ids(operator_client.get(url(game) + "?banned=yes")) == [banned.pk]
    assert old.pk not in ids(operator_client.get(url(game) + f"?created_after={now.date()}"))
    before = (now - timedelta(days=30)).date()
    assert ids(operator_client.get(url(game) + f"?created_before={before}")) == [old.pk]
    assert ids(operator_client.get(url(game) + f"?seen_after={now.date()}")) == [steam.pk]
    listed = operator_client.get(url(game) + "?banned=yes").content.decode()
    assert "permanent" in listed and "9999" not in listed


def test_filters_and_sorts_by_level_and_spend(operator_client, game, player, offer):
    rich = Player.objects.create(game=game, display_name="whale")
    paid(rich, offer, 10_000)
    paid(player, offer, 499)
    paid(player, offer, 99_999, status=Purchase.Status.REFUNDED)  # refunded: not spend
    PlayerProgress.objects.create(player=player, xp=50_000)
    PlayerProgress.objects.create(player=rich, xp=10)

    spenders = operator_client.get(url(game) + "?spend_currency=usd&min_spend=5&sort=spend")
    assert ids(spenders) == [rich.pk]
    by_spend = operator_client.get(url(game) + "?spend_currency=USD&sort=spend")
    assert ids(by_spend)[:2] == [rich.pk, player.pk]
    assert ids(operator_client.get(url(game) + "?min_level=5")) == [player.pk]
    assert ids(operator_client.get(url(game) + "?max_level=1")) == [rich.pk]
    assert ids(operator_client.get(url(game) + "?sort=level"))[:2] == [player.pk, rich.pk]


def test_a_spend_sort_without_a_currency_says_so_and_lists_the_newest_first(
    operator_client, game, player, offer
):
    paid(player, offer, 10_000)
    newer = Player.objects.create(game=game, display_name="newer")

    response = operator_client.get(url(game) + "?sort=spend")

    body = response.content.decode()
    assert "Spend is counted per currency: say which one." in body
    assert "<details open>" in body  # the sort's error is in the filters' fold: shown
    assert ids(response) == [newer.pk, player.pk]  # newest first, as before
    assert "Correct the filters to export" in body
    export = operator_client.get(f"/panel/games/{game.pk}/records/players.csv?sort=spend")
    assert export.status_code == 400 and "sort" in export.content.decode()


def test_an_invalid_filter_is_said_and_filters_nothing_while_the_others_apply(
    operator_client, game, player
):
    banned = Player.objects.create(
        game=game, display_name="cheat", banned_until=PERMANENT_BAN_UNTIL
    )

    response = operator_client.get(url(game) + "?banned=yes&min_level=0&min_spend=5")

    body = response.content.decode()
    assert "Say which currency" in body and "greater than or equal to 1" in body
    assert ids(response) == [banned.pk]  # banned=yes still applies
    assert "Correct the filters to export" in body
    too_long = operator_client.get(url(game) + "?q=" + "x" * 201).content.decode()
    assert "at most 200 characters" in too_long


def test_the_export_of_a_list_with_an_invalid_filter_is_refused(operator_client, game, player):
    Player.objects.create(game=game, display_name="cheat", banned_until=PERMANENT_BAN_UNTIL)
    export = f"/panel/games/{game.pk}/records/players.csv"

    refused = operator_client.get(export + "?banned=yes&min_level=0")
    exported = operator_client.get(export + "?banned=yes")

    assert refused.status_code == 400
    assert "min_level" in refused.content.decode()
    rows = b"".join(exported.streaming_content).decode().splitlines()
    assert exported.status_code == 200 and len(rows) == 2  # the header and the banned player


def test_other_games_players_never_listed(operator_client, game, other_game, other_player):
    assert other_player.pk not in ids(operator_client.get(url(game) + f"?q={other_player.pk}"))
    assert operator_client.get(url(other_game)).status_code == 404
