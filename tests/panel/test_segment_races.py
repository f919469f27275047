"""Two workers running the same segment action at once (a re-queue while it runs) take turns
chunk by chunk on PostgreSQL: every player is granted exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from apps.accounts.models import Player
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.inventory.services import Change
from apps.panel import services
from apps.panel.models import SegmentAction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_thread(action_id: int) -> str:
    try:
        return services.run_segment_action(action_id=action_id).status
    finally:
        connection.close()


def test_concurrent_runs_of_one_action_grant_each_player_once(game, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 7)
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(60)])
    operator = get_user_model().objects.create_user(username="ops")
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="race", kind="grant", filters={},
        reason="outage", change=Change("currency", "gold", 5),
    )  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(run_in_thread, [action.pk] * 4))

    assert statuses == ["done"] * 4
    action.refresh_from_db()
    assert (action.processed, action.changed, action.skipped) == (60, 60, 0)
    assert LedgerEntry.objects.filter(currency=gold).count() == 60
    assert set(Wallet.objects.filter(currency=gold).values_list("balance", flat=True)) == {5}
    assert SegmentAction.objects.count() == 1
