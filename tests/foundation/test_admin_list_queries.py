"""The admin lists of big tables outside the ledger, the audit log and the shop (sessions,
players, platform identities, payments) read one page: no distinct values for a filter, no
total beside the filtered count, and a search that compares indexed columns as stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import AuthSession, PlatformIdentity, Player
from apps.payments.models import Payment
from apps.shop.models import Purchase
from tests.accounts.admin_lists import listed, searched, signed_in_operator
from tests.shop.helpers import make_economy, make_offer


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def sessions(game, player):
    someone = Player.objects.create(game=game, display_name="someone")
    expires = timezone.now() + timedelta(days=1)
    return [
        AuthSession.objects.create(game=game, player=player, platform="steam", expires_at=expires),
        AuthSession.objects.create(game=game, player=player, platform="dev", expires_at=expires),
        AuthSession.objects.create(game=game, player=someone, platform="old", expires_at=expires),
    ]


def test_the_session_list_reads_no_distinct_platforms_and_one_count(operator_client, sessions):
    queries, shown = listed(operator_client, "/admin/accounts/authsession/", "authsession")

    assert len(shown) == len(sessions)
    assert [sql for sql in queries if "DISTINCT" in sql.upper()] == []
    assert len([sql for sql in queries if "COUNT(" in sql]) == 1  # no second, full count


def test_a_players_sessions_page_reads_only_that_players_sessions(
    operator_client, sessions, player
):
    url = f"/admin/accounts/authsession/?player__id__exact={player.pk}"
    queries, shown = listed(operator_client, url, "authsession")

    assert set(shown) == set(sessions[:2])
    assert [sql for sql in queries if f'"player_id" = {player.pk}' not in sql] == []


def test_a_number_searches_the_sessions_player_id_as_a_number(operator_client, sessions, player):
    queries, shown = listed(operator_client, f"/admin/accounts/authsession/?q={player.pk}", "")

    assert set(shown) == set(sessions[:2])
    for sql in searched([sql for sql in queries if "authsession" in sql]):
        assert f'"accounts_authsession"."player_id" = {player.pk}' in sql
        assert "UPPER(" not in sql and "LIKE" not in sql


def test_the_platform_filter_offers_fixed_platforms_and_any_value_still_filters(
    operator_client, sessions
):
    url = "/admin/accounts/authsession/"
    response = operator_client.get(url)
    cl = response.context["cl"]
    [platforms] = [spec for spec in cl.filter_specs if spec.title == "platform"]
    assert [choice["display"] for choice in platforms.choices(cl)][1:4] == [
        "Steam",
        "Epic Online Services",
        "IDCGames",
    ]

    _, steam = listed(operator_client, f"{url}?platform__exact=steam", "authsession")
    _, old = listed(operator_client, f"{url}?platform__exact=old", "authsession")

    assert steam == [sessions[0]]
    assert old == [sessions[2]]


def test_the_login_platforms_are_the_platforms_apps_names():
    from apps.accounts.admin import LOGIN_PLATFORMS
    from apps.platforms.models import PlatformCredential

    assert PlatformCredential.Platform.choices == LOGIN_PLATFORMS


@pytest.fixture
def players(game, other_game, player):
    steam = Player.objects.create(game=game, display_name="Dragon Slayer")
    PlatformIdentity.objects.create(
        game=game, player=steam, platform="steam", platform_user_id="76561198000000001"
    )
    elsewhere = Player.objects.create(game=other_game, display_name="Dragon Slayer")
    PlatformIdentity.objects.create(
        game=other_game, player=elsewhere, platform="steam", platform_user_id="76561198000000001"
    )
    PlatformIdentity.objects.create(
        game=game, player=steam, platform="epic", platform_user_id="EpicAccount9"
    )
    return player, steam, elsewhere


def test_a_number_searches_the_player_id_as_a_number(operator_client, players):
    player = players[0]
    queries, shown = listed(operator_client, f"/admin/accounts/player/?q={player.pk}", "")

    assert shown == [player]
    for sql in searched([sql for sql in queries if 'FROM "accounts_player"' in sql]):
        assert f'"accounts_player"."id" = {player.pk}' in sql
        # Not the id as text, nor part of a name (SQLite's iexact is a LIKE without wildcards).
        assert '"id"::text' not in sql and "%" not in sql


def test_a_player_is_found_by_whole_name_or_platform_user_id_any_case_in_the_operators_games(
    operator_client, players
):
    _, steam, _ = players
    url = "/admin/accounts/player/?q="

    assert listed(operator_client, url + "Dragon+Slayer", "accounts_player")[1] == [steam]
    assert listed(operator_client, url + '"dragon SLAYER"', "accounts_player")[1] == [steam]
    assert listed(operator_client, url + "76561198000000001", "accounts_player")[1] == [steam]
    assert listed(operator_client, url + "Dragon", "accounts_player")[1] == []
    assert listed(operator_client, url + "7656119800", "accounts_player")[1] == []


def test_a_platform_identity_is_found_by_its_whole_platform_user_id_any_case(
    operator_client, players
):
    _, steam, _ = players
    url = "/admin/accounts/platformidentity/?q="

    queries, shown = listed(operator_client, url + "76561198000000001", "platformidentity")

    assert [identity.player for identity in shown] == [steam]
    assert [i.platform for i in listed(operator_client, url + "epicaccount9", "identity")[1]] == [
        "epic"
    ]
    assert listed(operator_client, url + "7656119800", "platformidentity")[1] == []
    assert [sql for sql in queries if "DISTINCT" in sql.upper() or "%" in sql] == []


@pytest.fixture
def payments(game, player):
    make_economy(game)
    offer = make_offer(game, real_money=True, price_currency="EUR", price_amount=199)

    def payment(n: int) -> Payment:
        purchase = Purchase.objects.create(
            game=game, player=player, offer=offer, price_currency="EUR", price_amount=199
        )
        return Payment.objects.create(
            game=game,
            purchase=purchase,
            provider="stripe",
            external_id=f"cs_test_{n}",
            payment_reference=f"pi_test_{n}",
        )

    return [payment(1), payment(2)]


def test_a_payment_is_found_by_a_whole_processor_id_or_its_purchase(operator_client, payments):
    url = "/admin/payments/payment/?q="

    queries, shown = listed(operator_client, url + "cs_test_1", "payments_payment")

    assert shown == [payments[0]]
    assert listed(operator_client, url + "pi_test_2", "payments_payment")[1] == [payments[1]]
    by_purchase = listed(operator_client, url + str(payments[1].purchase_id), "payments_payment")
    assert payments[1] in by_purchase[1]
    assert listed(operator_client, url + "cs_test", "payments_payment")[1] == []
    assert [sql for sql in queries if "UPPER(" in sql or "LIKE" in sql] == []
    assert len([sql for sql in queries if "COUNT(" in sql]) == 1  # no second, full count
