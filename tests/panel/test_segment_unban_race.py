"""A segment unban lifts a player's ban only if it is still the one the player had when the action
was submitted (docs/panel.md), also when another operator bans the player again while the run's
chunk is under way: the chunk read its players unlocked, and that read is not the ban it lifts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.panel import services
from tests.conftest import in_thread

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_ban_set_while_the_chunk_runs_is_not_lifted(operator, game, monkeypatch):
    bot, other = Player.objects.bulk_create(
        [Player(game=game, display_name="bot"), Player(game=game, display_name="other")]
    )
    for player in (bot, other):
        ban_player(player=player, reason="bot wave", until=None, actor=operator)
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="unban", filters={},
        reason="false alarm",
    )  # fmt: skip
    next_week = timezone.now() + timedelta(days=7)
    change_of, raced = services._change_of, []

    def another_operator_bans_bot_meanwhile(action):
        # After the chunk has read its players, before it lifts their bans: another operator's
        # ban commits (on its own connection).
        if not raced:
            raced.append(True)
            in_thread(
                lambda: ban_player(
                    player=Player.objects.get(pk=bot.pk),
                    reason="aimbot",
                    until=next_week,
                    actor=operator,
                )
            ).result(timeout=10)
        return change_of(action)

    monkeypatch.setattr(services, "_change_of", another_operator_bans_bot_meanwhile)

    done = services.run_segment_action(action_id=action.pk)

    bans = {p.pk: (p.banned_until, p.ban_reason) for p in Player.objects.all()}
    assert bans[bot.pk] == (next_week, "aimbot")
    assert bans[other.pk] == (None, "")
    assert (done.status, done.changed, done.skipped) == ("done", 1, 1)
