"""Segment action benchmark: one operator grant to 100,000 players, on PostgreSQL.

    .venv/bin/python bench/segment_grants.py [--players 100000]

Creates a throwaway database next to $DATABASE_URL, migrates it, creates the game, a currency
and the players (set-based SQL), submits the action through `apps.panel.services` as the panel
does, and times `run_segment_action` (the Celery task's body, in this process). Then it checks
every player holds the grant once and the ledger has one row per player.
Target (issue 17): 100,000 players under 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from loadgen import throwaway_database  # noqa: E402

TARGET_SECONDS = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=100_000)
    players = parser.parse_args().players
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base.startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    with throwaway_database(base, "segment") as database_url:
        os.environ.update(
            DATABASE_URL=database_url,
            GP_TESTING="1",
            DJANGO_DEBUG="1",
            DJANGO_SETTINGS_MODULE="gamingpanel.settings",
            LOG_LEVEL="WARNING",
        )
        run(players)


def run(count: int) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from apps.accounts.models import Game, Player
    from apps.inventory.models import Currency, LedgerEntry, Wallet
    from apps.inventory.services import Change
    from apps.panel.services import run_segment_action, submit_segment_action

    call_command("migrate", verbosity=0)
    game = Game.objects.create(name="Bench", slug="bench", client_key="bench-key")
    Currency.objects.create(game=game, code="gold", name="Gold")
    operator = get_user_model().objects.create_user(username="ops", password="x")
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_player (game_id, display_name, created_at, ban_reason) "
            "SELECT %s, 'p' || n, now(), '' FROM generate_series(1, %s) AS n",
            [game.pk, count],
        )
    print(f"  created {count:,} players in {time.perf_counter() - began:.1f} s", flush=True)

    action, _ = submit_segment_action(
        game=game,
        actor=operator,
        idempotency_key="bench",
        kind="grant",
        filters={},
        reason="compensation",
        change=Change("currency", "gold", 100),
    )
    began = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        done = profiler.runcall(run_segment_action, action_id=action.pk)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    else:
        done = run_segment_action(action_id=action.pk)
    seconds = time.perf_counter() - began

    gold = Currency.objects.get(game=game)
    wallets = Wallet.objects.filter(currency=gold)
    assert done.status == "done" and done.processed == done.changed == count, done.__dict__
    assert wallets.count() == count and not wallets.exclude(balance=100).exists()
    assert LedgerEntry.objects.filter(currency=gold).count() == count
    assert Player.objects.filter(game=game).count() == count
    rate = count / seconds
    projected = 100_000 / rate
    verdict = "met" if projected < TARGET_SECONDS else "NOT met"
    print(f"\nsegment grant to {count:,} players: {seconds:.1f} s ({rate:,.0f} players/s)")
    measured = "" if count == 100_000 else f" (projected from {count:,} players)"
    print(
        f"100,000 players: {projected:.0f} s{measured}; "
        f"target under {TARGET_SECONDS:.0f} s — {verdict}"
    )
    print("verified: every player holds the grant once; one ledger row per player")


if __name__ == "__main__":
    main()
