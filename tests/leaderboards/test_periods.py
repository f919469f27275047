"""Periods reset on schedule in the board's time zone; closing (by the beat task or "end now")
opens the next, a later score lands there, standings of the closed period stay readable, and
bracket rewards are paid once through the ledger; the dry run writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.audit.models import AuditLogEntry
from apps.battlepass.models import Season
from apps.inventory import demo as inventory_demo
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.leaderboards.models import Board, BracketReward, Entry, Payout, Period
from apps.leaderboards.schedule import window_at
from apps.leaderboards.services.payouts import (
    PAYOUT_GRACE,
    brackets_of,
    pay_period,
    periods_to_pay,
    preview_payouts,
)
from apps.leaderboards.services.periods import close_due_periods, close_period
from apps.leaderboards.services.submit import submit_score
from apps.leaderboards.tasks import close_due_periods as close_due_task
from apps.leaderboards.tasks import pay_unpaid_periods
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("reset", "zone", "moment", "start", "end"),
    [
        ("daily", "UTC", "2026-03-10T15:00:00+00:00", "2026-03-10T00:00:00+00:00", "2026-03-11T00:00:00+00:00"),
        ("daily", "Asia/Tokyo", "2026-03-10T15:30:00+00:00", "2026-03-10T15:00:00+00:00", "2026-03-11T15:00:00+00:00"),
        ("weekly", "Europe/Madrid", "2026-03-12T10:00:00+00:00", "2026-03-08T23:00:00+00:00", "2026-03-15T23:00:00+00:00"),
        ("monthly", "America/New_York", "2026-03-31T12:00:00+00:00", "2026-03-01T05:00:00+00:00", "2026-04-01T04:00:00+00:00"),
        ("monthly", "UTC", "2026-12-31T23:59:00+00:00", "2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"),
    ],
)  # fmt: skip
def test_reset_windows_follow_midnight_in_the_boards_time_zone(
    make_board, reset, zone, moment, start, end
):
    board = make_board(reset=reset, time_zone=zone)

    window = window_at(board, at(moment))

    assert (window.starts_at, window.ends_at) == (at(start), at(end))


def test_a_season_board_runs_with_the_battle_pass_season(make_board, game):
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5)
    )
    board = make_board(reset=Board.Reset.SEASON)

    period = current(board)

    assert (period.starts_at, period.ends_at, period.season) == (
        season.starts_at,
        season.ends_at,
        season,
    )


def test_a_season_scheduled_later_ends_the_open_ended_period_when_it_starts(
    make_board, make_players, game
):
    board = make_board(reset=Board.Reset.SEASON)
    (a,) = make_players(1)
    between = current(board)
    assert (between.season, between.ends_at) == (None, None)  # no season: open-ended

    starts = timezone.now() + timedelta(days=2)
    season = Season.objects.create(
        game=game, name="S1", starts_at=starts, ends_at=starts + timedelta(days=30)
    )

    between.refresh_from_db()
    assert between.ends_at == season.starts_at
    season.starts_at = starts + timedelta(days=1)  # postponed: the wait follows it
    season.save()
    between.refresh_from_db()
    assert between.ends_at == season.starts_at
    # When it starts, the next score closes the wait and lands in the season's period.
    Season.objects.filter(pk=season.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    Period.objects.filter(pk=between.pk).update(
        starts_at=timezone.now() - timedelta(days=3), ends_at=timezone.now() - timedelta(minutes=1)
    )
    (late,) = scores(board, [(a, 5)])
    running = Period.objects.get(pk=late.period_id)
    assert running.number == 2 and running.season == season
    assert running.ends_at == season.ends_at


def test_a_season_that_already_runs_when_created_ends_the_wait_now(make_board, make_players, game):
    board = make_board(reset=Board.Reset.SEASON)
    (a,) = make_players(1)
    scores(board, [(a, 5)])
    between = current(board)
    now = timezone.now()

    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=9)
    )

    between.refresh_from_db()
    assert now <= between.ends_at <= timezone.now()  # due: its scores stay in it
    (later,) = scores(board, [(a, 7)], prefix="later")
    assert later.period_number == 2 and Period.objects.get(pk=later.period_id).season == season
    assert Entry.objects.get(period=between, player=a).score == 5


def test_a_seasons_period_follows_its_season_moved_or_deleted(make_board, game):
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5)
    )
    board = make_board(reset=Board.Reset.SEASON)
    running = current(board)

    season.ends_at = now + timedelta(days=8)  # extended
    season.save()
    running.refresh_from_db()
    assert running.ends_at == season.ends_at

    season.ends_at = now - timedelta(hours=1)  # cut short into the past: due now
    season.save()
    running.refresh_from_db()
    due_at = running.ends_at
    assert now <= due_at <= timezone.now()

    season.name = "S1, renamed"  # a due period keeps its end, whatever else is saved
    season.save()
    running.refresh_from_db()
    assert running.ends_at == due_at

    season.delete()  # nothing scheduled any more: the next period runs until one is
    assert close_due_periods() == 1
    following = current(board)
    assert (following.number, following.season, following.ends_at) == (2, None, None)


def test_a_running_season_moved_to_start_later_ends_its_period_now(make_board, game):
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5)
    )
    board = make_board(reset=Board.Reset.SEASON)
    running = current(board)
    assert running.season == season

    season.starts_at = now + timedelta(days=1)  # postponed: it has not begun after all
    season.save()
    running.refresh_from_db()
    assert now <= running.ends_at <= timezone.now()
    assert close_due_periods() == 1
    wait = current(board)
    assert (wait.season, wait.starts_at, wait.ends_at) == (None, running.ends_at, season.starts_at)


def test_seasons_move_no_other_board(make_board, game, other_game):
    daily = make_board(slug="daily", reset=Board.Reset.DAILY)
    elsewhere = make_board(slug="elsewhere", reset=Board.Reset.SEASON, game=other_game)
    before = (current(daily).ends_at, current(elsewhere).ends_at)
    now = timezone.now()

    Season.objects.create(
        game=game, name="S1", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=5)
    )

    assert (current(daily).ends_at, current(elsewhere).ends_at) == before


def test_the_beat_task_closes_due_periods_and_a_later_score_lands_in_the_next(
    make_board, make_players, django_capture_on_commit_callbacks
):
    board = make_board(reset=Board.Reset.DAILY)
    a, b = make_players(2)
    scores(board, [(a, 10)])
    first = current(board)
    Period.objects.filter(pk=first.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert close_due_task() == 1
    assert close_due_periods() == 0
    scores(board, [(b, 20)], prefix="later")

    first.refresh_from_db()
    following = current(board)
    assert first.state == "closed" and first.closed_by == "schedule"
    assert following.number == 2 and following.starts_at == first.ends_at
    assert list(Entry.objects.filter(period=first).values_list("player", flat=True)) == [a.pk]
    assert list(Entry.objects.filter(period=following).values_list("player", flat=True)) == [b.pk]


def missed_days(board: Board, days: int) -> Period:
    """The board's open period began `days` + 1 days ago and ended `days` days ago: the beat
    closed nothing since, so one daily window per missed day is due."""
    first = current(board)
    now = timezone.now()
    Period.objects.filter(pk=first.pk).update(
        starts_at=now - timedelta(days=days + 1), ends_at=now - timedelta(days=days)
    )
    return first


def test_a_score_after_several_missed_windows_closes_each_then_lands_in_the_current(
    make_board, make_players
):
    board = make_board(reset=Board.Reset.DAILY)
    (a,) = make_players(1)
    missed_days(board, 5)

    (late,) = scores(board, [(a, 20)], prefix="late")

    periods = list(Period.objects.filter(board=board).order_by("number"))
    assert late.period_number == periods[-1].number == 7  # 1, then one per missed day, then today
    assert [p.state for p in periods] == ["closed"] * 6 + ["open"]
    assert all(p.ends_at == q.starts_at for p, q in zip(periods, periods[1:], strict=False))
    assert periods[-1].starts_at <= timezone.now() < periods[-1].ends_at


def test_the_beat_task_catches_up_every_missed_window_in_one_run(make_board):
    board = make_board(reset=Board.Reset.DAILY)
    missed_days(board, 5)

    assert close_due_periods() == 6
    assert close_due_periods() == 0
    assert Period.objects.filter(board=board, state="open").get().ends_at > timezone.now()


def test_a_score_for_a_period_past_its_end_closes_it_first(make_board, make_players):
    board = make_board(reset=Board.Reset.DAILY)
    a, b = make_players(2)
    scores(board, [(a, 10)])
    first = current(board)
    Period.objects.filter(pk=first.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    (late,) = scores(board, [(b, 20)], prefix="late")

    assert late.period_number == 2
    assert Period.objects.get(pk=first.pk).state == "closed"


def test_end_now_closes_at_once_is_audited_and_changes_nothing_twice(board, admin_user):
    period = current(board)

    closed = close_period(period_id=period.pk, actor=admin_user, reason="finals")
    again = close_period(period_id=period.pk, actor=admin_user)

    assert closed is not None and closed.closed_by == admin_user.username
    assert again is None
    assert Period.objects.filter(board=board).count() == 2
    entry = AuditLogEntry.objects.get(action="leaderboard.end_period")
    assert entry.reason == "finals" and entry.after["state"] == "closed"


def test_closed_standings_and_history_are_readable(player_client, board, make_players):
    a, b = make_players(2)
    scores(board, [(a, 10), (b, 30)])
    close_period(period_id=current(board).pk)

    history = player_client.get("/api/v1/leaderboards/high/periods").json()
    standings = player_client.get("/api/v1/leaderboards/high/periods/1").json()
    open_one = player_client.get("/api/v1/leaderboards/high/periods/2")

    assert [p["number"] for p in history] == [1] and history[0]["state"] == "closed"
    assert [(e["rank"], e["player_id"]) for e in standings["results"]] == [(1, b.pk), (2, a.pk)]
    assert (open_one.status_code, open_one.json()["code"]) == (404, "period_not_found")
    top_now = player_client.get("/api/v1/leaderboards/high").json()
    assert top_now["period"]["number"] == 2 and top_now["results"] == []


def test_the_periods_list_pages_back_with_before(player_client, board):
    for _ in range(5):
        close_period(period_id=current(board).pk)  # periods 1 to 5 closed, 6 open

    def numbers(query: str) -> list[int]:
        response = player_client.get(f"/api/v1/leaderboards/high/periods{query}")
        assert response.status_code == 200, response.json()
        return [p["number"] for p in response.json()]

    assert numbers("") == [5, 4, 3, 2, 1]
    assert numbers("?limit=2") == [5, 4]
    assert numbers("?limit=2&before=4") == [3, 2]
    assert numbers("?before=2") == [1] and numbers("?before=1") == []
    for bad in ("?limit=0", "?limit=101", "?before=0", "?before=x"):
        refused = player_client.get(f"/api/v1/leaderboards/high/periods{bad}")
        assert (refused.status_code, refused.json()["code"]) == (400, "validation_error"), bad


@pytest.fixture
def tournament(board, game, make_players):
    inventory_demo.seed(game)  # gold, gems, potion …
    BracketReward.objects.create(
        board=board, position=1, rank_from=1, rank_to=1,
        contents=[{"currency": "gems", "quantity": 50}],
    )  # fmt: skip
    BracketReward.objects.create(
        board=board, position=2, rank_from=2, rank_to=3,
        contents=[{"currency": "gold", "quantity": 20}, {"sku": "potion", "quantity": 1}],
    )  # fmt: skip
    BracketReward.objects.create(
        board=board, position=3, top_percent=50, contents=[{"currency": "gold", "quantity": 5}]
    )
    players = make_players(10)
    scores(board, [(p, 100 - n) for n, p in enumerate(players)])
    return players


def test_a_season_board_pays_its_brackets_for_seasons_not_for_the_wait_between(
    make_board, make_players, game
):
    inventory_demo.seed(game)
    board = make_board(reset=Board.Reset.SEASON)
    bracket = BracketReward.objects.create(
        board=board, position=1, rank_from=1, rank_to=1,
        contents=[{"currency": "gold", "quantity": 1000}],
    )  # fmt: skip
    (a,) = make_players(1)
    scores(board, [(a, 5)])  # between seasons
    wait = current(board)
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S2", starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=9)
    )
    wait.refresh_from_db()

    assert wait.season is None and brackets_of(wait) == []  # the wait pays nothing
    close_due_periods(now=timezone.now())
    pay_period(period_id=wait.pk)
    assert not Payout.objects.exists()
    running = current(board)
    assert running.season == season and brackets_of(running) == [bracket]
    own = BracketReward.objects.create(
        board=board, period=wait, position=1, rank_from=1, rank_to=1,
        contents=[{"currency": "gold", "quantity": 5}],
    )  # fmt: skip
    assert brackets_of(wait) == [own]  # one an operator set on the wait itself still pays


@pytest.fixture
def season_board(make_board, game):
    inventory_demo.seed(game)
    board = make_board(reset=Board.Reset.SEASON)
    BracketReward.objects.create(
        board=board, position=1, rank_from=1, rank_to=1,
        contents=[{"currency": "gold", "quantity": 1000}],
    )  # fmt: skip
    return board


def gold_of(player) -> int:
    wallet = Wallet.objects.filter(player=player, currency__code="gold").first()
    return wallet.balance if wallet else 0


def test_a_running_season_moved_to_start_later_pays_its_brackets_once_in_its_own_period(
    season_board, make_players, game
):
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5)
    )
    (a,) = make_players(1)
    scores(season_board, [(a, 5)])
    aborted = current(season_board)
    assert aborted.season == season

    season.starts_at = now + timedelta(days=1)  # postponed: the stretch so far was a wait
    season.save()
    close_due_periods()
    pay_period(period_id=aborted.pk)
    assert not Payout.objects.exists()
    aborted.refresh_from_db()
    assert aborted.season is None

    wait = current(season_board)
    close_due_periods(now=season.starts_at)  # the season begins
    running = current(season_board)
    assert (running.number, running.season) == (wait.number + 1, season)
    later = season.starts_at + timedelta(hours=1)
    submit_score(board=season_board, player_id=a.pk, score=7, submission_id="in-season", at=later)
    close_period(period_id=running.pk, now=later + timedelta(hours=1))
    pay_period(period_id=running.pk)

    assert list(Payout.objects.values_list("period_id", flat=True)) == [running.pk]
    assert gold_of(a) == 1000


def test_a_season_extended_after_its_period_was_paid_is_not_paid_again(
    season_board, make_players, game
):
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=10), ends_at=now + timedelta(hours=1)
    )
    (a,) = make_players(1)
    scores(season_board, [(a, 5)])
    first = current(season_board)
    # Time passes: the season ends, its period closes and is paid.
    ended = timezone.now() - timedelta(minutes=1)
    Season.objects.filter(pk=season.pk).update(ends_at=ended)
    Period.objects.filter(pk=first.pk).update(ends_at=ended)
    close_due_periods()
    pay_period(period_id=first.pk)
    assert gold_of(a) == 1000

    season.refresh_from_db()
    season.ends_at = timezone.now() + timedelta(days=5)  # an operator extends it
    season.save()
    close_due_periods()  # the wait it ended
    again = current(season_board)
    assert (again.number, again.season) == (3, season)
    scores(season_board, [(a, 9)], prefix="extended")
    close_period(period_id=again.pk)
    pay_period(period_id=again.pk)

    assert list(Payout.objects.values_list("period_id", flat=True)) == [first.pk]
    assert gold_of(a) == 1000
    assert brackets_of(again) == []
    own = BracketReward.objects.create(
        board=season_board, period=again, position=1, rank_from=1, rank_to=1,
        contents=[{"currency": "gold", "quantity": 5}],
    )  # fmt: skip
    assert brackets_of(again) == [own]  # one an operator set on that period itself still pays


def test_a_season_period_ended_early_pays_the_seasons_brackets_whichever_task_runs_first(
    season_board, make_players, game, admin_user
):
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=10), ends_at=now + timedelta(days=5)
    )
    winner, latecomer = make_players(2)
    scores(season_board, [(winner, 50)])
    ended_early = current(season_board)
    close_period(period_id=ended_early.pk, actor=admin_user)  # End now: its payouts are queued
    rest = current(season_board)
    assert (rest.season, ended_early.season) == (season, season)
    scores(season_board, [(latecomer, 1)], prefix="rest")
    close_period(period_id=rest.pk, actor=admin_user)  # the rest of the season closes too

    # The two payout tasks run in either order (a backlog taken by two workers, a retried
    # task): the rest's first here. The season's brackets are the period ended early's.
    assert brackets_of(rest) == []
    pay_period(period_id=rest.pk)
    pay_period(period_id=ended_early.pk)

    assert list(Payout.objects.values_list("period_id", "player_id")) == [
        (ended_early.pk, winner.pk)
    ]
    assert (gold_of(winner), gold_of(latecomer)) == (1000, 0)


def closed_long_ago(period: Period) -> None:
    """Closed with its payout task lost (nothing queued it), longer ago than the grace."""
    close_period(period_id=period.pk)  # on_commit callbacks do not run here: no task
    Period.objects.filter(pk=period.pk).update(
        closed_at=timezone.now() - PAYOUT_GRACE - timedelta(seconds=1)
    )


def test_the_sweep_pays_a_period_whose_payout_task_was_lost_once(board, tournament):
    period = current(board)
    closed_long_ago(period)
    assert not Payout.objects.exists()

    assert pay_unpaid_periods() == 1
    assert pay_unpaid_periods() == 0  # paid in full: nothing to queue again

    assert Payout.objects.filter(period=period, paid_at__isnull=False).count() == 5
    assert Wallet.objects.get(player=tournament[0], currency__code="gems").balance == 50
    assert LedgerEntry.objects.filter(reason="leaderboard_reward").count() == 7


def test_a_payout_that_fails_on_a_fault_of_ours_does_not_hold_up_the_others(
    board, tournament, caplog
):
    from unittest import mock

    from apps.leaderboards.services import payouts

    period = current(board)
    closed_long_ago(period)
    real_grant = payouts.grant_contents
    first_payout = {}

    def faulty_for_the_first(**kwargs):
        first_payout.setdefault("reference", kwargs.get("idempotency_key"))
        if kwargs.get("idempotency_key") == first_payout["reference"]:
            raise TypeError("a bug")
        return real_grant(**kwargs)

    with mock.patch.object(payouts, "grant_contents", faulty_for_the_first):
        assert pay_unpaid_periods() == 1

    unpaid = Payout.objects.get(period=period, paid_at=None)
    assert (unpaid.attempts, unpaid.last_error) == (1, "internal_error: TypeError")
    assert Payout.objects.filter(period=period, paid_at__isnull=False).count() == 4
    assert "leaderboard payout" in caplog.text and "a bug" in caplog.text


def test_the_sweep_leaves_a_period_just_closed_to_its_own_task(board, tournament):
    close_period(period_id=current(board).pk)

    assert pay_unpaid_periods() == 0
    assert not Payout.objects.exists()


def test_a_refused_payout_stays_unpaid_and_the_sweep_pays_it_once_it_can(board, game, make_players):
    BracketReward.objects.create(
        board=board, position=1, rank_from=1, rank_to=1,
        contents=[{"currency": "medals", "quantity": 3}],
    )  # fmt: skip
    (winner,) = make_players(1)
    scores(board, [(winner, 10)])
    period = current(board)
    closed_long_ago(period)

    assert pay_unpaid_periods() == 1  # computed; the grant is refused: no currency "medals"
    assert Payout.objects.get(period=period).paid_at is None
    Currency.objects.create(game=game, code="medals", name="Medals")

    assert pay_unpaid_periods() == 1
    assert Payout.objects.get(period=period).paid_at is not None
    assert Wallet.objects.get(player=winner, currency__code="medals").balance == 3
    assert pay_unpaid_periods() == 0


def test_a_payout_refused_again_and_again_is_left_for_an_operator(
    board, game, make_players, settings, caplog, client
):
    settings.LEADERBOARD_PAYOUT_ATTEMPTS = 3
    BracketReward.objects.create(
        board=board, position=1, rank_from=1, rank_to=1,
        contents=[{"currency": "medals", "quantity": 3}],
    )  # fmt: skip
    (winner,) = make_players(1)
    scores(board, [(winner, 10)])
    period = current(board)
    closed_long_ago(period)

    swept = [pay_unpaid_periods() for _ in range(5)]

    assert swept == [1, 1, 1, 0, 0]  # three tries, then no more queuing
    payout = Payout.objects.get(period=period)
    assert (payout.paid_at, payout.attempts, payout.needs_attention) == (None, 3, True)
    assert payout.last_error.startswith("unknown_currency") or "medals" in payout.last_error
    assert [r.message for r in caplog.records if r.message.startswith("ALERT")] == [
        f"ALERT leaderboard payout {payout.pk} not paid after 3 attempts, left for an operator: "
        f"{payout.last_error.split(':')[0]}"
    ]

    # The operator fixes the economy and retries from the admin: paid once.
    Currency.objects.create(game=game, code="medals", name="Medals")
    owner = get_user_model().objects.create_superuser("root", password="pw-long-enough-1")
    client.force_login(owner)
    client.post(
        "/admin/leaderboards/payout/",
        {"action": "retry_selected", "_selected_action": [payout.pk]},
    )
    payout.refresh_from_db()
    assert payout.paid_at is not None and not payout.needs_attention
    assert Wallet.objects.get(player=winner, currency__code="medals").balance == 3
    retried = AuditLogEntry.objects.get(action="leaderboard.retry_payout")
    assert (retried.actor, retried.game, retried.target_id) == (owner, game, str(payout.pk))
    assert (retried.before["attempts"], retried.before["needs_attention"]) == (3, True)
    assert retried.after == {"attempts": 0, "needs_attention": False, "last_error": ""}


def test_the_dry_run_previews_the_payouts_and_writes_nothing(board, tournament):
    period = current(board)

    lines = preview_payouts(period=period)

    assert [(line.rank, line.player_id) for line in lines] == [
        (n + 1, p.pk) for n, p in enumerate(tournament[:5])
    ]
    assert [line.contents for line in lines][0] == [{"currency": "gems", "quantity": 50}]
    assert [line.bracket.position for line in lines] == [1, 2, 2, 3, 3]
    assert not Payout.objects.exists() and not LedgerEntry.objects.exists()


def test_closing_pays_each_bracket_once_through_the_ledger(
    board, tournament, django_capture_on_commit_callbacks
):
    period = current(board)
    with django_capture_on_commit_callbacks(execute=True):
        close_period(period_id=period.pk)
    assert pay_period(period_id=period.pk) == 0  # a second run pays nothing

    payouts = Payout.objects.filter(period=period).order_by("rank")
    assert [(p.rank, p.player_id) for p in payouts] == [
        (n + 1, p.pk) for n, p in enumerate(tournament[:5])
    ]
    assert all(p.paid_at for p in payouts)
    first, second, sixth = tournament[0], tournament[1], tournament[5]
    assert Wallet.objects.get(player=first, currency__code="gems").balance == 50
    assert Wallet.objects.get(player=second, currency__code="gold").balance == 20
    assert not LedgerEntry.objects.filter(player=sixth).exists()
    assert set(
        LedgerEntry.objects.filter(player=first).values_list("operation_key", flat=True)
    ) == {f"leaderboard-payout:{period.pk}:{first.pk}"}
    assert LedgerEntry.objects.filter(reason="leaderboard_reward").count() == 1 + 2 * 2 + 2


def test_a_period_bracket_replaces_the_boards_for_that_period(board, tournament, game):
    period = current(board)
    BracketReward.objects.create(
        board=board, period=period, rank_from=1, rank_to=2,
        contents=[{"currency": "gems", "quantity": 1}],
    )  # fmt: skip

    lines = preview_payouts(period=period)

    assert [(line.rank, line.contents) for line in lines] == [
        (1, [{"currency": "gems", "quantity": 1}]),
        (2, [{"currency": "gems", "quantity": 1}]),
    ]


def test_a_period_pays_only_brackets_of_its_own_board(make_board):
    ours, theirs = make_board("ours"), make_board("theirs")
    BracketReward.objects.create(board=theirs, rank_from=1, rank_to=1, contents=[{"gold": 1}])
    period = current(ours)
    # Stored before the admin checked a new board's bracket against its own periods.
    BracketReward.objects.create(
        board=theirs, period=period, rank_from=1, rank_to=1, contents=[{"gold": 2}]
    )
    own = BracketReward.objects.create(board=ours, rank_from=1, rank_to=3, contents=[{"gold": 3}])

    assert brackets_of(period) == [own]


def test_a_read_that_closes_a_due_period_answers_while_the_broker_is_down(
    make_board, make_players, player_client, django_capture_on_commit_callbacks, caplog
):
    from unittest import mock

    from kombu.exceptions import OperationalError

    from apps.leaderboards.queued import pay_period as pay_period_task
    from gamingpanel.shortcache import clear_every_cache

    board = make_board(reset=Board.Reset.DAILY)
    (player,) = make_players(1)
    scores(board, [(player, 10)])
    first = current(board)
    Period.objects.filter(pk=first.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    clear_every_cache()

    refused = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with (
        mock.patch.object(pay_period_task, "delay", side_effect=refused),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = player_client.get(f"/api/v1/leaderboards/{board.slug}")

    assert response.status_code == 200
    assert response.json()["period"]["number"] == 2
    first.refresh_from_db()
    assert first.state == "closed"
    assert "not queued" in caplog.text and "payout sweep" in caplog.text
    # The sweep finds it unpaid once the grace a queued payout is given has passed.
    later = timezone.now() + PAYOUT_GRACE + timedelta(seconds=1)
    assert periods_to_pay(now=later) == [first.pk]
