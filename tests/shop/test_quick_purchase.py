"""The purchase fast path (apps/shop/fastpath.py, shop_quick_purchase in migration shop 0002)
against the Python path: from the same state, the same rows and the same HTTP answer; and every
request it does not handle answered by the Python path as before, its budget spent once."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from apps.accounts.models import Game, Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.sessions import log_out
from apps.analytics.models import DirtyDay, RawEvent
from apps.inventory.models import Currency, LedgerEntry, PlayerItem, Wallet
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services import quick_purchase as quick_purchase_service
from apps.shop.services.purchase import purchase_offer
from tests.shop.conftest import access_token, bearer
from tests.shop.helpers import fund, make_economy, make_offer

pytestmark = pytest.mark.postgres

URL = "/api/v1/shop/purchase"
ID_IN_BODY = re.compile(rb'"purchase_id":\d+')
PURCHASE_REF = re.compile(r"^purchase:\d+")
RETRY_IN = re.compile(rb"retry in \d+ s")


def python_path_fails(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("purchase_offer ran: the fast path fell back")


@pytest.fixture
def python_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The arguments of every purchase the fast path handed to the Python path."""
    calls: list[dict] = []

    def recorded(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return purchase_offer(**kwargs)

    monkeypatch.setattr("apps.shop.api.purchase_offer", recorded)
    return calls


def post(token: str, body: dict, key: str = "k-1") -> Any:
    return bearer(token).post(URL, body, HTTP_IDEMPOTENCY_KEY=key)


def rows(player: Player) -> dict[str, list[dict]]:
    """Everything a purchase writes, ids and timestamps left out, purchase ids as "P"."""

    def without(values: dict, *dropped: str) -> dict:
        return {name: value for name, value in values.items() if name not in ("id", *dropped)}

    def ledger(entry: dict) -> dict:
        keys = ("reference", "idempotency_key", "operation_key")
        return {**entry, **{name: PURCHASE_REF.sub("purchase:P", entry[name]) for name in keys}}

    def event(values: dict) -> dict:
        return {**values, "properties": {**values["properties"], "purchase_id": "P"}}

    game_id = player.game_id
    purchases = Purchase.objects.filter(player=player).order_by("id")
    entries = LedgerEntry.objects.filter(player=player).order_by("id")
    wallets = Wallet.objects.filter(player=player).order_by("currency_id")
    holdings = PlayerItem.objects.filter(player=player).order_by("item_id")
    events = RawEvent.objects.filter(game_id=game_id).order_by("id")
    return {
        "purchases": [without(p, "created_at", "completed_at") for p in purchases.values()],
        "ledger": [ledger(without(e, "created_at")) for e in entries.values()],
        "wallets": [without(w) for w in wallets.values()],
        "holdings": [without(h) for h in holdings.values()],
        "counters": [without(c) for c in OfferPurchaseCount.objects.values()],
        "offers": [without(o) for o in Offer.objects.filter(game_id=game_id).values()],
        "events": [event(without(e, "occurred_at", "received_at")) for e in events.values()],
        "dirty_days": [without(d, "marked_at") for d in DirtyDay.objects.values()],
    }


def answer(response: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body (purchase id and retry delay masked) and headers in order; the request id,
    the reset and retry delay (they count down between two requests) and the length (of the
    purchase id too) left out."""
    assert int(response.get("Content-Length", len(response.content))) == len(response.content)
    headers = [
        (name, value)
        for name, value in response.items()
        if name not in ("X-Request-ID", "RateLimit-Reset", "Retry-After", "Content-Length")
    ]
    body = ID_IN_BODY.sub(b'"purchase_id":P', response.content)
    return response.status_code, RETRY_IN.sub(b"retry in N s", body), headers


def run_rolled_back(action: Callable[[], Any], player: Player) -> tuple[tuple, dict]:
    """Do `action`, record its answer and rows, then undo everything it wrote."""
    cache.clear()  # the rate-limit budgets too: both paths start from the same count
    with transaction.atomic():
        result = answer(action()), rows(player)
        transaction.set_rollback(True)
    return result


def both_paths(monkeypatch: pytest.MonkeyPatch, player: Player, action: Callable[[], Any]):
    with monkeypatch.context() as patch:
        patch.setattr("apps.shop.api.purchase_offer", python_path_fails)
        fast = run_rolled_back(action, player)
    with monkeypatch.context() as patch:
        patch.setattr("apps.shop.api.fast_purchase_response", lambda view, request: None)
        python = run_rolled_back(action, player)
    return fast, python


def extra_currency(game: Game) -> None:
    Currency.objects.create(game=game, code="silver", name="Silver", cap=5_000)


SCENARIOS = {
    "currency only, wallet created on first purchase (cap copied)": (
        {},
        1,
        lambda player: fund(player, 1000),
    ),
    "quantity above one": ({}, 7, lambda player: fund(player, 1000)),
    "items only, holdings created (durable limit, stack limit)": (
        {
            "contents": [{"sku": "sword", "quantity": 1}, {"sku": "potion", "quantity": 5}],
            "price_amount": 300,
        },
        1,
        lambda player: fund(player, 300),
    ),
    "bundle of currencies and items, some wallets already there": (
        {
            "contents": [
                {"sku": "potion", "quantity": 2},
                {"currency": "silver", "quantity": 40},
                {"currency": "gems", "quantity": 15},
                {"sku": "sword", "quantity": 1},
            ],
            "price_amount": 250,
        },
        1,
        lambda player: (fund(player, 1000), fund(player, 5, "gems")),
    ),
    "price currency also granted: one net change": (
        {"contents": [{"currency": "gold", "quantity": 30}, {"currency": "gems", "quantity": 2}]},
        3,
        lambda player: fund(player, 1000),
    ),
    "price cancelled by the contents: no ledger entry": (
        {"price_amount": 10, "contents": [{"currency": "gold", "quantity": 10}]},
        1,
        lambda player: fund(player, 1000),
    ),
    "free offer": ({"price_amount": 0}, 2, lambda player: None),
    "per-player limit, first purchase creates the counter": (
        {"per_player_limit": 5},
        2,
        lambda player: fund(player, 1000),
    ),
    "per-player limit, counter already there": (
        {"per_player_limit": 5},
        3,
        lambda player: fund(player, 1000),
    ),
    "stock taken per unit": ({"stock": 10}, 3, lambda player: fund(player, 1000)),
    "currency with a cap, reached exactly": (
        {"contents": [{"currency": "gems", "quantity": 100_000}]},
        1,
        lambda player: fund(player, 1000),
    ),
    "dates and everything at once": (
        {
            "available_from": timezone.now() - timedelta(days=1),
            "available_until": timezone.now() + timedelta(days=1),
            "per_player_limit": 10,
            "stock": 50,
            "contents": [{"currency": "silver", "quantity": 3}, {"sku": "potion", "quantity": 4}],
        },
        4,
        lambda player: fund(player, 1000),
    ),
}


@pytest.mark.parametrize("offer_fields,quantity,prepare", SCENARIOS.values(), ids=SCENARIOS)
def test_fast_and_python_paths_write_the_same_rows_and_answer_the_same(
    monkeypatch, player, game, offer_fields, quantity, prepare
):
    make_economy(game)
    extra_currency(game)
    offer = make_offer(game, **offer_fields)
    prepare(player)
    if offer.per_player_limit and quantity == 3:
        OfferPurchaseCount.objects.create(player=player, offer=offer, count=1)
    token = access_token(player)

    fast, python = both_paths(
        monkeypatch, player, lambda: post(token, {"offer_id": offer.pk, "quantity": quantity})
    )

    assert fast[0][0] == 201
    assert fast == python


def test_a_second_purchase_on_existing_rows_matches_too(monkeypatch, player, game):
    make_economy(game)
    offer = make_offer(
        game, contents=[{"currency": "gems", "quantity": 10}, {"sku": "potion", "quantity": 1}]
    )
    fund(player, 1000)
    token = access_token(player)
    assert post(token, {"offer_id": offer.pk}, key="first").status_code == 201

    fast, python = both_paths(monkeypatch, player, lambda: post(token, {"offer_id": offer.pk}))

    assert fast[0][0] == 201
    assert fast == python
    assert len(fast[1]["purchases"]) == 2


def test_the_fast_path_answers_a_plain_purchase(python_path_calls, player, game):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 100)

    response = post(access_token(player), {"offer_id": offer.pk})

    assert response.status_code == 201
    assert response.json()["balances"] == {"gold": 0, "gems": 10}
    assert python_path_calls == []


REFUSALS = {
    "insufficient funds": ({}, lambda player: fund(player, 99), {}),
    "per-player limit reached": (
        {"per_player_limit": 1},
        lambda player: fund(player, 1000),
        {"quantity": 2},
    ),
    "sold out": ({"stock": 1}, lambda player: fund(player, 1000), {"quantity": 2}),
    "closed offer": ({"active": False}, lambda player: fund(player, 1000), {}),
    "holding limit": (
        {"contents": [{"sku": "sword", "quantity": 1}]},
        lambda player: fund(player, 1000),
        {"quantity": 2},
    ),
    "currency cap": (
        {"contents": [{"currency": "gems", "quantity": 100_001}]},
        lambda player: fund(player, 1000),
        {},
    ),
    "unknown currency in the contents": (
        {"contents": [{"currency": "nope", "quantity": 1}]},
        lambda player: fund(player, 1000),
        {},
    ),
    "real money, no payment provider": (
        {"real_money": True, "price_currency": "USD", "price_amount": 499},
        lambda player: Game.objects.filter(pk=player.game_id).update(sandbox=False),
        {},
    ),
    "battle-pass line": ({"contents": [{"battlepass_premium": 999}]}, lambda player: None, {}),
    "another game's offer": (None, lambda player: fund(player, 1000), {}),
}


@pytest.mark.parametrize("offer_fields,prepare,body", REFUSALS.values(), ids=REFUSALS)
def test_what_the_fast_path_does_not_handle_is_answered_as_before(
    monkeypatch, player, game, other_game, offer_fields, prepare, body
):
    make_economy(game)
    make_economy(other_game)
    offer = make_offer(other_game) if offer_fields is None else make_offer(game, **offer_fields)
    prepare(player)
    token = access_token(player)

    def buy_twice() -> Any:  # the key answers its first answer again
        first = post(token, {"offer_id": offer.pk, **body})
        again = post(token, {"offer_id": offer.pk, **body})
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        return first

    through_fast, python = both_paths_allowing_fallback(monkeypatch, player, buy_twice)

    assert through_fast[0][0] >= 202
    assert through_fast == python  # RateLimit-Remaining included: the budget is spent once


def both_paths_allowing_fallback(monkeypatch: pytest.MonkeyPatch, player: Player, action):
    fast = run_rolled_back(action, player)
    with monkeypatch.context() as patch:
        patch.setattr("apps.shop.api.fast_purchase_response", lambda view, request: None)
        python = run_rolled_back(action, player)
    return fast, python


def test_replays_fall_back_to_the_python_path(python_path_calls, player, game):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)
    token = access_token(player)
    first = post(token, {"offer_id": offer.pk})

    replay = post(token, {"offer_id": offer.pk})
    other = post(token, {"offer_id": offer.pk, "quantity": 2})

    assert (first.status_code, replay.status_code, other.status_code) == (201, 201, 422)
    assert [call["quantity"] for call in python_path_calls] == [1, 2]


def test_replay_and_422_answer_as_the_python_path(monkeypatch, player, game):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)
    token = access_token(player)

    def first_then_replay_then_other_body() -> Any:
        first = post(token, {"offer_id": offer.pk})
        replay = post(token, {"offer_id": offer.pk})
        other = post(token, {"offer_id": offer.pk, "quantity": 2})
        assert (first.status_code, replay.status_code, other.status_code) == (201, 201, 422)
        assert replay.content == first.content
        assert other.json()["code"] == "idempotency_key_reused"
        return other

    fast, python = both_paths_allowing_fallback(
        monkeypatch, player, first_then_replay_then_other_body
    )

    assert fast == python


@pytest.mark.parametrize(
    "headers,body",
    [
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, b'{"offer_id": 1, "quantity": 0}'),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, b'{"offer_id": "x"}'),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, b'{"offer_id": true}'),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, b'{"offer_id": 1, "quantity": NaN}'),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, b"{nope"),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, b"\xef\xbb\xbf{}"),
        ({"HTTP_IDEMPOTENCY_KEY": " "}, b'{"offer_id": 1}'),
        ({}, b'{"offer_id": 1}'),
    ],
)
def test_unusual_requests_take_the_drf_path(monkeypatch, player, game, headers, body):
    make_economy(game)
    token = access_token(player)

    def send() -> Any:
        return bearer(token).post(URL, body, content_type="application/json", **headers)

    fast, python = both_paths_allowing_fallback(monkeypatch, player, send)

    assert fast[0][0] == 400
    assert fast == python


def test_revoked_token_is_401_and_banned_player_403(monkeypatch, player, game):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)
    logged_out = access_token(player)
    log_out(session_id=player.sessions.get().pk)
    banned_not_yet_revoked = access_token(player)
    Player.objects.filter(pk=player.pk).update(banned_until=timezone.now() + timedelta(days=1))
    cases = [(logged_out, 401, "token_revoked"), (banned_not_yet_revoked, 403, "player_banned")]

    for token, status, code in cases:
        fast, python = both_paths_allowing_fallback(
            monkeypatch, player, lambda token=token: post(token, {"offer_id": offer.pk})
        )
        assert fast[0][0] == status
        assert f'"code":"{code}"'.encode() in fast[0][1]
        assert fast == python


def test_banned_player_is_403(monkeypatch, player, game):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)
    token = access_token(player)
    ban_player(player=player, reason="cheating", until=None, actor=None)

    fast, python = both_paths_allowing_fallback(
        monkeypatch, player, lambda: post(token, {"offer_id": offer.pk})
    )

    assert fast[0][0] == 403
    assert fast == python


@override_settings(RATE_LIMIT_PER_HOUR=2)
def test_rate_limited_purchase_is_429_with_the_same_headers(monkeypatch, player, game):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)
    token = access_token(player)

    def three_purchases() -> Any:
        for n in range(2):
            assert post(token, {"offer_id": offer.pk}, key=f"k{n}").status_code == 201
        return post(token, {"offer_id": offer.pk}, key="k3")

    fast, python = both_paths_allowing_fallback(monkeypatch, player, three_purchases)

    assert fast[0][0] == 429
    assert fast == python
    assert ("RateLimit-Remaining", "0") in fast[0][2]


def test_game_rate_limit_is_used(monkeypatch, player, game):
    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=7)
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)

    response = post(access_token(player), {"offer_id": offer.pk})

    assert (response.status_code, response["RateLimit-Limit"]) == (201, "7")


@pytest.mark.django_db(transaction=True)
def test_a_connection_found_broken_is_replaced_and_the_purchase_made_once(
    python_path_calls, player, game
):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)
    token = access_token(player)
    assert post(token, {"offer_id": offer.pk}, key="first").status_code == 201  # game cached
    with psycopg.connect(connection_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    connection.health_check_done = False  # as each request starts (the test client skips it)

    response = post(token, {"offer_id": offer.pk}, key="second")  # no query before the fast path

    assert response.status_code == 201
    assert Purchase.objects.count() == 2
    assert python_path_calls == []


@pytest.mark.django_db(transaction=True)
def test_a_retry_after_a_lost_answer_replays_the_committed_purchase(
    monkeypatch, python_path_calls, player, game
):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)
    token = access_token(player)
    assert post(token, {"offer_id": offer.pk}, key="first").status_code == 201  # game cached
    real_execute = quick_purchase_service._execute
    attempts = []

    def committed_then_lost(params: tuple) -> tuple:
        attempts.append(params)
        row = real_execute(params)
        if len(attempts) == 1:  # the statement committed, then the connection went away
            connection.connection.close()
            raise OperationalError("server closed the connection unexpectedly")
        return row

    monkeypatch.setattr(quick_purchase_service, "_execute", committed_then_lost)
    connection.health_check_done = False  # as each request starts (the test client skips it)

    response = post(token, {"offer_id": offer.pk}, key="second")

    assert response.status_code == 201
    assert len(attempts) == 2 and len(python_path_calls) == 1  # the second attempt replayed
    assert response.json()["purchase_id"] == Purchase.objects.get(idempotency_key="second").pk
    assert Purchase.objects.count() == 2
    assert LedgerEntry.objects.filter(reason="purchase").count() == 4


def connection_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
