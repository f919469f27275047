# ruff: noqa: S608 - only table names and constants are interpolated; values are parameters.
"""A score submission: once per submission id, into the board's open period, combined with the
player's entry by the board's operator, in one transaction that holds the period FOR SHARE (so
a close waits for it, and it never lands in a period that closed under it). The rank index is
told after the commit.

A score counts at its moment (a match's: when it was recorded), in the period open at that
moment; a closed period never takes one more. A moment whose period closed before the score was
written (a match recorded at 23:59:59.950, its transaction still running when the day's period
closed) counts in the period open when it is written, from that period's start: never before it
(it would rank first among the ties there, and read as a score of the day before).

The board comes from a process's copy (kept 2 s: selectors.board_for, stat_boards). Its ranking
rules (game, source, stat, order, operator) may change while it holds no entry, so the write checks
the copy's against the board's row, held FOR SHARE (an operator's change being saved holds it
FOR NO KEY UPDATE to its commit: the write waits, then reads the rules committed). On a mismatch
nothing is written: the board is read again and the write redone with its rules. A score is never
stored by rules other than the board's, which lock once it holds the score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.selectors import refuse_erased
from apps.leaderboards import index
from apps.leaderboards.errors import (
    BoardNotFound,
    ClientSubmissionsNotAllowed,
    InvalidMetadata,
    InvalidScore,
    MetadataTooLarge,
    PlayerBanned,
    PlayerNotInGame,
    StatBoardTakesNoScores,
    SubmissionConflict,
)
from apps.leaderboards.models import MAX_SCORE, MAX_TOTAL, Board, Entry, Period, Submission
from apps.leaderboards.services.periods import (
    MAX_PERIODS_TO_CATCH_UP,
    close_period,
    open_period,
)
from apps.leaderboards.services.ranking import change_for
from gamingpanel.sql import CompiledQuery, aware
from gamingpanel.storable import check_storable, stored_json

POSTGRES = connection.vendor == "postgresql"
LEAST, GREATEST = ("LEAST", "GREATEST") if POSTGRES else ("MIN", "MAX")
JSONB = "::jsonb" if POSTGRES else ""

# Whether the board's row has the ranking rules of the copy the write uses (parameters: game,
# source, stat key, order, operator), with `b` the board's row.
_SAME_RULES = (
    '(b.game_id = %s AND b.source = %s AND b.stat_key = %s AND b."order" = %s AND b.operator = %s)'
)

# SQLite's steps, in one transaction (writes there are serialised).
OPEN_PERIOD = CompiledQuery.compile(
    f"SELECT p.id, p.number, p.starts_at, p.ends_at, {_SAME_RULES}"
    " FROM {period} p JOIN {board} b ON b.id = p.board_id"
    " WHERE p.board_id = %s AND p.state = 'open'",
    period=Period,
    board=Board,
)

# The submission row, only for a player of this game who is not banned now nor erased; nothing
# when the id
# was used before (or the player is not eligible: told apart on that rare path). The conflict
# is with whichever space of ids the row is in (Submission's two unique constraints: the game
# servers' of the board, or the player's own).
RECORD_SUBMISSION = CompiledQuery.compile(
    """
    INSERT INTO {submission} (board_id, submission_id, period_id, player_id, score, from_client,
                              created_at)
    SELECT %s, %s, %s, p.id, %s, %s, %s FROM {player} p
     WHERE p.id = %s AND p.game_id = %s AND (p.banned_until IS NULL OR p.banned_until <= %s)
       AND p.erased_at IS NULL
    ON CONFLICT DO NOTHING
    RETURNING id
    """,
    submission=Submission,
    player=Player,
)

# The new score of an existing entry, per operator; `excluded` is the submitted one.
_NEW_SCORE: dict[str, str] = {
    Board.Operator.BEST: "excluded.score",
    Board.Operator.LATEST: "excluded.score",
    Board.Operator.SUM: f"{LEAST}({GREATEST}(e.score + excluded.score, -{MAX_TOTAL}), {MAX_TOTAL})",
}
# The metadata of a changed entry: on best and latest boards the run that set the score is
# described by what came with it (none sent: none, not the previous run's replay or car); a sum
# adds runs up, so metadata not sent keeps what the entry had.
_NEW_METADATA: dict[str, str] = {
    Board.Operator.BEST: "excluded.metadata",
    Board.Operator.LATEST: "excluded.metadata",
    Board.Operator.SUM: "e.metadata",
}
# When an existing entry changes: best only when better; latest and sum when the score changes
# or metadata was sent (the same score resent alone, a sum adding 0 or held at the ±MAX_TOTAL
# clamp, leaves the entry, its metadata and version included, as it is: "improved": false).
# These conditions take the sent metadata as a parameter of their own.
_CHANGES: dict[str, str] = {
    Board.Operator.BEST: "WHERE excluded.rank_key < e.rank_key",
    Board.Operator.LATEST: f"WHERE excluded.score <> e.score OR %s{JSONB} IS NOT NULL",
    Board.Operator.SUM: f"WHERE {_NEW_SCORE[Board.Operator.SUM]} <> e.score"
    f" OR %s{JSONB} IS NOT NULL",
}
# How many times the upsert takes the sent metadata: its SET, and its condition if it has one.
_SENT_USES = {operator: 1 + _CHANGES[operator].count("%s") for operator in Board.Operator.values}


_VALUES = f"VALUES (%s, %s, %s, %s, %s, %s{JSONB}, %s)"


def _upsert_sql(operator: str, sign: int, rows: str = _VALUES) -> str:
    """The entry's upsert, combined by the operator; `rows` gives the new row."""
    score = _NEW_SCORE[operator]
    return f"""
        INSERT INTO {{entry}} AS e (period_id, player_id, score, rank_key, reached_at, metadata,
                                   version)
        {rows}
        ON CONFLICT (period_id, player_id) DO UPDATE SET
            score = {score},
            rank_key = {sign} * ({score}),
            -- An unchanged score keeps when it was reached: ties rank who reached it first.
            reached_at = CASE WHEN {score} = e.score THEN e.reached_at
                              ELSE excluded.reached_at END,
            metadata = COALESCE(%s{JSONB}, {_NEW_METADATA[operator]}),
            version = {GREATEST}(e.version + 1, excluded.version)
        {_CHANGES[operator]}
        RETURNING score, rank_key, reached_at, version
        """


UPSERTS = {
    (op, sign): CompiledQuery.compile(_upsert_sql(op, sign), entry=Entry)
    for op in Board.Operator.values
    for sign in (1, -1)
}

# On PostgreSQL the whole submission is one statement, atomic by itself (no BEGIN/COMMIT
# round trips): the open period locked FOR SHARE if it is not past its end, the submission recorded (only into a period
# not past its end, for an eligible player, once per id, counted from the period's start at the
# earliest), the entry upserted from it. It answers the period (none: no open one), whether the
# submission was recorded, and the entry if it changed. SQLite runs the same steps one by one in
# a transaction.
#
# The player is locked FOR SHARE first (`eligible`, an InitPlan of `live`: before the period): an
# erasure holds the player's row (FOR NO KEY UPDATE) before it locks the periods whose entries it
# removes, so the submission either commits first and its entry is removed with the others, or
# waits, finds the player erased, and records nothing. A match result locks its players first too.
#
# The board's row next (`rules`, FOR SHARE, before the period, in the order an operator's change
# locks them: selectors.lock_for_schedule_change): whether it has the rules the statement ranks
# by. A locking read that waited for the change's commit reads the row as committed (not as at
# the statement's start), so a score sent while the change is saved is ranked by the new rules.
# Not the same rules: no period is live, nothing is written, and the caller reads the board.
_IN_ONE_STATEMENT = f"""
    WITH eligible AS (
        SELECT id FROM {{player}}
         WHERE id = %s AND game_id = %s AND (banned_until IS NULL OR banned_until <= %s)
           AND erased_at IS NULL
           FOR SHARE),
    rules AS (
        SELECT {_SAME_RULES} AS same FROM {{board}} b
         WHERE b.id = %s AND EXISTS (SELECT 1 FROM eligible)
           FOR SHARE),
    open_period AS (
        SELECT id, number, ends_at FROM {{period}} WHERE board_id = %s AND state = 'open'),
    live AS (
        SELECT p.id, p.starts_at FROM {{period}} p JOIN open_period o ON o.id = p.id
         WHERE p.state = 'open' AND (p.ends_at IS NULL OR p.ends_at > %s)
           AND EXISTS (SELECT 1 FROM eligible) AND (SELECT same FROM rules)
           FOR SHARE OF p),
    recorded AS (
        INSERT INTO {{submission}} (board_id, submission_id, period_id, player_id, score,
                                  from_client, created_at)
        SELECT %s, %s, live.id, eligible.id, %s, %s, GREATEST(%s, live.starts_at)
          FROM eligible, live
        ON CONFLICT DO NOTHING
        RETURNING period_id, player_id, created_at),
    changed AS ({{upsert}})
    SELECT open_period.id, open_period.number, open_period.ends_at,
           (SELECT count(*) FROM live), (SELECT count(*) FROM recorded),
           (SELECT count(*) FROM eligible), (SELECT same FROM rules),
           changed.score, changed.rank_key, changed.reached_at, changed.version
      FROM open_period LEFT JOIN changed ON true
"""
IN_ONE_STATEMENT = {
    (op, sign): CompiledQuery.compile(
        _IN_ONE_STATEMENT.replace(
            "{upsert}",
            _upsert_sql(
                op,
                sign,
                "SELECT period_id, player_id, %s, %s, created_at, %s::jsonb, %s FROM recorded",
            ),
        ),
        period=Period,
        submission=Submission,
        player=Player,
        entry=Entry,
        board=Board,
    )
    for op in Board.Operator.values
    for sign in (1, -1)
}

ENTRY = CompiledQuery.compile(
    "SELECT score, rank_key, reached_at, version FROM {entry} WHERE period_id = %s AND player_id = %s",
    entry=Entry,
)


# How often a submission reads its board again after finding other ranking rules than its copy's
# (each time an operator's change committed meanwhile, the board still empty).
MAX_RULES_REREADS = 3


class RulesChanged:
    """_submit_once's answer when the board's row has other ranking rules than the copy: nothing
    was written."""


RULES_CHANGED = RulesChanged()


class StatBoardChanged(Exception):  # noqa: N818 - a signal to the caller, not an error
    """A stat submission whose board, read again, follows another stat or no stat: the caller
    (stat_boards.record_match_stats) takes the value of the stat `board` follows now, if any."""

    def __init__(self, board: Board) -> None:
        super().__init__(board.pk)
        self.board = board


@dataclass(frozen=True)
class Submitted:
    submission_id: str
    period_id: int
    period_number: int
    player_id: int
    submitted: int
    score: int  # the entry's score after this submission
    rank_key: int
    reached_at: datetime
    version: int
    improved: bool  # the entry changed
    replayed: bool  # this submission id was recorded before: nothing changed now


def check_metadata(board: Board, metadata: Any) -> str | None:
    """The metadata as compact JSON, or None when none was sent."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidMetadata("Send metadata as a JSON object, or leave it out.")
    check_storable(metadata, "metadata")
    # Counted as stored: each number written out in full (gamingpanel.storable.stored_json).
    text, size = stored_json(metadata)
    if metadata and size > board.metadata_max_bytes:  # `{}` is no metadata, on any board
        raise MetadataTooLarge(
            f"Metadata of {size} bytes; this board takes at most {board.metadata_max_bytes}.",
            limit=board.metadata_max_bytes,
            size=size,
        )
    return text


def check_score(score: Any) -> int:
    if (
        isinstance(score, bool)
        or not isinstance(score, int)
        or not -MAX_SCORE <= score <= MAX_SCORE
    ):
        raise InvalidScore(f"A score is a whole number from -{MAX_SCORE} to {MAX_SCORE}.")
    return score


def submit_score(
    *,
    board: Board,
    player_id: int,
    score: int,
    submission_id: str,
    metadata: dict[str, Any] | None = None,
    from_client: bool = False,
    via_stat: bool = False,
    at: datetime | None = None,
) -> Submitted:
    """Record a score once per (board, submission id). Servers submit to server boards, players
    only where the board allows it; stat boards take what match results report. `at`: the
    moment the score counts at (default now); one match's scores all count at its moment, or
    from the start of the period open when they are written if the moment's period has closed
    since (module docstring)."""
    _check_board(board, via_stat, from_client)
    score = check_score(score)
    metadata_json = check_metadata(board, metadata)
    rereads = 0
    # A board whose periods were not closed on time (beat down for days) has one due period per
    # missed window, each closed in turn, so a submission catches all of them up.
    for _ in range(MAX_PERIODS_TO_CATCH_UP + MAX_RULES_REREADS):
        result = _submit_once(
            board, player_id, score, submission_id, metadata_json, from_client, at
        )
        if result is RULES_CHANGED:
            # The copy's rules are not the board's any more (module docstring): its own.
            rereads += 1
            if rereads > MAX_RULES_REREADS:
                break
            board = _board_as_committed(board, via_stat, from_client)
            metadata_json = check_metadata(board, metadata)
            continue
        if isinstance(result, Submitted):
            if result.improved and not result.replayed:
                change = change_for(
                    player_id=player_id,
                    version=result.version,
                    rank_key=result.rank_key,
                    reached_at=result.reached_at,
                )
                transaction.on_commit(partial(index.apply, result.period_id, [change]))
            return result
        # The open period was missing or past its end (or the id's old submission was pruned
        # meanwhile, _replay): open or close it, then try again.
        if result is None:
            open_period(board=board)
        else:
            # Only if still due once locked: a new schedule may have moved it since it was
            # found due (follow_schedule), and the score then lands in it. None: try again.
            assert isinstance(result, int)
            close_period(period_id=result, only_if_due=True)
    raise RuntimeError("the board's period or rules kept changing")  # pragma: no cover


def _check_board(board: Board, via_stat: bool, from_client: bool) -> None:
    if via_stat != (board.source == Board.Source.STAT):
        raise StatBoardTakesNoScores(f"{board.name} follows the stat {board.stat_key}.")
    if from_client and not board.allow_client_submissions:
        raise ClientSubmissionsNotAllowed(f"{board.name} takes scores from game servers only.")


def _board_as_committed(copy: Board, via_stat: bool, from_client: bool) -> Board:
    """The board as committed, for a submission whose copy had other ranking rules: checked
    again as the copy was. A board moved to another game (or deleted) is not the one the
    submission named; a stat board now following another stat (or none) is the caller's to
    take the right value for (StatBoardChanged)."""
    board = Board.objects.select_related("game").filter(pk=copy.pk).first()
    if board is None or board.game_id != copy.game_id:
        raise BoardNotFound(f"This game has no leaderboard {copy.slug!r}.", board=copy.slug)
    if via_stat and (board.source, board.stat_key) != (copy.source, copy.stat_key):
        raise StatBoardChanged(board)
    _check_board(board, via_stat, from_client)
    return board


def _submit_once(
    board: Board,
    player_id: int,
    score: int,
    submission_id: str,
    metadata_json: str | None,
    from_client: bool,
    at: datetime | None = None,
) -> Submitted | RulesChanged | int | None:
    """The submission, or the id of a due period to close first, or None without an open one
    (or to try again), or RULES_CHANGED when the board's row has other ranking rules than
    `board` (nothing written)."""
    now = at or timezone.now()
    sign = -1 if board.higher_is_better else 1
    # The clock as the write begins, not the score's moment (`at`, a match's, may be older than
    # a removal its transaction ran into: the new entry's version would lose to the removal's,
    # and the rank index would leave it out). Read before the statement, as the ban-following
    # (receivers._follow_batch) needs it.
    version = index.version_at(now if at is None else timezone.now())
    # The upsert's parameters after its row's: the sent metadata (or NULL) for each use.
    sent = [metadata_json] * _SENT_USES[board.operator]
    rules = [board.game_id, board.source, board.stat_key, board.order, board.operator]
    if POSTGRES:
        found = IN_ONE_STATEMENT[(board.operator, sign)].row(
            [player_id, board.game_id, now]
            + [*rules, board.pk]
            + [board.pk, now, board.pk, submission_id, score, from_client, now]
            + [score, sign * score, metadata_json or "{}", version, *sent]
        )
        if found is None:
            return None
        period_id, number, ends_at, live_count, recorded_count, eligible, same, *changed = found
        if not eligible:
            # Not the game's, banned or erased (or the id was used before: a replay).
            return _replay(board, player_id, score, submission_id, from_client, now)
        if not same:  # (None: the board was deleted meanwhile)
            return RULES_CHANGED
        if not live_count:
            # Due: close it first. Or closed since this statement's snapshot (it waited for
            # the close's lock): the next one is open, try again. A due period is not locked,
            # so two submissions that find it due (in two match results' transactions) never
            # each hold it FOR SHARE while asking for it FOR UPDATE.
            return period_id if ends_at is not None and aware(ends_at) <= now else None
        if not recorded_count:
            return _replay(board, player_id, score, submission_id, from_client, now)
        improved = changed[0] is not None
        row = tuple(changed) if improved else ENTRY.row([period_id, player_id])
        assert row is not None
        return _recorded(submission_id, period_id, number, player_id, score, row, improved)
    with transaction.atomic():
        period = OPEN_PERIOD.row([*rules, board.pk])
        if period is None:
            return None
        period_id, number, starts_at, ends_at, same = period
        if not same:
            return RULES_CHANGED
        if ends_at is not None and aware(ends_at) <= now:
            return period_id
        counted_at = max(now, aware(starts_at))
        recorded = RECORD_SUBMISSION.row(
            [board.pk, submission_id, period_id, score, from_client, counted_at]
            + [player_id, board.game_id, now]
        )
        if recorded is None:
            return _replay(board, player_id, score, submission_id, from_client, now)
        row = UPSERTS[(board.operator, sign)].row(
            [period_id, player_id, score, sign * score, counted_at, metadata_json or "{}", version]
            + sent
        )
        improved = row is not None
        if row is None:  # not better than the best: the entry as it is
            row = ENTRY.row([period_id, player_id])
            assert row is not None
    return _recorded(submission_id, period_id, number, player_id, score, row, improved)


def _recorded(
    submission_id: str,
    period_id: int,
    number: int,
    player_id: int,
    score: int,
    entry: tuple[Any, ...],
    improved: bool,
) -> Submitted:
    """A submission just recorded, with the entry as it now stands (total, rank key, reached
    at, version)."""
    total, rank_key, reached_at, stored_version = entry
    return Submitted(
        submission_id=submission_id,
        period_id=period_id,
        period_number=number,
        player_id=player_id,
        submitted=score,
        score=total,
        rank_key=rank_key,
        reached_at=aware(reached_at),
        version=stored_version,
        improved=improved,
        replayed=False,
    )


def _replay(
    board: Board,
    player_id: int,
    score: int,
    submission_id: str,
    from_client: bool,
    now: datetime,
) -> Submitted | None:
    """Nothing was inserted: the id was used before in the same space (answer as then, if it
    is the same submission), or the player cannot take part. None: neither any more, the
    submission is tried again."""
    used = Submission.objects.filter(board=board, submission_id=submission_id)
    if from_client:
        used = used.filter(from_client=True, player_id=player_id)
    else:
        used = used.filter(from_client=False)
    first = used.select_related("period").first()
    if first is None:
        player = Player.objects.filter(pk=player_id, game_id=board.game_id).first()
        if player is None:
            raise PlayerNotInGame(f"No player {player_id} in this game.", player_id=player_id)
        refuse_erased(player)
        if player.banned_until is not None and player.banned_until > now:
            raise PlayerBanned(f"Player {player_id} is banned.", player_id=player_id)
        # The id's submission, past LEADERBOARD_SUBMISSION_RETENTION_DAYS, was pruned between
        # the insert that met it and this read (or the ban ended): the id is new again.
        return None
    if first.player_id != player_id or first.score != score:
        raise SubmissionConflict(
            f"Submission {submission_id} was player {first.player_id} scoring {first.score}."
        )
    entry = Entry.objects.filter(period=first.period, player_id=player_id).first()
    return Submitted(
        submission_id=submission_id,
        period_id=first.period_id,
        period_number=first.period.number,
        player_id=player_id,
        submitted=score,
        score=entry.score if entry else score,
        rank_key=entry.rank_key if entry else 0,
        reached_at=entry.reached_at if entry else first.created_at,
        version=entry.version if entry else 0,
        improved=False,
        replayed=True,
    )
