"""The daily prunes of cloud save run whatever they meet: a retention setting
(CLOUDSAVE_TOMBSTONE_DAYS, CLOUDSAVE_RECEIPT_DAYS) so long that it reaches back past the
calendar's first day keeps everything (the subtraction failed every run with an OverflowError),
and a player's count of documents short of what they hold ends at 0 (it failed the usage
table's check, and the prune stopped there every night)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.cloudsave.models import Document, SaveReceipt, SaveUsage
from apps.cloudsave.services import prune_receipts, prune_tombstones
from apps.cloudsave.tasks import prune_receipts as receipts_task
from apps.cloudsave.tasks import prune_tombstones as tombstones_task
from tests.cloudsave.conftest import URL, create

pytestmark = pytest.mark.django_db
PAST_THE_CALENDAR = 1_000_000  # days: about 2,700 years, more than now reaches back


def test_tombstones_kept_longer_than_the_calendar_are_never_due(alice, player, settings):
    settings.CLOUDSAVE_TOMBSTONE_DAYS = PAST_THE_CALENDAR
    create(alice, "slot1", 1)
    assert alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"1"').status_code == 204
    Document.objects.filter(player=player).update(
        updated_at=timezone.now() - timedelta(days=365 * 50)
    )

    assert prune_tombstones() == 0
    assert tombstones_task.apply().get() == 0

    assert Document.objects.filter(player=player, key="slot1", deleted=True).exists()


def test_receipts_kept_longer_than_the_calendar_are_never_due(alice, settings):
    settings.CLOUDSAVE_RECEIPT_DAYS = PAST_THE_CALENDAR
    create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY="old")
    SaveReceipt.objects.update(created_at=timezone.now() - timedelta(days=365 * 50))

    assert prune_receipts() == 0
    assert receipts_task.apply().get() == 0

    assert SaveReceipt.objects.count() == 1


def test_a_count_short_of_the_players_documents_never_stops_the_prune(
    alice, bob, player, bob_player, settings
):
    """A player's count of documents may be short of what they hold: a process of the release
    before the count was kept (cloudsave.0004) made documents while the migration counted. The
    prune's uncount then went below 0, the usage table's check failed the batch every night,
    and no tombstone after it was ever pruned."""
    settings.CLOUDSAVE_TOMBSTONE_DAYS = 30
    for client in (alice, bob):
        for key in ("a", "b"):
            create(client, key, 1)
            assert client.delete(f"{URL}/{key}", HTTP_IF_MATCH='"1"').status_code == 204
    SaveUsage.objects.filter(player=player).update(documents=1)  # two documents, one counted
    Document.objects.update(updated_at=timezone.now() - timedelta(days=31))

    assert prune_tombstones(batch=1) == 4

    assert not Document.objects.exists()
    usage = {row.player_id: row for row in SaveUsage.objects.all()}
    assert (usage[player.pk].documents, usage[player.pk].pruned_version) == (0, 2)
    assert (usage[bob_player.pk].documents, usage[bob_player.pk].pruned_version) == (0, 2)
    # The pruned versions still hold: the key again starts above them.
    assert create(alice, "a", 2).json()["version"] == 3
