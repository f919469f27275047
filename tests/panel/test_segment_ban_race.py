"""A segment ban leaves a player banned as long or longer with that ban, counted as skipped
(docs/panel.md), also when another operator's longer ban commits while the run's chunk is under
way: the chunk read its players unlocked, ban_player keeps the longer ban under the player's
lock, and the action does not count that player as changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL, Player
from apps.accounts.services.bans import ban_player
from apps.audit.models import AuditLogEntry
from apps.panel import services
from tests.conftest import in_thread

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_longer_ban_set_while_the_chunk_runs_is_kept_and_counted_skipped(
    operator, game, monkeypatch
):
    bot, other = Player.objects.bulk_create(
        [Player(game=game, display_name="bot"), Player(game=game, display_name="other")]
    )
    next_week = timezone.now() + timedelta(days=7)
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="ban", filters={},
        reason="spam wave", ban_until=next_week,
    )  # fmt: skip
    change_of, raced = services._change_of, []

    def another_operator_bans_bot_for_good_meanwhile(action):
        # After the chunk has read its players, before it bans them: another operator's
        # permanent ban commits (on its own connection).
        if not raced:
            raced.append(True)
            in_thread(
                lambda: ban_player(
                    player=Player.objects.get(pk=bot.pk),
                    reason="chargeback fraud",
                    until=None,
                    actor=operator,
                )
            ).result(timeout=10)
        return change_of(action)

    monkeypatch.setattr(services, "_change_of", another_operator_bans_bot_for_good_meanwhile)

    done = services.run_segment_action(action_id=action.pk)

    bans = {p.pk: (p.banned_until, p.ban_reason) for p in Player.objects.all()}
    assert bans[bot.pk] == (PERMANENT_BAN_UNTIL, "chargeback fraud")
    assert bans[other.pk] == (next_week, "spam wave")
    assert (done.status, done.processed, done.changed, done.skipped) == ("done", 2, 1, 1)
    # The counts say what the audit log says: one player banned by the action.
    segment_bans = AuditLogEntry.objects.filter(action="player.ban", reason="spam wave")
    assert list(segment_bans.values_list("target_id", flat=True)) == [str(other.pk)]
