"""The data export reads one snapshot: on PostgreSQL, with a real commit from another connection
between two sections' reads, what was committed meanwhile is in no section, and the export's
rate-limit budget is spent as before (apps.accounts.privacy.export_player_data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts import privacy
from apps.accounts.models import AuthSession, Game, Player
from apps.accounts.privacy import export_player_data
from apps.analytics.models import PlayerDay
from apps.audit.services import record_action
from apps.inventory.models import Currency
from apps.inventory.services import Change, apply_changes
from apps.leaderboards.models import Board
from apps.leaderboards.services.submit import submit_score
from apps.payments.models import Payment
from apps.shop.models import Offer, Purchase
from tests.accounts.test_privacy import EXPORT
from tests.accounts.test_privacy_export import paid_purchase
from tests.conftest import in_thread
from tests.shop.conftest import access_token, bearer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(game: Game) -> Offer:
    Currency.objects.create(game=game, code="gems", name="Gems")
    Board.objects.create(game=game, slug="high", name="High")
    return Offer.objects.create(
        game=game, name="Gem pack", real_money=True, price_currency="EUR", price_amount=199
    )


def buy(player: Player, offer: Offer, n: int) -> None:
    """A paid purchase and all it leaves about the player, in one transaction, elsewhere."""
    with transaction.atomic():
        purchase = paid_purchase(
            player,
            offer,
            purchase_status=Purchase.Status.COMPLETED,
            provider="stripe",
            external_id=f"cs_{n}",
            status=Payment.Status.SUCCEEDED,
        )
        apply_changes(
            player=player,
            changes=[Change("currency", "gems", 100)],
            reason="purchase",
            idempotency_key=f"purchase:{purchase.pk}",
        )
        AuthSession.objects.create(
            game=player.game,
            player=player,
            platform="dev",
            expires_at=timezone.now() + timedelta(days=1),
        )
        PlayerDay.objects.create(game_id=player.game_id, player_id=player.pk, day=date(2026, 1, n))
        submit_score(
            board=Board.objects.get(game=player.game),
            player_id=player.pk,
            score=n,
            submission_id=f"s{n}",
        )
        record_action(
            actor=None, game=player.game, action="player.ban", target=player, reason=f"r{n}"
        )


def counted(data: dict) -> dict[str, int]:
    return {
        "sessions": len(data["sessions"]),
        "ledger": len(data["inventory"]["ledger"]),
        "purchases": len(data["shop"]["purchases"]),
        "payments": len(data["payments"]),
        "submissions": len(data["leaderboards"]["submissions"]),
        "days": len(data["analytics"]["days"]),
        "audit_log": len(data["audit_log"]),
    }


def commit_after_first_section(monkeypatch, commit: Callable[[], None]) -> list[tuple]:
    """The first app section's export, then `commit` on another connection (waited for), once;
    answers what the export's own transaction said of itself then."""
    first = privacy.privacy_sections()[0]
    seen: list[tuple] = []

    def export_then_commit(player: Player) -> object:
        exported = first.export(player)
        if not seen:
            with connection.cursor() as cursor:
                cursor.execute("SHOW transaction_isolation")
                isolation = cursor.fetchone()[0]
                cursor.execute("SHOW transaction_read_only")
                seen.append((isolation, cursor.fetchone()[0]))
            in_thread(commit).result(timeout=30)
        return exported

    monkeypatch.setitem(
        privacy._sections,
        first.name,
        privacy.PrivacySection(name=first.name, export=export_then_commit),
    )
    return seen


def test_a_purchase_committed_during_the_export_is_in_no_section(game, shop, monkeypatch):
    player = Player.objects.create(game=game, display_name="alice")
    buy(player, shop, 1)
    seen = commit_after_first_section(monkeypatch, lambda: buy(player, shop, 2))

    during = export_player_data(player)
    after = export_player_data(player)

    assert seen == [("repeatable read", "on")]
    assert counted(during) == dict.fromkeys(counted(during), 1)
    assert counted(after) == dict.fromkeys(counted(after), 2)


def test_the_api_export_reads_one_snapshot_and_spends_one_export_each(
    game, shop, monkeypatch, settings
):
    player = Player.objects.create(game=game, display_name="alice")
    client = bearer(access_token(player))
    buy(player, shop, 1)
    commit_after_first_section(monkeypatch, lambda: buy(player, shop, 2))

    during, after = client.get(EXPORT), client.get(EXPORT)

    assert during.status_code == after.status_code == 200
    limit = settings.DATA_EXPORTS_PER_HOUR
    assert [during["RateLimit-Limit"], during["RateLimit-Remaining"]] == [
        str(limit),
        str(limit - 1),
    ]
    assert after["RateLimit-Remaining"] == str(limit - 2)
    assert [p["external_id"] for p in during.json()["payments"]] == ["cs_1"]
    assert [p["external_id"] for p in after.json()["payments"]] == ["cs_1", "cs_2"]
    assert len(during.json()["shop"]["purchases"]) == 1
