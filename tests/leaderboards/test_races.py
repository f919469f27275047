"""Races on PostgreSQL with real threads: concurrent submissions for one player keep the best,
concurrent closes pay each reward once, and scores arriving while a period closes each land in
exactly one period."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import timedelta

import pytest
from django.db import connection, transaction

from apps.inventory import demo as inventory_demo
from apps.inventory.models import LedgerEntry, Wallet
from apps.leaderboards import index
from apps.leaderboards.errors import PlayerBanned
from apps.leaderboards.models import BracketReward, Entry, Payout, Period, Submission
from apps.leaderboards.selectors import player_entry
from apps.leaderboards.services.payouts import pay_period
from apps.leaderboards.services.periods import close_period
from apps.leaderboards.services.submit import submit_score
from tests.conftest import wait_until_a_statement_waits_for_a_lock
from tests.leaderboards.conftest import current

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_thread(work):
    def run(arg):
        try:
            return work(arg)
        finally:
            connection.close()  # each thread opened its own

    return run


def test_concurrent_submissions_for_one_player_keep_the_best(board, player):
    values = [17, 99, 3, 64, 99, 12, 88, 41, 99, 5, 70, 23, 56, 91, 8, 99]

    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                in_thread(
                    lambda n: submit_score(
                        board=board, player_id=player.pk, score=values[n], submission_id=f"s{n}"
                    )
                ),
                range(len(values)),
            )
        )

    entry = Entry.objects.get(player=player)
    assert (entry.score, entry.rank_key) == (99, -99)
    assert Submission.objects.count() == len(values)
    # One 99 set reached_at (its arrival); the equal ones after it did not move it.
    assert entry.reached_at in set(
        Submission.objects.filter(score=99).values_list("created_at", flat=True)
    )
    if index._client() is not None:
        members = index._client().zrange(index.Keys.of(entry.period_id).members, 0, -1)
        assert len(members) == 1
        assert player_entry(period=current(board), player_id=player.pk).rank == 1


def test_concurrent_sums_for_one_player_add_up(make_board, player):
    totals = make_board("total", operator="sum")

    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                in_thread(
                    lambda n: submit_score(
                        board=totals, player_id=player.pk, score=n, submission_id=f"s{n}"
                    )
                ),
                range(1, 41),
            )
        )

    assert Entry.objects.get(player=player).score == sum(range(1, 41))


def test_concurrent_closes_pay_out_once(board, game, make_players):
    inventory_demo.seed(game)
    BracketReward.objects.create(
        board=board, rank_from=1, rank_to=5, contents=[{"currency": "gold", "quantity": 10}]
    )
    players = make_players(8)
    for n, p in enumerate(players):
        submit_score(board=board, player_id=p.pk, score=n, submission_id=f"s{n}")
    period = current(board)

    def close_and_pay(n: int) -> None:
        if n % 2:
            close_period(period_id=period.pk)  # queues pay_period (eager here) on commit
        else:
            try:
                pay_period(period_id=period.pk)
            except Exception as error:  # still open when this one looked: fine
                assert getattr(error, "code", "") == "period_not_closed"

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(in_thread(close_and_pay), range(16)))
    pay_period(period_id=period.pk)

    assert Period.objects.filter(board=board).count() == 2
    assert Payout.objects.filter(period=period).count() == 5
    assert LedgerEntry.objects.filter(reason="leaderboard_reward").count() == 5
    assert (
        sorted(Wallet.objects.filter(currency__code="gold").values_list("balance", flat=True))
        == [10] * 5
    )
    paid = {w.player_id for w in Wallet.objects.filter(currency__code="gold", balance=10)}
    assert paid == {p.pk for p in players[3:]}


def test_scores_arriving_while_the_period_closes_land_in_exactly_one_period(board, make_players):
    players = make_players(30)
    first = current(board)

    def submit(n: int) -> int:
        if n == 10:
            close_period(period_id=first.pk)
            return 0
        return submit_score(
            board=board, player_id=players[n].pk, score=n, submission_id=f"s{n}"
        ).period_id

    with ThreadPoolExecutor(8) as pool:
        landed = list(pool.map(in_thread(submit), range(30)))

    following = Period.objects.get(board=board, state="open")
    for n, period_id in enumerate(landed):
        if n == 10:
            continue
        entries = list(Entry.objects.filter(player=players[n]).values_list("period_id", flat=True))
        assert entries == [period_id]
        assert period_id in (first.pk, following.pk)
        submission = Submission.objects.get(submission_id=f"s{n}")
        assert submission.period_id == period_id
    # Every entry of the closed period was committed before it closed.
    closed = Period.objects.get(pk=first.pk)
    assert not Submission.objects.filter(period=closed, created_at__gt=closed.closed_at).exists()


def test_two_transactions_that_find_the_period_due_both_land_in_the_next(
    make_board, make_players, monkeypatch
):
    """Two match results, each in its own transaction, reach a period past its end: each asks
    to close it (FOR UPDATE). Neither holds it FOR SHARE meanwhile, so they close it in turn
    instead of waiting for each other until PostgreSQL aborts one as a deadlock."""
    from apps.leaderboards.services import submit

    board = make_board("daily", reset="daily")
    due = current(board)
    Period.objects.filter(pk=due.pk).update(ends_at=due.starts_at + timedelta(microseconds=1))
    players = make_players(2)
    both_at_the_close = threading.Barrier(2, timeout=5)
    real_close = submit.close_period

    def close_when_both_are_here(*, period_id: int, **kwargs):
        if period_id == due.pk:
            with suppress(threading.BrokenBarrierError):
                both_at_the_close.wait()
        return real_close(period_id=period_id, **kwargs)

    monkeypatch.setattr(submit, "close_period", close_when_both_are_here)

    def result_of(player):
        with transaction.atomic():  # a match result's transaction around its board scores
            return submit_score(
                board=board, player_id=player.pk, score=10, submission_id=f"m1:{player.pk}"
            )

    with ThreadPoolExecutor(2) as pool:
        landed = list(pool.map(in_thread(result_of), players))

    following = Period.objects.get(board=board, state="open")
    assert {result.period_id for result in landed} == {following.pk}
    assert Period.objects.get(pk=due.pk).state == "closed"
    assert Entry.objects.filter(period=following).count() == 2


def test_a_period_ending_in_the_middle_of_two_match_results_deadlocks_neither(
    make_board, make_players, game, monkeypatch
):
    """Two match results, each scoring two players of a stat board in its own transaction; the
    period ends after each has scored its first player. Each match's scores count at its own
    moment, so the second player lands where the first did, and neither match asks to close a
    period it holds shared (which deadlocked: both held it FOR SHARE, both asked FOR UPDATE)."""
    from django.utils import timezone

    from apps.leaderboards.services import stat_boards
    from apps.stats.models import StatDefinition

    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    board = make_board("kills", reset="daily", source="stat", stat_key="kills")
    period = current(board)
    # Time for both matches to start and score their first player, on a busy machine too.
    ends = timezone.now() + timedelta(seconds=2)
    Period.objects.filter(pk=period.pk).update(ends_at=ends)
    stat_boards._stat_boards.clear()
    players = make_players(4)
    first_scored = threading.Barrier(2, timeout=10)
    real_submit = stat_boards.submit_score

    def submit_then_wait_past_the_end(**kwargs):
        result = real_submit(**kwargs)
        if kwargs["player_id"] in (players[0].pk, players[2].pk):  # each match's first player
            with suppress(threading.BrokenBarrierError):
                first_scored.wait()
            while timezone.now() <= ends:  # the end passes between its two players
                threading.Event().wait(0.05)
        return result

    monkeypatch.setattr(stat_boards, "submit_score", submit_then_wait_past_the_end)

    def match(pair):
        first, second = pair
        with transaction.atomic():
            stat_boards.record_match_stats(
                game_id=game.pk,
                match_id=f"m-{first.pk}",
                stats_by_player={first.pk: {"kills": 3}, second.pk: {"kills": 4}},
                recorded_at=timezone.now(),
            )

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(in_thread(match), [(players[0], players[1]), (players[2], players[3])]))

    # Both matches recorded, each whole in the period they began in.
    assert Entry.objects.filter(period_id=period.pk).count() == 4


@pytest.mark.redis
@pytest.mark.parametrize("first_score", [True, False], ids=["first-entry", "existing-entry"])
def test_a_score_sent_while_a_ban_commits_never_keeps_the_banned_player_in_the_index(
    make_board, make_players, first_score
):
    """A submission that begins while the ban's transaction is still open once wrote the entry
    and applied it to the index after the ban's removal, and the banned player kept his rank for
    good. It now locks the player's row first (against an erasure too): it waits for the ban's
    commit and is refused, and the banned player is left out."""
    from apps.accounts.services.bans import ban_player
    from apps.leaderboards.services.ranking import rebuild_index

    board = make_board("high")
    other = make_board("other")
    cheat, honest = make_players(2)
    submit_score(board=board, player_id=honest.pk, score=20, submission_id="h")
    submit_score(board=other, player_id=honest.pk, score=20, submission_id="h")
    submit_score(board=board, player_id=cheat.pk, score=10, submission_id="c")
    target = other if first_score else board  # no entry of the cheat there yet, or one
    period = current(target)
    rebuild_index(period_id=period.pk)
    banned_in_transaction = threading.Event()

    def ban(_: int) -> None:
        with transaction.atomic():
            ban_player(player=cheat, reason="cheating", until=None, actor=None)
            banned_in_transaction.set()
            # The score below has begun, its clock read after all of the ban's work: it wrote
            # the entry and waits for the player row (its foreign key's check). Commit now.
            wait_until_a_statement_waits_for_a_lock()

    def score(_: int) -> None:
        assert banned_in_transaction.wait(10)
        # The submission locks the player's row (FOR SHARE, as it does against an erasure):
        # it waits for the ban to commit, then finds the player banned and records nothing.
        with pytest.raises(PlayerBanned):
            submit_score(board=target, player_id=cheat.pk, score=99, submission_id="late")

    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(in_thread(ban), 0), pool.submit(in_thread(score), 0)]:
            done.result()

    assert not Entry.objects.filter(period=period, player=cheat, score=99).exists()
    assert index.left_out(period.pk, [cheat.pk, honest.pk]) == {cheat.pk}
    assert player_entry(period=current(target), player_id=honest.pk).rank == 1


def test_a_match_written_while_its_period_closes_counts_in_the_next_from_its_start(
    make_board, make_players, game
):
    """A match's moment is read before the close; its stat scores are written while the close
    holds the period FOR UPDATE, so they wait, then find it closed. They count in the next
    period from its start (they used to carry the match's moment, before that start), and the
    closed period pays for its own scores only."""
    from django.utils import timezone

    from apps.leaderboards.services import stat_boards
    from apps.stats.models import StatDefinition

    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    inventory_demo.seed(game)
    board = make_board("kills", reset="daily", source="stat", stat_key="kills")
    BracketReward.objects.create(
        board=board, rank_from=1, rank_to=1, contents=[{"currency": "gold", "quantity": 10}]
    )
    stat_boards._stat_boards.clear()
    early, late_a, late_b = make_players(3)
    submit_score(board=board, player_id=early.pk, score=3, submission_id="m0", via_stat=True)
    first = current(board)
    both_started = threading.Barrier(2, timeout=10)
    close_locked = threading.Event()

    def close(_: int) -> None:
        both_started.wait()
        with transaction.atomic():
            Period.objects.select_for_update().get(pk=first.pk)  # the close's lock, held
            close_locked.set()
            wait_until_a_statement_waits_for_a_lock()  # the match's first score, on it
            close_period(period_id=first.pk)  # pays on commit (tasks run eagerly here)

    def match(_: int):
        with transaction.atomic():  # the match result's transaction
            recorded_at = timezone.now()
            both_started.wait()
            assert close_locked.wait(10)
            stat_boards.record_match_stats(
                game_id=game.pk,
                match_id="late",
                stats_by_player={late_a.pk: {"kills": 5}, late_b.pk: {"kills": 2}},
                recorded_at=recorded_at,
            )
        return recorded_at

    with ThreadPoolExecutor(2) as pool:
        closing = pool.submit(in_thread(close), 0)
        recording = pool.submit(in_thread(match), 0)
        closing.result()
        recorded_at = recording.result()

    pay_period(period_id=first.pk)  # once more: changes nothing
    following = Period.objects.get(board=board, state="open")
    assert recorded_at < following.starts_at
    assert list(Entry.objects.filter(period=first).values_list("player_id", "score")) == [
        (early.pk, 3)
    ]
    assert list(Payout.objects.values_list("period_id", "player_id", "rank")) == [
        (first.pk, early.pk, 1)
    ]
    assert list(
        Entry.objects.filter(period=following)
        .order_by("player")
        .values_list("player_id", "score", "reached_at")
    ) == [(late_a.pk, 5, following.starts_at), (late_b.pk, 2, following.starts_at)]
