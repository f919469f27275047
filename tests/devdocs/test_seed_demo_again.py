"""seed_demo run again over a demo game that was used: it changes nothing it made before, finds
its demo players whatever else is named like them, prints only logins that work, and never
makes a season overlap another."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Game, PlatformIdentity, Player, ServerKey, hash_key
from apps.accounts.services import revoke_server_key
from apps.analytics.demo import DEMO_NAME
from apps.battlepass.demo import SEASON_NAME
from apps.battlepass.models import Season, Tier
from apps.inventory.models import LedgerEntry, PlayerItem, Wallet

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    return {
        "players": sorted(Player.objects.values_list("pk", "display_name", "created_at")),
        "seasons": sorted(Season.objects.values_list("pk", "name", "starts_at", "ends_at")),
        "tiers": Tier.objects.count(),
        "keys": sorted(ServerKey.objects.values_list("pk", "revoked_at")),
        "users": sorted(get_user_model().objects.values_list("pk", "password")),
        "ledger": LedgerEntry.objects.count(),
        "wallets": sorted(Wallet.objects.values_list("pk", "balance")),
        "items": sorted(PlayerItem.objects.values_list("pk", "quantity")),
    }


def assert_no_overlapping_seasons(game: Game) -> None:
    seasons = list(Season.objects.filter(game=game).order_by("starts_at"))
    for earlier, later in zip(seasons, seasons[1:], strict=False):
        assert earlier.ends_at <= later.starts_at, (earlier, later)
    for season in seasons:
        season.clean()  # the admin's own overlap check


def test_a_second_seed_changes_nothing():
    seed()
    before = snapshot()

    seed()

    assert snapshot() == before


def test_a_fresh_seed_prints_the_documented_logins():
    out = seed()

    assert "Login:       admin / admin" in out
    assert "Server key:  demo-server-key   (X-Server-Key)" in out


def test_players_named_like_a_demo_player_do_not_stop_the_seed():
    seed()
    game = Game.objects.get(slug="demo")
    first = Player.objects.get(game=game, display_name=DEMO_NAME.format(1))
    # A dev login that took the name, and an operator renaming another player to it.
    alice = Player.objects.create(game=game, display_name=DEMO_NAME.format(1))
    PlatformIdentity.objects.create(
        game=game, player=alice, platform="dev", platform_user_id="alice"
    )
    Player.objects.filter(game=game, display_name=DEMO_NAME.format(2)).update(
        display_name=DEMO_NAME.format(1)
    )
    # The leaderboard's demo players the same way.
    Player.objects.create(game=game, display_name="demo-ana")

    seed()  # MultipleObjectsReturned before
    before = snapshot()
    seed()

    assert snapshot() == before
    # The first demo player stays the demo's: the dev login gets no demo ledger activity.
    assert LedgerEntry.objects.filter(player=first).exists()
    assert not LedgerEntry.objects.filter(player=alice).exists()


def test_a_revoked_demo_server_key_is_not_printed_as_working():
    seed()
    key = ServerKey.objects.get(key_hash=hash_key("demo-server-key"))
    revoke_server_key(server_key=key)

    out = seed()

    assert "demo-server-key   (X-Server-Key)" not in out
    assert "demo-server-key was revoked" in out
    key.refresh_from_db()
    assert key.revoked_at is not None  # a revocation is never undone
    assert ServerKey.objects.filter(key_hash=hash_key("demo-server-key")).count() == 1


def test_a_changed_admin_password_is_kept_and_not_printed_as_admin():
    seed()
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("studio-secret")
    admin.save()

    out = seed()

    assert "admin / admin" not in out
    assert "password was changed" in out
    admin.refresh_from_db()
    assert admin.check_password("studio-secret")


def test_an_ended_demo_season_runs_again_before_the_next_scheduled_one():
    seed()
    game = Game.objects.get(slug="demo")
    now = timezone.now()
    Season.objects.filter(game=game, name=SEASON_NAME).update(
        starts_at=now - timedelta(days=90), ends_at=now - timedelta(days=30)
    )
    ended = Season.objects.create(
        game=game,
        name="Spring",
        starts_at=now - timedelta(days=20),
        ends_at=now - timedelta(hours=6),
    )
    scheduled = Season.objects.create(
        game=game,
        name="Season 2",
        starts_at=now + timedelta(days=5),
        ends_at=now + timedelta(days=40),
    )

    seed()

    season = Season.objects.get(game=game, name=SEASON_NAME)
    assert season.starts_at == ended.ends_at  # not a day back: Spring ran until 6 hours ago
    assert season.ends_at == scheduled.starts_at  # not 60 days: Season 2 starts in 5
    assert season.starts_at <= timezone.now() < season.ends_at
    assert_no_overlapping_seasons(game)
    before = snapshot()
    seed()
    assert snapshot() == before


def test_a_new_demo_season_fits_between_the_games_seasons():
    seed()
    game = Game.objects.get(slug="demo")
    now = timezone.now()
    Season.objects.filter(game=game, name=SEASON_NAME).update(
        name="Old", starts_at=now - timedelta(days=90), ends_at=now - timedelta(days=30)
    )
    Season.objects.create(
        game=game,
        name="Season 2",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=9),
    )

    seed()

    season = Season.objects.get(game=game, name=SEASON_NAME)
    assert season.starts_at <= timezone.now() < season.ends_at
    assert season.tiers.count() == 10
    assert_no_overlapping_seasons(game)


def test_a_demo_season_scheduled_later_by_an_operator_is_left_alone():
    seed()
    game = Game.objects.get(slug="demo")
    start, end = timezone.now() + timedelta(days=3), timezone.now() + timedelta(days=30)
    Season.objects.filter(game=game, name=SEASON_NAME).update(starts_at=start, ends_at=end)
    Season.objects.create(
        game=game, name="Season 2", starts_at=end, ends_at=end + timedelta(days=30)
    )

    seed()

    season = Season.objects.get(game=game, name=SEASON_NAME)
    assert (season.starts_at, season.ends_at) == (start, end)
    assert_no_overlapping_seasons(game)
    assert not Season.objects.filter(Q(game=game) & ~Q(name__in=[SEASON_NAME, "Season 2"]))
