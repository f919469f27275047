"""How the panel's reads reach the database on a large game: the player search through indexes,
filters and sorts as sets and joins rather than a subquery per player, a bounded number of
pages, exports in keyset chunks, and the leaderboard's name search by the (period, player) key.
Each test pins the query shape a reviewer measured as a full scan or a per-row subquery."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import F, FilteredRelation, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL, PlatformIdentity, Player
from apps.analytics.models import RevenueDay
from apps.audit.models import AuditLogEntry
from apps.inventory.models import Currency, LedgerEntry
from apps.leaderboards.models import Board, Entry, Period
from apps.panel.forms import PlayerFilterForm
from apps.panel.models import SegmentMember
from apps.panel.selectors import players_matching
from apps.panel.services import segment_players, submit_segment_action
from apps.shop.models import Offer, Purchase
from apps.stats.models import PlayerProgress
from apps.stats.selectors import level_curve
from tests.conftest import HAS_POSTGRES

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(not HAS_POSTGRES, reason="needs PostgreSQL's planner")

OUTER_PLAYER = '("accounts_player"."id")'  # how a subquery names the outer player (OuterRef)


def players_url(game, query: str = "") -> str:
    return f"/panel/games/{game.pk}/players/{query}"


def captured(client, url: str) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            response.content_bytes = b"".join(response.streaming_content)
    assert response.status_code == 200, response.status_code
    return response, [query["sql"] for query in queries.captured_queries]


def correlated_subqueries(sql: str, table: str) -> list[str]:
    """The subqueries over `table` in `sql` that refer to the outer player row."""
    found = []
    for match in re.finditer(f'FROM "{table}"', sql):
        depth, start = 0, match.start()
        while start > 0 and depth >= 0:  # back to the subquery's opening parenthesis
            start -= 1
            depth += {")": 1, "(": -1}.get(sql[start], 0)
        depth, end = 0, match.end()
        while end < len(sql) and depth >= 0:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        if start > 0 and OUTER_PLAYER in sql[start:end]:
            found.append(sql[start:end])
    return found


def count_query(queries: list[str]) -> str:
    (counted,) = [sql for sql in queries if "COUNT(*)" in sql and '"accounts_player"' in sql]
    return counted


def plan(sql: str, params=()) -> str:
    """PostgreSQL's plan with sequential scans priced out, so a usable index is used even on
    the few rows of a test (the test's transaction ends the setting)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content_bytes.decode())))


# 1. The player search


def test_a_search_finds_ids_platform_ids_and_names_without_a_subquery_per_player(
    operator_client, game, player, other_game
):
    PlatformIdentity.objects.create(
        game=game, player=player, platform="steam", platform_user_id="76561198000000001"
    )
    numbered = Player.objects.create(game=game, display_name=f"sniper{player.pk}")
    Player.objects.create(game=other_game, display_name=f"x{player.pk}")

    by_id, queries = captured(operator_client, players_url(game, f"?q={player.pk}"))
    by_platform_id, _ = captured(operator_client, players_url(game, "?q=76561198000000001"))

    # The id, and the name that contains it: what the docs promise, in this game only.
    assert {p.pk for p in by_id.context["players"]} == {player.pk, numbered.pk}
    assert [p.pk for p in by_platform_id.context["players"]] == [player.pk]
    assert not correlated_subqueries(count_query(queries), "accounts_platformidentity")


@postgres_only
def test_the_platform_id_search_uses_the_identities_upper_cased_index(game):
    identities = PlatformIdentity.objects.filter(
        game=game, platform_user_id__iexact="76561198000000001"
    ).values("player_id")

    found = plan(*identities.query.sql_with_params())

    assert "identity_upper_id_game" in found


@postgres_only
def test_a_name_search_reads_the_trigram_index_not_every_player(operator_client, game, other_game):
    Player.objects.bulk_create(
        Player(game=g, display_name=f"{g.pk}x{n * 7919 % 100_003:05x}z{n:04d}")
        for g in (game, other_game)
        for n in range(5_000)
    )
    sniper = Player.objects.create(game=game, display_name="xXSniperWolfXx")
    PlatformIdentity.objects.create(
        game=game, player=sniper, platform="steam", platform_user_id="76561198000000001"
    )
    with connection.cursor() as cursor:
        # As autovacuum leaves them: the index's pending list of new rows merged, statistics.
        cursor.execute("SELECT gin_clean_pending_list('player_name_trgm')")
        cursor.execute("ANALYZE accounts_player")

    for query, expected, also in (
        ("perwol", [sniper.pk], ""),  # a part of a name, in another case
        ("76561198000000001", [sniper.pk], "accounts_player_pkey"),  # a platform id: its player
        (str(sniper.pk), [sniper.pk], "accounts_player_pkey"),  # an id (and names holding it)
    ):
        response, queries = captured(operator_client, players_url(game, f"?q={query}"))

        assert [p.pk for p in response.context["players"]] == expected, query
        counted = count_query(queries)
        used = plan(counted, None)  # as sent: its LIKE pattern holds "%"
        assert "player_name_trgm" in used and also in used, used
        assert "accounts_platformidentity" not in counted  # its few ids, found first


# 2. The currencies the spend filter offers


def test_the_player_list_reads_no_purchases_for_its_currencies(operator_client, game, player):
    offer = Offer.objects.create(
        game=game, name="Gems", real_money=True, price_currency="USD", price_amount=499
    )
    Offer.objects.create(game=game, name="Sword", price_currency="gold", price_amount=10)
    Purchase.objects.create(
        game=game, player=player, offer=offer, real_money=True, price_currency="GBP",
        price_amount=399, status=Purchase.Status.COMPLETED,
    )  # fmt: skip
    # Paid in GBP when the offer was priced so, since changed to USD: the revenue aggregates
    # remember it.
    RevenueDay.objects.create(game=game, day=date(2026, 1, 5), currency="GBP", real_money=True)
    RevenueDay.objects.create(game=game, day=date(2026, 1, 5), currency="gold", real_money=False)

    response, queries = captured(operator_client, players_url(game))

    assert response.context["spend_currencies"] == ["GBP", "USD"]
    assert not [sql for sql in queries if '"shop_purchase"' in sql]


# 3. The leaderboard's name search


@pytest.fixture
def period(game) -> Period:
    board = Board.objects.create(game=game, slug="weekly", name="Weekly")
    return Period.objects.create(board=board, number=1, starts_at=timezone.now())


def enter(period: Period, player: Player, score: int) -> Entry:
    return Entry.objects.create(
        period=period, player=player, score=score, rank_key=-score, reached_at=timezone.now()
    )


def test_the_leaderboard_finds_a_name_through_the_games_players(analyst_client, game, period):
    first, second = (Player.objects.create(game=game, display_name="zed") for _ in range(2))
    enter(period, Player.objects.create(game=game, display_name="amy"), 30)
    enter(period, second, 20)
    enter(period, first, 10)
    url = f"/panel/games/{game.pk}/leaderboards/{period.board_id}/?player=ZED"

    response, queries = captured(analyst_client, url)

    assert response.context["found"].player_id == second.pk  # the first entry made, as before
    (lookup,) = [
        sql for sql in queries if sql.startswith('SELECT "leaderboards_entry"."player_id"')
    ]
    assert 'INNER JOIN "accounts_player"' not in lookup  # not walking the period's entries
    assert f'"game_id" = {game.pk}' in lookup
    if HAS_POSTGRES:
        used = plan(lookup)
        assert "player_upper_name_game" in used and "one_entry_per_period" in used


# 4. Spend and level: filters, sorts, pages


@pytest.fixture
def spenders(game, player):
    offer = Offer.objects.create(
        game=game, name="Gems", real_money=True, price_currency="USD", price_amount=499
    )
    steps = level_curve(game_id=game.pk).thresholds()
    whale = Player.objects.create(game=game, display_name="whale")
    minnow = Player.objects.create(game=game, display_name="minnow")
    for buyer, amount, status in (
        (whale, 10_000, Purchase.Status.COMPLETED),
        (minnow, 499, Purchase.Status.COMPLETED),
        (minnow, 99_999, Purchase.Status.REFUNDED),  # refunded: not spend
    ):
        Purchase.objects.create(
            game=game, player=buyer, offer=offer, real_money=True, price_currency="USD",
            price_amount=amount, status=status,
        )  # fmt: skip
    PlayerProgress.objects.create(player=whale, xp=steps[4])  # level 5
    PlayerProgress.objects.create(player=minnow, xp=steps[1])  # level 2
    return player, minnow, whale  # alice has no progress (level 1) and spent nothing


def test_spend_and_level_filters_are_sets_not_a_subquery_per_player(
    operator_client, game, spenders
):
    alice, minnow, whale = spenders
    cases = {
        "?spend_currency=USD&min_spend=5": [whale.pk],
        "?spend_currency=USD&min_spend=0": [minnow.pk, whale.pk, alice.pk],  # newest first
        "?min_level=2": [minnow.pk, whale.pk],
        "?max_level=1": [alice.pk],
        "?min_level=2&max_level=4&spend_currency=usd&min_spend=4.99": [minnow.pk],
    }
    for query, expected in cases.items():
        response, queries = captured(operator_client, players_url(game, query))
        assert [p.pk for p in response.context["players"]] == expected, query
        assert OUTER_PLAYER not in count_query(queries), query


def spend_queries(queries: list[str]) -> tuple[list[str], list[str]]:
    """A spend page's reads: its totals (the purchases grouped by player), and its players."""
    totals = [sql for sql in queries if re.match(r'SELECT "shop_purchase"."player_id"', sql)]
    players = [sql for sql in queries if 'FROM "accounts_player"' in sql and "COUNT(*)" not in sql]
    return totals, players


def test_a_spend_sorts_page_sums_the_purchases_by_player_then_reads_its_players(
    operator_client, game, spenders
):
    alice, minnow, whale = spenders
    free = Player.objects.create(game=game, display_name="free")  # a free purchase: spent 0
    Purchase.objects.create(
        game=game, player=free, offer=Offer.objects.get(game=game), real_money=True,
        price_currency="USD", price_amount=0, status=Purchase.Status.COMPLETED,
    )  # fmt: skip

    response, queries = captured(
        operator_client, players_url(game, "?spend_currency=USD&sort=spend")
    )

    listed = [(p.pk, p.spend_total) for p in response.context["players"]]
    assert listed == [(whale.pk, 10_000), (minnow.pk, 499), (free.pk, 0), (alice.pk, 0)]
    (totals,), players = spend_queries(queries)
    # The purchases alone, grouped by player and cut to the page (its 4 rows): not every player
    # of the game joined to them.
    assert '"accounts_player"' not in totals and re.search(r"GROUP BY .* LIMIT 4$", totals)
    assert not [sql for sql in queries if 'JOIN "shop_purchase"' in sql]
    by_id, nothing = players
    assert '"accounts_player"."id" IN (' in by_id  # the page's spenders, by their ids
    assert "NOT (EXISTS(" in nothing and nothing.endswith("LIMIT 2")  # an anti-join
    if HAS_POSTGRES:  # each along an index, as far as the page goes
        used = plan(totals)
        assert "purchase_spend" in used and "accounts_player" not in used, used
        assert "Sort" not in plan(nothing) and "purchase_spend" in plan(nothing)


@pytest.fixture
def spend_mix(game, other_game):
    """Players (newest last) with ties, refunds, purchases never paid or not in real money,
    several currencies, a free purchase, and none at all."""
    offer = Offer.objects.create(
        game=game, name="Gems", real_money=True, price_currency="USD", price_amount=499
    )
    players = Player.objects.bulk_create(Player(game=game, display_name=f"p{n}") for n in range(14))
    done, refunded = Purchase.Status.COMPLETED, Purchase.Status.REFUNDED
    bought = [
        (0, "USD", 500, done),
        (0, "USD", 500, done),  # 1000
        (1, "USD", 1000, done),  # 1000: a tie, the newer first
        (2, "USD", 300, done),
        (2, "USD", 99_999, refunded),  # 300: the refund does not count
        (3, "EUR", 50_000, done),  # no USD
        (4, "USD", 7_000, Purchase.Status.PENDING),
        (4, "USD", 8_000, Purchase.Status.FAILED),
        (4, "USD", 9_000, Purchase.Status.EXPIRED),  # never paid
        (6, "USD", 0, done),  # free: spent 0, as a player without purchases
        (7, "USD", 300, done),  # 300: a tie
        (8, "USD", 1000, done),
        (8, "EUR", 20, done),  # 1000: a three-way tie
        (9, "EUR", 999, done),
        (9, "USD", 1, done),
        (11, "GBP", 700, done),
        (11, "EUR", 700, refunded),
    ]
    Purchase.objects.bulk_create(
        Purchase(
            game=game,
            player=players[n],
            offer=offer,
            real_money=True,
            price_currency=currency,
            price_amount=amount,
            status=status,
        )  # fmt: skip
        for n, currency, amount, status in bought
    )
    Purchase.objects.create(  # a virtual purchase priced in a code like a real one
        game=game, player=players[5], offer=offer, real_money=False, price_currency="USD",
        price_amount=40_000, status=done,
    )  # fmt: skip
    stranger = Player.objects.create(game=other_game, display_name="p99")
    Purchase.objects.create(
        game=other_game, player=stranger, offer=offer, real_money=True, price_currency="USD",
        price_amount=10**6, status=done,
    )  # fmt: skip
    Player.objects.filter(pk=players[1].pk).update(banned_until=PERMANENT_BAN_UNTIL)
    return players


def old_spend_order(game, query: str) -> list[tuple[int, int]]:
    """The players and totals of the spend sort before its pages: every player matched, joined
    to their completed real-money purchases in the currency and grouped (as the export still
    reads them)."""
    form = PlayerFilterForm(QueryDict(query))
    filters = form.filters()
    players = players_matching(game=game, filters=filters, sort="id")
    old = players.annotate(
        paid=FilteredRelation(
            "purchases",
            condition=Q(
                purchases__status="completed",
                purchases__real_money=True,
                purchases__price_currency=filters.spend_currency,
            ),
        ),
        spend_total=Sum("paid__price_amount", default=0),
    ).order_by("-spend_total", "-id")
    expected = list(old.values_list("pk", "spend_total"))
    export = players_matching(game=game, filters=filters, sort="spend")
    assert list(export.values_list("pk", "spend_total")) == expected  # the export's order
    return expected


@pytest.mark.parametrize(
    "query",
    [
        "spend_currency=USD",
        "spend_currency=eur",
        "spend_currency=GBP",
        "spend_currency=JPY",  # nobody spent any: newest first
        "spend_currency=USD&min_spend=3",  # 300 minor units and more
        "spend_currency=USD&min_spend=0",
        "spend_currency=USD&q=p1",  # p1, p10…p13: the totals of these players only
        "spend_currency=USD&banned=no",
        "spend_currency=USD&min_level=2",  # nobody: no progress
    ],
)
@pytest.mark.parametrize("page_size", [1, 2, 3, 5, 50])
def test_a_spend_sorts_pages_are_the_order_the_one_join_sorted(
    operator_client, game, spend_mix, monkeypatch, query, page_size
):
    monkeypatch.setattr("apps.panel.views.players.PAGE_SIZE", page_size)
    expected = old_spend_order(game, query)

    listed, number = [], 1
    while True:
        response = operator_client.get(players_url(game, f"?{query}&sort=spend&page={number}"))
        if response.context["page"].number != number:  # past the last page: the last again
            break
        listed += [(p.pk, p.spend_total) for p in response.context["players"]]
        number += 1

    assert listed == expected
    assert response.context["page"].paginator.count == len(expected)


@pytest.mark.parametrize("page", [1, 2, 3])
def test_a_spend_sorts_page_takes_a_few_queries(
    operator_client, game, page, django_assert_max_num_queries
):
    offer = Offer.objects.create(
        game=game, name="Gems", real_money=True, price_currency="USD", price_amount=499
    )
    players = Player.objects.bulk_create(
        Player(game=game, display_name=f"p{n}") for n in range(120)
    )
    Purchase.objects.bulk_create(  # 70 spenders: page 2 holds the last 20 and 30 others
        Purchase(
            game=game,
            player=p,
            offer=offer,
            real_money=True,
            price_currency="USD",
            price_amount=p.pk % 9 + 1,
            status=Purchase.Status.COMPLETED,
        )  # fmt: skip
        for p in players[:70]
    )
    operator_client.get(players_url(game))  # the session's own reads, once

    # The page's frame (as for the other sorts: 13) and at most 4 reads: the count, the
    # totals, then the page's spenders by id and the others, or (a page of no spender) how
    # many spent and the others.
    with django_assert_max_num_queries(13 + 4) as queries:
        response = operator_client.get(
            players_url(game, f"?spend_currency=USD&sort=spend&page={page}")
        )

    assert len(response.context["players"]) == (50 if page < 3 else 20)
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r'FROM "(accounts_player|shop_purchase)"', q["sql"])
    ]
    assert 3 <= len(reads) <= 4 and all(re.search(r"LIMIT \d+|IN \(", sql) for sql in reads)


def test_a_level_sort_reads_the_players_with_xp_by_the_progress_then_the_others(
    operator_client, game, spenders
):
    alice, minnow, whale = spenders
    zero = Player.objects.create(game=game)
    PlayerProgress.objects.create(player=zero, xp=0)

    response, queries = captured(operator_client, players_url(game, "?sort=level"))

    # 0 XP as no progress: the newest first.
    assert [p.pk for p in response.context["players"]] == [whale.pk, minnow.pk, zero.pk, alice.pk]
    (with_xp,) = [sql for sql in queries if 'ORDER BY "stats_playerprogress"."xp" DESC' in sql]
    assert "INNER JOIN" in with_xp and "SELECT" not in with_xp.split("ORDER BY")[1]
    assert not correlated_subqueries(with_xp, "stats_playerprogress")  # XP from the join
    (others,) = [sql for sql in queries if 'ORDER BY "accounts_player"."id" DESC LIMIT' in sql]
    assert "NOT (EXISTS(" in others  # an anti-join, not a row per player
    if HAS_POSTGRES:  # each a range of an index, read as far as the page goes
        assert "progress_xp_player" in plan(with_xp)
        assert "Sort" not in plan(others)


@pytest.mark.parametrize("page_size", [1, 2, 3, 5, 50])
def test_a_level_sorts_pages_are_the_level_order_the_export_sorts(
    operator_client, game, monkeypatch, page_size
):
    """Players with XP (ties newest first), then those with none: no progress, or 0 XP."""
    monkeypatch.setattr("apps.panel.views.players.PAGE_SIZE", page_size)
    players = Player.objects.bulk_create(
        [Player(game=game, display_name=f"p{n}") for n in range(9)]
    )
    for player, xp in zip(players, [0, 50, None, 20, 50, None, 0, 10, None], strict=True):
        if xp is not None:
            PlayerProgress.objects.create(player=player, xp=xp)
    expected = list(
        Player.objects.filter(game=game)
        .order_by(Coalesce(F("progress__xp"), Value(0)).desc(), "-id")
        .values_list("pk", flat=True)
    )

    listed = []
    for number in range(1, len(expected) // page_size + 2):
        response = operator_client.get(players_url(game, f"?sort=level&page={number}"))
        if response.context["page"].number == number:  # past the last page: the last again
            listed += [p.pk for p in response.context["players"]]

    assert listed == expected
    assert response.context["page"].paginator.count == 9


def test_segment_previews_and_runs_pick_the_same_players(operator, game, spenders):
    filters = {"min_level": "2", "spend_currency": "USD", "min_spend": "1"}

    preview = set(segment_players(game=game, filters=filters).values_list("pk", flat=True))
    action, _ = submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="unban", filters=filters,
        reason="check",
    )  # fmt: skip

    members = set(SegmentMember.objects.filter(action=action).values_list("player_id", flat=True))
    assert preview == members == {spenders[1].pk, spenders[2].pk}


def test_pages_past_the_cap_are_not_offered_nor_counted(operator_client, game, monkeypatch):
    monkeypatch.setattr("apps.panel.views.players.MAX_PAGES", 2, raising=False)
    Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(120)])

    response, queries = captured(operator_client, players_url(game, "?page=3"))

    page = response.context["page"]
    assert page.number == 2 and not page.has_next() and len(page.object_list) == 50
    assert "Players 51–100 of 100+" in response.content.decode()  # counted up to the cap only
    assert 'id="pages-capped"' in response.content.decode()
    assert not [sql for sql in queries if re.search(r"OFFSET (\d{3,}|[6-9]\d)\b", sql)]
    counted = count_query(queries)
    assert counted.endswith("LIMIT 101) subquery") and "ORDER BY" not in counted
    assert not correlated_subqueries(counted, "stats_playerprogress")  # the ids alone
    narrowed = operator_client.get(players_url(game, "?q=p1"))  # p1, p10…p19, p100…p119
    assert 'id="pages-capped"' not in narrowed.content.decode()
    assert "of 31" in narrowed.content.decode()


@pytest.mark.parametrize("sort", ["newest", "oldest", "last_seen", "name", "id", "level"])
def test_a_page_of_the_player_list_takes_a_few_queries_whatever_its_sort(
    operator_client, game, sort, django_assert_max_num_queries
):
    now = timezone.now()
    players = Player.objects.bulk_create(
        Player(game=game, display_name=f"p{n}", last_login_at=now - timedelta(hours=n % 7))
        for n in range(120)
    )
    PlayerProgress.objects.bulk_create(PlayerProgress(player=p, xp=p.pk % 5) for p in players[:80])
    operator_client.get(players_url(game))  # the session's own reads, once

    # The page's frame (13: the session, the operator, their games and roles, the currencies
    # offered) and at most 4 reads of players: the count, the page (a level sort's page past
    # its players with XP: them, and the others; their count when it has none of them).
    with django_assert_max_num_queries(13 + 4) as queries:
        response = operator_client.get(players_url(game, f"?sort={sort}&page=2"))

    assert len(response.context["players"]) == 50
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "accounts_player"' in q["sql"]]
    assert 2 <= len(reads) <= 4 and all(re.search(r"LIMIT \d+", sql) for sql in reads), reads


@postgres_only
def test_a_last_seen_sort_reads_a_page_of_the_games_last_seen_index(game):
    players = players_matching(game=game, filters=PlayerFilterForm().filters(), sort="last_seen")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")  # the index's order is used, if it has it

    used = plan(*players[100:150].query.sql_with_params())

    assert "player_game_last_seen" in used and "Sort" not in used, used


# 5. Exports in keyset chunks


def chunk_queries(queries: list[str], table: str) -> list[str]:
    """The reads of `table`'s rows (on PostgreSQL each a DECLARE … FOR SELECT of a cursor)."""
    return [sql for sql in queries if re.match(rf'(DECLARE .* FOR )?SELECT .* FROM "{table}"', sql)]


def test_ledger_and_audit_exports_read_2000_rows_at_a_time_after_the_last(
    owner_client, game, player, other_game
):
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            game=game,
            player=player,
            currency=gold,
            delta=1,
            balance_after=n,
            reason="grant",
            idempotency_key=f"k{n}",
        )  # fmt: skip
        for n in range(4001)
    )
    AuditLogEntry.objects.bulk_create(
        AuditLogEntry(game=g, actor_name="x", action="a", target_type="t", target_id=str(n))
        for n in range(4001)
        for g in (game, other_game)
    )
    for table, model in (("ledger", LedgerEntry), ("audit", AuditLogEntry)):
        response, queries = captured(owner_client, f"/panel/games/{game.pk}/records/{table}.csv")

        rows = csv_rows(response)
        expected = model.objects.filter(game=game).order_by("id").values_list("id", flat=True)
        assert [int(row[0]) for row in rows[1:]] == list(expected)
        read = chunk_queries(queries, model._meta.db_table)
        assert len(read) == 3 and all("LIMIT 2000" in sql for sql in read)
        assert f'"id" > {expected[3999]}' in read[2]


def test_the_players_export_keeps_the_lists_order_across_chunks(analyst_client, game):
    now = timezone.now()
    Player.objects.bulk_create(  # ties on the sort's first key, across the chunks' edges
        Player(game=game, display_name=f"p{n % 7}", created_at=now - timedelta(seconds=n // 3))
        for n in range(4500)
    )
    PlayerProgress.objects.bulk_create(
        PlayerProgress(player=p, xp=p.pk % 11) for p in Player.objects.filter(game=game)[:3000]
    )
    xp = Coalesce(F("progress__xp"), Value(0))  # no progress is 0 XP
    for sort, order, chunked in (
        ("newest", ("-created_at", "-id"), True),
        ("name", ("display_name", "id"), True),
        ("level", (xp.desc(), "-id"), False),  # computed: one pass
    ):
        url = f"/panel/games/{game.pk}/records/players.csv?sort={sort}"
        response, queries = captured(analyst_client, url)

        rows = csv_rows(response)[1:]
        expected = Player.objects.filter(game=game).order_by(*order)
        assert [int(row[0]) for row in rows] == list(expected.values_list("id", flat=True))
        progress = dict(PlayerProgress.objects.values_list("player_id", "xp"))
        assert all(int(row[6]) == progress.get(int(row[0]), 0) for row in rows)
        read = chunk_queries(queries, "accounts_player")
        assert len(read) == (3 if chunked else 1), sort
