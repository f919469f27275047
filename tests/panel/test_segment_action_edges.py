"""Segment actions at their edges: a ban end typed past "until unbanned", and the audit entry of
an undo (which names the players it acts on, not "all players")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL, Player
from apps.accounts.services.bans import ban_player
from apps.audit.models import AuditLogEntry
from apps.panel import services
from apps.panel.models import SegmentAction

pytestmark = pytest.mark.django_db

LAST_DAY_NOON = datetime(9999, 12, 31, 12, tzinfo=UTC)  # after PERMANENT_BAN_UNTIL (00:00)


def url(game) -> str:
    return f"/panel/games/{game.pk}/segment/"


def test_a_segment_ban_ending_past_permanent_keeps_a_permanent_ban_by_hand(operator, game):
    fraud, other = Player.objects.bulk_create(
        [Player(game=game, display_name="fraud"), Player(game=game, display_name="other")]
    )
    ban_player(player=fraud, reason="chargeback fraud", until=None, actor=operator)

    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="ban", filters={},
        reason="spring cleaning", ban_until=LAST_DAY_NOON,
    )  # fmt: skip
    done = services.run_segment_action(action_id=action.pk)

    fraud.refresh_from_db()
    assert (fraud.banned_until, fraud.ban_reason) == (PERMANENT_BAN_UNTIL, "chargeback fraud")
    assert Player.objects.get(pk=other.pk).banned_until == PERMANENT_BAN_UNTIL
    assert (done.changed, done.skipped, done.ban_until) == (1, 1, None)


def test_the_form_reads_a_ban_end_past_permanent_as_until_unbanned(operator_client, game, player):
    form = {
        "kind": "ban", "reason": "spring cleaning", "idempotency_key": "form-1",
        "ban_until": "9999-12-31T12:00",
    }  # fmt: skip
    asked = operator_client.post(url(game), form)
    assert "until unbanned" in asked.content.decode()


def test_an_undo_says_whose_bans_it_lifts_in_the_audit_log(operator, game):
    Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(2)])
    ban, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="b", kind="ban", filters={},
        reason="raid", ban_until=timezone.now() + timedelta(days=3),
    )  # fmt: skip
    ban = services.run_segment_action(action_id=ban.pk)

    undo, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="u", kind="unban", filters={},
        reason="wrong raid", undoes=ban,
    )  # fmt: skip

    entry = AuditLogEntry.objects.get(action="segment.unban")
    assert entry.after["filters"] == f"the players of segment ban #{ban.pk}"
    assert (entry.after["undoes"], entry.after["players"]) == (ban.pk, 2)
    assert SegmentAction.objects.get(pk=undo.pk).filters == {}
