"""A segment unban lifts only the ban it saw: its end and its reason, both written down when the
action was submitted (docs/panel.md). Every permanent ban ends at the same moment, so another
operator's permanent ban set since with a new reason ("aimbot confirmed") is told apart by its
reason only: it stays. Members written down before the reason was kept (its column NULL) are
compared by the end alone, as they were then."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL, Player
from apps.accounts.services.bans import ban_player
from apps.panel import services
from apps.panel.models import SegmentMember
from tests.conftest import in_thread


def banned_bots(game, operator, count=2):
    players = Player.objects.bulk_create(
        [Player(game=game, display_name=f"bot{n}") for n in range(count)]
    )
    for player in players:
        ban_player(player=player, reason="bot wave", until=None, actor=operator)
    return players


def submit_unban(game, operator):
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="unban", filters={},
        reason="false alarm",
    )  # fmt: skip
    return action


def bans():
    return {p.pk: (p.banned_until, p.ban_reason) for p in Player.objects.all()}


@pytest.mark.django_db
def test_the_members_ban_reasons_are_written_down(operator, game):
    bot, other = banned_bots(game, operator)
    free = Player.objects.create(game=game, display_name="free")

    action = submit_unban(game, operator)

    frozen = dict(
        SegmentMember.objects.filter(action=action).values_list("player_id", "ban_reason")
    )
    assert frozen == {bot.pk: "bot wave", other.pk: "bot wave", free.pk: ""}


@pytest.mark.django_db
def test_a_permanent_ban_set_again_with_another_reason_is_not_lifted(operator, game):
    bot, other = banned_bots(game, operator)
    action = submit_unban(game, operator)
    ban_player(
        player=Player.objects.get(pk=bot.pk),
        reason="aimbot confirmed",
        until=None,
        actor=operator,
    )  # another operator, after the submit

    done = services.run_segment_action(action_id=action.pk)

    assert bans()[bot.pk] == (PERMANENT_BAN_UNTIL, "aimbot confirmed")
    assert bans()[other.pk] == (None, "")
    assert (done.changed, done.skipped) == (1, 1)


@pytest.mark.django_db
def test_members_frozen_before_reasons_were_kept_compare_the_end_only(operator, game):
    bot, other, timed = banned_bots(game, operator, count=3)
    action = submit_unban(game, operator)
    SegmentMember.objects.filter(action=action).update(ban_reason=None)  # as before 0007
    ban_player(
        player=Player.objects.get(pk=bot.pk),
        reason="aimbot confirmed",
        until=None,
        actor=operator,
    )
    next_week = timezone.now() + timedelta(days=7)
    ban_player(
        player=Player.objects.get(pk=timed.pk), reason="spam", until=next_week, actor=operator
    )

    done = services.run_segment_action(action_id=action.pk)

    # The same end: the ban it saw, as far as such a member tells (lifted, as before the fix);
    # another end: not the ban it saw.
    assert bans()[bot.pk] == (None, "")
    assert bans()[other.pk] == (None, "")
    assert bans()[timed.pk] == (next_week, "spam")
    assert (done.changed, done.skipped) == (2, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_permanent_ban_set_again_while_the_chunk_runs_is_not_lifted(operator, game, monkeypatch):
    bot, other = banned_bots(game, operator)
    action = submit_unban(game, operator)
    change_of, raced = services._change_of, []

    def another_operator_bans_bot_again_meanwhile(action):
        # After the chunk has read its players (the ban it saw, unchanged), before it lifts
        # their bans: another operator's permanent ban, with a new reason, commits on its own
        # connection. Only the re-read under the player's lock can see it.
        if not raced:
            raced.append(True)
            in_thread(
                lambda: ban_player(
                    player=Player.objects.get(pk=bot.pk),
                    reason="aimbot confirmed",
                    until=None,
                    actor=operator,
                )
            ).result(timeout=10)
        return change_of(action)

    monkeypatch.setattr(services, "_change_of", another_operator_bans_bot_again_meanwhile)

    done = services.run_segment_action(action_id=action.pk)

    assert raced
    assert bans()[bot.pk] == (PERMANENT_BAN_UNTIL, "aimbot confirmed")
    assert bans()[other.pk] == (None, "")
    assert (done.status, done.changed, done.skipped) == ("done", 1, 1)
