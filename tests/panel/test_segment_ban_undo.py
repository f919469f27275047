"""Undoing a segment ban (docs/panel.md) lifts only the bans that run placed and that are still in
place: each ban's audit entry names the segment run that placed it (its origin), and a player's
last ban or unban entry tells whether the ban they have now is that one. A player the run found
banned as long already (by hand, even permanently with the very same reason) keeps that ban; so
does one banned again since; a shorter ban the run lengthened comes back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL, Player
from apps.accounts.services.bans import ban_player, unban_player
from apps.audit.models import AuditLogEntry
from apps.panel import services
from apps.panel.models import SegmentAction
from gamingpanel.errors import Conflict
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

REASON = "bot wave"


def players(game, count=3):
    return Player.objects.bulk_create(
        [Player(game=game, display_name=f"p{n}") for n in range(count)]
    )


def segment(game, operator, kind, key, **extra):
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key=key, kind=kind, filters={}, **extra
    )
    return services.run_segment_action(action_id=action.pk)


def ban_run(game, operator, **extra):
    return segment(game, operator, "ban", "ban", reason=REASON, **extra)


def undo(game, operator, ban, key="undo"):
    return segment(game, operator, "unban", key, reason="false alarm", undoes=ban)


def bans():
    return {p.pk: (p.banned_until, p.ban_reason) for p in Player.objects.all()}


def hand_ban(player, operator, reason=REASON, until=None):
    ban_player(player=Player.objects.get(pk=player.pk), reason=reason, until=until, actor=operator)


@pytest.mark.django_db
def test_a_plain_segment_unban_lifts_a_ban_it_saw_whoever_set_it(operator, game):
    """What the review asked about: the unban by filter lifts every ban it saw, a permanent ban
    by hand too (it cannot tell it from the segment ban's: same end, same reason). Documented;
    undoing the segment ban is what lifts only that run's bans (below)."""
    fraud, bot = players(game, 2)
    hand_ban(fraud, operator)
    ban_run(game, operator)

    segment(game, operator, "unban", "unban", reason="false alarm")

    assert bans()[fraud.pk] == (None, "")


@pytest.mark.django_db
def test_undoing_a_segment_ban_keeps_a_permanent_ban_by_hand_with_the_same_reason(operator, game):
    fraud, bot, other = players(game)
    hand_ban(fraud, operator)
    ban = ban_run(game, operator)
    assert (ban.changed, ban.skipped) == (2, 1)  # fraud was banned as long already

    done = undo(game, operator, ban)

    assert bans() == {
        fraud.pk: (PERMANENT_BAN_UNTIL, REASON),
        bot.pk: (None, ""),
        other.pk: (None, ""),
    }
    assert (done.status, done.total, done.changed, done.skipped) == ("done", 3, 2, 1)
    assert done.undoes == ban and done.filters == {}
    assert AuditLogEntry.objects.get(action="segment.unban").after["undoes"] == ban.pk


@pytest.mark.django_db
def test_the_bans_audit_entries_name_the_run_that_placed_them(operator, game):
    fraud, bot, _ = players(game)
    hand_ban(fraud, operator)
    ban = ban_run(game, operator)

    entries = AuditLogEntry.objects.filter(action="player.ban")
    assert entries.get(target_id=str(fraud.pk)).after == {
        "banned_until": PERMANENT_BAN_UNTIL.isoformat(),
        "ban_reason": REASON,
    }
    assert entries.get(target_id=str(bot.pk)).after["segment_action"] == ban.pk


@pytest.mark.django_db
def test_a_ban_set_again_by_hand_after_the_run_is_not_undone(operator, game):
    again, unbanned, kept = players(game)
    ban = ban_run(game, operator)
    # Lifted by hand, then banned by hand again: the same end and reason as the run's, but a
    # ban of its own.
    unban_player(player=Player.objects.get(pk=again.pk), actor=operator)
    hand_ban(again, operator)
    unban_player(player=Player.objects.get(pk=unbanned.pk), actor=operator)

    done = undo(game, operator, ban)

    assert bans() == {
        again.pk: (PERMANENT_BAN_UNTIL, REASON),
        unbanned.pk: (None, ""),
        kept.pk: (None, ""),
    }
    assert (done.changed, done.skipped) == (1, 2)


@pytest.mark.django_db
def test_a_shorter_ban_the_run_lengthened_comes_back(operator, game):
    spammer, bot, _ = players(game)
    next_week = timezone.now() + timedelta(days=7)
    hand_ban(spammer, operator, reason="spam", until=next_week)
    ban = ban_run(game, operator)
    assert bans()[spammer.pk] == (PERMANENT_BAN_UNTIL, REASON)

    done = undo(game, operator, ban)

    assert bans()[spammer.pk] == (next_week, "spam")
    assert bans()[bot.pk] == (None, "")
    assert done.changed == 3


@pytest.mark.django_db
def test_an_undo_sent_twice_finds_the_first(operator, game):
    players(game)
    ban = ban_run(game, operator)
    first = undo(game, operator, ban)

    again, created = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="undo", kind="unban", filters={},
        reason="false alarm", undoes=ban,
    )  # fmt: skip

    assert (again, created) == (first, False)


@pytest.mark.django_db
def test_only_a_stopped_segment_ban_of_the_game_is_undone(operator, game, other_game):
    players(game)
    grant_like = segment(game, operator, "unban", "u", reason="x")
    queued, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="q", kind="ban", filters={}, reason=REASON
    )

    def refused(undone, kind="unban", of=game):
        with pytest.raises(Conflict) as refusal:
            services.submit_segment_action(
                game=of, actor=operator, idempotency_key="undo", kind=kind, filters={},
                reason="false alarm", undoes=undone,
            )  # fmt: skip
        return refusal.value.detail

    assert "Only a segment ban" in refused(grant_like)
    assert "still running" in refused(queued)
    done = services.run_segment_action(action_id=queued.pk)
    assert "Only a segment ban" in refused(done, kind="ban")
    assert "another game" in refused(done, of=other_game)
    done.members.all().delete()  # pruned, SEGMENT_MEMBERS_KEPT_DAYS after it finished
    assert "player list was deleted" in refused(done)
    assert not SegmentAction.objects.filter(idempotency_key="undo").exists()


def test_the_ban_page_undoes_it(operator, operator_client, analyst_client, game):
    fraud, bot, _ = players(game)
    hand_ban(fraud, operator)
    ban = ban_run(game, operator)
    url = f"/panel/games/{game.pk}/segment/runs/{ban.pk}/"

    assert analyst_client.post(url, {"undo": "1", "reason": "oops"}).status_code == 403
    no_reason = operator_client.post(url, {"undo": "1", "reason": " "})
    assert no_reason["Location"].endswith(f"/runs/{ban.pk}/")
    assert not SegmentAction.objects.filter(undoes=ban).exists()

    response = operator_client.post(url, {"undo": "1", "reason": "false alarm"})

    done = SegmentAction.objects.get(undoes=ban)
    assert response["Location"].endswith(f"/runs/{done.pk}/")
    assert (done.status, done.changed, done.skipped) == ("done", 2, 1)
    assert bans()[fraud.pk] == (PERMANENT_BAN_UNTIL, REASON)
    assert bans()[bot.pk] == (None, "")
    operator_client.post(url, {"undo": "1", "reason": "false alarm"})  # sent twice
    assert SegmentAction.objects.filter(undoes=ban).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ban_by_hand_waiting_for_the_undos_chunk_is_kept(operator, game, monkeypatch):
    """The undo's chunk locks its players before it reads whose ban is the run's: an operator's
    unban and ban again by hand (same end, same reason) waits, then stays."""
    bot, other = players(game, 2)
    ban = ban_run(game, operator)
    placed_by, raced = services._placed_by, []

    def hand_ban_again_meanwhile(ban_action_id, chunk):
        if not raced:

            def again():
                unban_player(player=Player.objects.get(pk=bot.pk), actor=operator)
                hand_ban(bot, operator)

            raced.append(in_thread(again))
            wait_until_a_statement_waits_for_a_lock()
        return placed_by(ban_action_id, chunk)

    monkeypatch.setattr(services, "_placed_by", hand_ban_again_meanwhile)

    done = undo(game, operator, ban)
    raced[0].result(timeout=10)

    # The undo lifted the run's ban first; the operator's ban by hand came after, and stays.
    assert bans()[bot.pk] == (PERMANENT_BAN_UNTIL, REASON)
    assert bans()[other.pk] == (None, "")
    assert (done.changed, done.skipped) == (2, 0)


def test_a_ban_runs_page_offers_the_undo_and_the_undos_page_names_the_ban(
    operator, operator_client, analyst_client, game
):
    players(game)
    ban = ban_run(game, operator)
    url = f"/panel/games/{game.pk}/segment/runs/{ban.pk}/"

    page = operator_client.get(url).content.decode()
    assert 'id="segment-undo"' in page and 'name="undo"' in page
    assert 'id="segment-undo"' not in analyst_client.get(url).content.decode()

    operator_client.post(url, {"undo": "1", "reason": "false alarm"})
    done = SegmentAction.objects.get(undoes=ban)
    undo_page = operator_client.get(f"/panel/games/{game.pk}/segment/runs/{done.pk}/")
    text = undo_page.content.decode()
    assert f"segment ban #{ban.pk}" in text and 'id="segment-undo"' not in text
