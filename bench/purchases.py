"""Virtual-currency purchases per second over HTTP (granian, WSGI) on PostgreSQL, on one hot
player (every purchase locks the same wallets) and spread over many players, against an in-run
baseline: GET player/inventory, an authenticated read with the same token check.

    .venv/bin/python bench/purchases.py [--workers 2] [--seconds 20] [--concurrency 8]

Creates a throwaway database next to $DATABASE_URL (default postgres://postgres@127.0.0.1:5432),
migrates it, seeds one game with an offer (10 gold -> 1 gem + 1 shard: one debit and two grants,
three ledger entries), funds the players through the ledger, mints real access tokens with
apps.accounts (rate limits counted, with a budget of 10^9 per hour: the bench sends far more than
1000 requests per token), then
serves the app with granian on 127.0.0.1 and posts purchases with distinct Idempotency-Keys from
keep-alive connections. Afterwards every purchase is checked: one completed purchase per 201,
stored as purchase_offer stores it, three ledger entries each, one analytics event each,
balances equal to funding minus spending, and the ledger audit clean. Every purchase takes the
one Python path (apps/shop/services/purchase.py and the inventory's shared ledger write). The
database is dropped at the end. Target: >= 300 purchases/s on one hot player.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from loadgen import (  # noqa: E402
    LoadResult,
    print_table,
    production_env,
    run_load,
    serve_granian,
    stop_server,
    throwaway_database,
    wait_for_port,
)

PORT = 8796
PLAYERS = 200
FUNDS = 1_000_000
PRICE = 10
TARGET_HOT = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="at most, per case")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--blocking-threads", type=int, default=4, help="per granian worker")
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base.startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    with throwaway_database(base, "purchases") as url:
        os.environ.update(
            production_env(url),
            # Counted as in production (one Redis round trip per request), with a budget the
            # bench cannot exhaust: it sends far more than 1000 requests per token.
            RATE_LIMIT_PER_HOUR=str(10**9),
        )
        ok = run(args.workers, args.seconds, args.concurrency, args.blocking_threads)
    sys.exit(0 if ok else 1)


def run(workers: int, seconds: float, concurrency: int, blocking_threads: int) -> bool:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    offer_id, player_ids, tokens = seed()

    server = serve_granian(port=PORT, workers=workers, blocking_threads=blocking_threads)

    def load(label: str, request, total: int, expect=(200,)) -> LoadResult:  # noqa: ANN001
        result = run_load(
            label=label,
            port=PORT,
            make_request=request,
            concurrency=concurrency,
            total_requests=total,
            max_seconds=seconds,
            expect_status=expect,
        )
        print(f"  {label}: {result.requests} requests, {result.errors} errors", flush=True)
        return result

    hot_token, many_tokens = tokens[0], tokens[1:]
    try:
        wait_for_port(PORT)
        load("warm-up", inventory_request(many_tokens), 300)
        baseline = load("baseline: GET player/inventory (token)", inventory_request(tokens), 6000)
        hot = load(
            "purchase, one hot player", purchase_request(offer_id, [hot_token], "hot"), 6000, (201,)
        )
        many = load(
            f"purchase, {PLAYERS - 1} players",
            purchase_request(offer_id, many_tokens, "many"),
            6000,
            (201,),
        )
    finally:
        stop_server(server)

    print()
    print(
        f"purchases over HTTP, granian WSGI x{workers} (blocking threads {blocking_threads}), "
        f"PostgreSQL, {concurrency} connections, "
        "3 ledger entries per purchase"
    )
    print_table([baseline, hot, many], baseline=baseline)
    correct = verify(offer_id, player_ids, hot, many)
    met = hot.rps >= TARGET_HOT
    print(f"\ntarget >= {TARGET_HOT} purchases/s on one hot player: {'met' if met else 'NOT met'}")
    return correct


def seed() -> tuple[int, list[int], list[str]]:
    from django.utils import timezone

    from apps.accounts.models import Game, Player
    from apps.accounts.services.sessions import open_session
    from apps.inventory.models import Currency, ItemDefinition
    from apps.inventory.services import change_balance
    from apps.shop.models import Offer

    game = Game.objects.create(name="Bench", slug="bench-purchases", sandbox=True)
    Currency.objects.create(game=game, code="gold", name="Gold")
    Currency.objects.create(game=game, code="gems", name="Gems")
    ItemDefinition.objects.create(game=game, sku="shard", name="Shard", kind="stackable")
    offer = Offer.objects.create(
        game=game,
        name="Gem and shard",
        price_currency="gold",
        price_amount=PRICE,
        contents=[{"currency": "gems", "quantity": 1}, {"sku": "shard", "quantity": 1}],
    )
    players = Player.objects.bulk_create(
        Player(game=game, display_name=f"p{n}") for n in range(PLAYERS)
    )
    now = timezone.now()
    tokens = []
    for player in players:
        change_balance(
            player=player, currency="gold", delta=FUNDS, reason="bench", idempotency_key="fund"
        )
        tokens.append(open_session(player=player, platform="dev", now=now).access_token)
    return offer.pk, [p.pk for p in players], tokens


def inventory_request(tokens: list[str]):  # noqa: ANN201
    def make(i: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
        return "GET", "/api/v1/player/inventory", None, headers

    return make


def purchase_request(offer_id: int, tokens: list[str], prefix: str):  # noqa: ANN201
    body = json.dumps({"offer_id": offer_id, "quantity": 1}).encode()

    def make(i: int) -> tuple[str, str, bytes, dict[str, str]]:
        headers = {
            "Authorization": f"Bearer {tokens[i % len(tokens)]}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"{prefix}-{i}",
        }
        return "POST", "/api/v1/shop/purchase", body, headers

    return make


def verify(offer_id: int, player_ids: list[int], hot: LoadResult, many: LoadResult) -> bool:
    from django.db.models import Count

    from apps.inventory.models import LedgerEntry, PlayerItem, Wallet
    from apps.inventory.selectors import ledger_discrepancies
    from apps.shop.models import Purchase

    expected = (hot.requests - hot.errors) + (many.requests - many.errors)
    completed = Purchase.objects.filter(offer_id=offer_id, status="completed")
    bought = dict(completed.values_list("player_id").annotate(n=Count("id")))
    problems = []
    if sum(bought.values()) != expected:
        problems.append(f"{sum(bought.values())} completed purchases for {expected} answers 201")
    if Purchase.objects.exclude(status="completed").exists():
        problems.append("purchases not completed")
    entries = LedgerEntry.objects.filter(reason="purchase").count()
    if entries != 3 * expected:
        problems.append(f"{entries} ledger entries for {expected} purchases (3 each expected)")
    gold = dict(Wallet.objects.filter(currency__code="gold").values_list("player_id", "balance"))
    gems = dict(Wallet.objects.filter(currency__code="gems").values_list("player_id", "balance"))
    shards = dict(PlayerItem.objects.values_list("player_id", "quantity"))
    for pid in player_ids:
        n = bought.get(pid, 0)
        if (gold[pid], gems.get(pid, 0), shards.get(pid, 0)) != (FUNDS - PRICE * n, n, n):
            problems.append(f"player {pid}: balances disagree with its {n} purchases")
    checked, differences = ledger_discrepancies()
    if differences:
        problems.append(f"ledger audit: {len(differences)} of {checked} balances disagree")
    problems += verify_rows(offer_id, completed, expected)
    print(
        f"\nverified: {expected} purchases (hot player {bought.get(player_ids[0], 0)}), "
        f"{entries} ledger entries, ledger audit of {checked} "
        "balances: " + ("all correct" if not problems else "; ".join(problems[:5]))
    )
    return not problems


def verify_rows(offer_id: int, completed, expected: int) -> list[str]:  # noqa: ANN001
    """The purchases and their analytics events as the Python path writes them."""
    from apps.analytics.models import DirtyDay, RawEvent

    problems = []
    granted = [{"currency": "gems", "quantity": 1}, {"sku": "shard", "quantity": 1}]
    stored = completed.filter(
        quantity=1,
        source="shop",
        real_money=False,
        price_currency="gold",
        price_amount=PRICE,
        granted=granted,
        response_status=201,
        response_body__isnull=True,
        completed_at__isnull=False,
    )
    if stored.count() != expected:
        problems.append(f"{expected - stored.count()} purchases not stored as expected")
    events = RawEvent.objects.filter(name="purchase_completed", source="server")
    event_purchases = {e.properties["purchase_id"] for e in events}
    if events.count() != expected or event_purchases != set(completed.values_list("id", flat=True)):
        problems.append(f"{events.count()} purchase_completed events for {expected} purchases")
    amounts = {(e.properties["amount"], e.properties["offer_id"]) for e in events}
    if expected and amounts != {(PRICE, offer_id)}:
        problems.append(f"purchase_completed events with amounts and offers {sorted(amounts)}")
    if DirtyDay.objects.exists():
        problems.append("days marked dirty by today's purchases")
    return problems


if __name__ == "__main__":
    main()
