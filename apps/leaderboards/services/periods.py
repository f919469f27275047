"""Periods: the open one of a board (created on first use), and closing it, on schedule by the
beat task or at once by an operator ("end now"). Closing takes the period's row lock FOR UPDATE;
every score submission holds it FOR SHARE while it writes, so a score lands in exactly one
period: the closing one (committed before the close read it) or the next."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import record_action
from apps.battlepass.models import Season
from apps.leaderboards import index
from apps.leaderboards.errors import BoardNotFound
from apps.leaderboards.models import Board, Period
from apps.leaderboards.queued import pay_period
from apps.leaderboards.schedule import window_at
from gamingpanel.queueing import enqueue
from gamingpanel.sql import CompiledQuery, row_lock


def open_period(*, board: Board, now: datetime | None = None) -> Period:
    """The board's open period; the first one is created here (a concurrent first use meets
    the one-open-period constraint and reads the winner's). `board` may be a process's copy
    (kept 2 s): the first period follows the board's schedule as committed, read FOR SHARE
    (selectors.lock_for_schedule_change holds the row FOR NO KEY UPDATE to the commit of a new
    reset or time zone, which follow_schedule cannot apply to a period not there yet), and a
    board deleted since the copy was read is BoardNotFound, not a period of no board."""
    found = Period.objects.filter(board=board, state=Period.State.OPEN).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            committed = _board_as_scheduled(board)
            # Read once the board's lock is held: a schedule change committed before it.
            now = now or timezone.now()
            window = window_at(committed, now)
            last = Period.objects.filter(board=board).order_by("-number").first()
            period = Period.objects.create(
                board=committed,
                number=(last.number + 1) if last else 1,
                starts_at=min(window.starts_at, now),
                ends_at=window.ends_at,
                season=window.season,
            )
    except IntegrityError:
        return Period.objects.get(board=board, state=Period.State.OPEN)
    transaction.on_commit(lambda: index.mark_empty_ready(period.pk))
    return period


# The schedule of a board as committed, its row held FOR SHARE to the caller's commit (no lock
# on SQLite, which serialises its writes whole).
BOARD_SCHEDULE = CompiledQuery.compile(
    "SELECT game_id, reset, time_zone FROM {board} WHERE id = %s"  # noqa: S608 - constants
    + row_lock("FOR SHARE"),
    board=Board,
)


def _board_as_scheduled(board: Board) -> Board:
    """`board` (a copy) with the game, reset and time zone of its committed row."""
    row = BOARD_SCHEDULE.row([board.pk])
    if row is None:
        raise BoardNotFound(f"This game has no leaderboard {board.slug!r}.", board=board.slug)
    committed = copy.copy(board)
    committed.game_id, committed.reset, committed.time_zone = row
    return committed


def open_period_now(*, board: Board) -> Period:
    """The board's open period as of now, for a read: one whose end has passed is closed first,
    as a score submitted now would close it (the beat closes due periods within 30 s, but a read
    must not show yesterday's board as open meanwhile, nor for as long as the beat is down)."""
    for _ in range(MAX_PERIODS_TO_CATCH_UP):
        period = open_period(board=board)
        if period.ends_at is None or period.ends_at > timezone.now():
            return period
        # Only if still due once locked: a new schedule may have moved it since (follow_schedule),
        # and it is not to be ended early here. None (closed or moved meanwhile): read it again.
        close_period(period_id=period.pk, only_if_due=True)
    raise RuntimeError("the board's period kept changing")  # pragma: no cover


def close_period(
    *,
    period_id: int,
    actor: User | None = None,
    reason: str = "",
    now: datetime | None = None,
    only_if_due: bool = False,
) -> Period | None:
    """Close the period (due, or now when an operator ends it) and open the next one. None when
    it was closed already: a second close changes nothing. Its payouts follow in a task.
    `only_if_due`: None, changing nothing, when the period's end is not past at `now` (the beat's
    close of a period it found due, moved since by a new schedule: not ended early, least of all
    at a clock read before the scores written in it since)."""
    with transaction.atomic():
        # FOR UPDATE waits for every submission holding the row FOR SHARE; submissions that
        # come after wait for this commit, then find the period closed and use the next one.
        # The period's row only (of=self), the board read unlocked: an operator's save of the
        # board (its UPDATE) then moving this period (follow_schedule) held the board and waited
        # for the period while a close held the period and waited for the board: a deadlock.
        period = Period.objects.select_for_update(of=("self",)).get(pk=period_id)
        # The time is read once the lock is held: every score in the period came before it.
        now = now or timezone.now()
        if period.state != Period.State.OPEN:
            return None
        ended_early = period.ends_at is None or period.ends_at > now
        if ended_early and only_if_due:
            return None
        before = {"state": period.state, "ends_at": _iso(period.ends_at)}
        if ended_early:
            period.ends_at = now
        period.state = Period.State.CLOSED
        period.closed_at = now
        period.closed_by = actor.get_username() if actor else "schedule"
        period.save(update_fields=["ends_at", "state", "closed_at", "closed_by"])
        # The board read once the period's lock is held, not joined to its read: a save that
        # held the period (a new reset or time zone, BoardForm) committed while this waited for
        # it, and the next period follows the board as saved (a join read it as it was before).
        board = period.board = Board.objects.get(pk=period.board_id)
        assert period.ends_at is not None
        window = window_at(board, period.ends_at)
        following = Period.objects.create(
            board=board,
            number=period.number + 1,
            starts_at=period.ends_at,
            ends_at=window.ends_at,
            season=window.season,
        )
        if actor is not None:
            record_action(
                actor=actor,
                game=board.game,
                action="leaderboard.end_period",
                target=period,
                before=before,
                after={"state": period.state, "ends_at": _iso(period.ends_at)},
                reason=reason,
            )

        def after_commit() -> None:
            index.drop([period.pk])
            index.mark_empty_ready(following.pk)
            # Committed: a broker outage must not turn the close (an operator's, or a read's
            # that found the period over) into an error. The payout sweep queues it again.
            enqueue(pay_period, period.pk, then="the 10-minute payout sweep queues it again")

        transaction.on_commit(after_commit)
    return period


MICROSECOND = timedelta(microseconds=1)

# More windows than a daily board has in ten years: past this the period rows are not what the
# schedule makes (a bug, not a backlog), and catching up stops rather than loop.
MAX_PERIODS_TO_CATCH_UP = 4_000


def close_due_periods(*, now: datetime | None = None) -> int:
    """The beat task's work: close every open period whose end has passed, and the periods that
    opens in their place while they are due too (the beat was down for several windows: each
    missed window is a period of its own, closed and paid in turn)."""
    now = now or timezone.now()
    closed = 0
    for _ in range(MAX_PERIODS_TO_CATCH_UP):
        due = list(
            Period.objects.filter(state=Period.State.OPEN, ends_at__lte=now).values_list(
                "pk", flat=True
            )
        )
        if not due:
            break
        # `now` was read before these locks: a period no longer due at it is left as it is.
        closed += sum(
            close_period(period_id=pk, now=now, only_if_due=True) is not None for pk in due
        )
    return closed


def follow_seasons(*, game_id: int, now: datetime | None = None) -> int:
    """Move the end of the open periods of the game's season boards to where the seasons now
    put it, after an operator created, moved or deleted a season: a period between seasons ends
    when the next season starts (never, while none is scheduled), a season's period when its
    season ends (at once if the season was moved to start later). An end that would be past
    becomes now, so the next score or the beat task closes the period and the following one
    runs as the seasons say; a period already due keeps its end. The number of periods moved."""
    moved = 0
    with transaction.atomic():
        # FOR UPDATE, as a close takes it: a score being written lands before or after the move.
        periods = list(
            Period.objects.select_for_update(of=("self",))
            .filter(
                board__game_id=game_id, board__reset=Board.Reset.SEASON, state=Period.State.OPEN
            )
            .select_related("season")
        )
        # Read once the locks are held, as a close does: no period starts after it.
        now = now or timezone.now()
        for period in periods:
            if period.ends_at is not None and period.ends_at <= now:
                continue  # due already: the close to come ends it where it ended
            ends_at = _season_period_end(period, game_id=game_id, now=now)
            if ends_at is not None:
                ends_at = max(ends_at, period.starts_at + MICROSECOND)  # never before it starts
            season = period.season
            if season is not None and season.starts_at > now:
                # Its season has not begun after all: the stretch so far was a wait, and pays
                # no season brackets (the season's own period pays them).
                season = None
            if (ends_at, season) != (period.ends_at, period.season):
                period.ends_at, period.season = ends_at, season
                period.save(update_fields=["ends_at", "season"])
                moved += 1
    return moved


def follow_schedule(*, board: Board, now: datetime | None = None) -> bool:
    """After an operator changed the reset or time zone of a board that holds no entry yet (the
    admin fixes both once it does): its open period ends where the new schedule puts the window
    holding now, as if the period had been opened under it. Whether the period moved."""
    with transaction.atomic():
        # FOR UPDATE, as a close takes it: a first score waits, and then finds the new end. Of
        # the period only: Period's ordering joins its board and game, which stay unlocked.
        period = (
            Period.objects.select_for_update(of=("self",))
            .filter(board=board, state=Period.State.OPEN)
            .first()
        )
        if period is None or period.entries.exists():
            return False
        now = now or timezone.now()
        window = window_at(board, now)
        ends_at = window.ends_at
        if ends_at is not None:
            ends_at = max(ends_at, period.starts_at + MICROSECOND)  # never before it starts
        season_id = window.season.pk if window.season else None
        if (ends_at, season_id) == (period.ends_at, period.season_id):
            return False
        period.ends_at, period.season = ends_at, window.season
        period.save(update_fields=["ends_at", "season"])
        return True


def _season_period_end(period: Period, *, game_id: int, now: datetime) -> datetime | None:
    season = period.season
    if season is not None:
        # A season moved to start later has not begun: its period so far was a wait.
        return now if season.starts_at > now else max(season.ends_at, now)
    following = (
        Season.objects.filter(game_id=game_id, ends_at__gt=now).order_by("starts_at").first()
    )
    return max(following.starts_at, now) if following else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
