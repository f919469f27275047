"""Bracket rewards of a closed period: who gets what (the same for the panel's dry-run preview
and the payout), and the payout itself, once per period and player.

Paying is two steps, each safe to repeat: the payout rows are written once (unique per period
and player, under the period's row lock), then each unpaid row is locked and granted through the
ledger (`inventory.services.grant_contents`, the one guarded write) with an idempotency key of
the period and the player, and marked paid in the same transaction. Two workers paying the same
period at once (a retried task, "end now" racing the schedule) grant each reward once.

An erased player (accounts' `erased_at`) keeps their rank in a closed period's standings, so no
other player's rank or reward moves, but is never paid: their payout row is written like the
others' and stays unpaid, its `last_error` saying why (SKIPPED_ERASED), and neither the sweep
nor an operator's retry picks it up again (the tombstone is for good)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.selectors import erased_under_share_lock
from apps.audit.services import record_action
from apps.inventory.services import grant_contents
from apps.leaderboards.errors import PeriodNotClosed
from apps.leaderboards.models import Board, BracketReward, Entry, Payout, Period
from gamingpanel.errors import DomainError
from gamingpanel.problems import BACKING_SERVICE_ERRORS
from gamingpanel.sql import CompiledQuery

log = logging.getLogger(__name__)

# The period's visible entries (players not banned now) in rank order, best first, and whether
# each player was erased (ranked as shown, never paid).
STANDINGS = CompiledQuery.compile(
    """
    SELECT e.player_id, e.score, p.erased_at IS NOT NULL
      FROM {entry} e JOIN {player} p ON p.id = e.player_id
     WHERE e.period_id = %s AND (p.banned_until IS NULL OR p.banned_until <= %s)
     ORDER BY e.rank_key, e.reached_at, e.player_id
     LIMIT %s
    """,
    entry=Entry,
    player=Player,
)

VISIBLE_COUNT = CompiledQuery.compile(
    """
    SELECT COUNT(*) FROM {entry} e JOIN {player} p ON p.id = e.player_id
     WHERE e.period_id = %s AND (p.banned_until IS NULL OR p.banned_until <= %s)
    """,
    entry=Entry,
    player=Player,
)


@dataclass(frozen=True)
class PayoutLine:
    rank: int
    player_id: int
    score: int
    bracket: BracketReward
    contents: list[dict]
    # The player's account was erased: the line holds its rank, and nothing is paid.
    erased: bool = False


# What an erased player's payout row says (last_error): skipped, for good.
SKIPPED_ERASED = "player_erased: not paid, the player's account was erased"


def brackets_of(period: Period) -> list[BracketReward]:
    """The period's own brackets if it has any, else the board's brackets for every period. On
    a season board the board's are for its seasons, once each, by the season's first period:
    the wait between two seasons is no season, and a later period of a season (the rest of it
    after an operator's End now, or a new period after the season was extended) is not its
    first; either pays only brackets an operator set on that period itself. Which period is
    first never depends on which one's payouts are written first (two tasks in either order)."""
    own = list(BracketReward.objects.filter(board_id=period.board_id, period=period))
    if own:
        return own
    if period.board.reset == Board.Reset.SEASON and (
        period.season_id is None or _season_ran_before(period, period.season_id)
    ):
        return []
    return list(BracketReward.objects.filter(board_id=period.board_id, period=None))


def _season_ran_before(period: Period, season_id: int) -> bool:
    """Whether an earlier period of the board ran in this season: that one pays the season's
    brackets, whether or not its payouts were written yet (its task may run after this one's).
    Closed periods keep their season, so the answer never changes once the period is closed."""
    return Period.objects.filter(
        board_id=period.board_id, season_id=season_id, number__lt=period.number
    ).exists()


def payout_lines(period: Period) -> list[PayoutLine]:
    """Who gets what, by final rank (ties already broken: first to reach ranks higher). A player
    gets the first bracket, by position, whose ranks hold them. An erased player keeps their
    rank (every other rank stays as the standings show it); their line says `erased`."""
    brackets = brackets_of(period)
    if not brackets:
        return []
    now = timezone.now()
    ranked = VISIBLE_COUNT.row([period.pk, now])
    total = ranked[0] if ranked else 0
    last_rank_of = {
        bracket.pk: (
            math.ceil(total * bracket.top_percent / 100)
            if bracket.top_percent is not None
            else bracket.rank_to or 0
        )
        for bracket in brackets
    }
    deepest = max(last_rank_of.values(), default=0)
    lines = []
    standings = STANDINGS.rows([period.pk, now, deepest])
    for rank, (player_id, score, erased) in enumerate(standings, 1):
        for bracket in brackets:
            first = bracket.rank_from or 1
            if first <= rank <= last_rank_of[bracket.pk]:
                lines.append(
                    PayoutLine(rank, player_id, score, bracket, bracket.contents, bool(erased))
                )
                break
    return lines


def preview_payouts(*, period: Period) -> list[PayoutLine]:
    """The dry run: what paying would grant now, writing nothing (an open period too)."""
    return payout_lines(period)


def pay_period(*, period_id: int) -> int:
    """Write the period's payouts once, then pay each unpaid one. Returns how many this call
    paid."""
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period_id)
        if period.state != Period.State.CLOSED:
            raise PeriodNotClosed(f"{period} is still open.")
        if period.payouts_computed_at is None:
            Payout.objects.bulk_create(
                [
                    Payout(
                        period=period,
                        player_id=line.player_id,
                        rank=line.rank,
                        score=line.score,
                        bracket=line.bracket,
                        contents=line.contents,
                        last_error=SKIPPED_ERASED if line.erased else "",
                    )
                    for line in payout_lines(period)
                ],
                ignore_conflicts=True,
                batch_size=1000,
            )
            period.payouts_computed_at = timezone.now()
            period.save(update_fields=["payouts_computed_at"])
    paid = 0
    unpaid = Payout.objects.filter(
        period_id=period_id, paid_at=None, needs_attention=False, player__erased_at=None
    )
    for payout_id in unpaid.values_list("pk", flat=True):
        try:
            paid += pay_one(payout_id=payout_id)
        except DomainError as error:
            # A reward naming what the economy does not define, or over a holding limit: the
            # row stays unpaid, is tried again by the sweep (the economy may be fixed), and is
            # left for an operator after LEADERBOARD_PAYOUT_ATTEMPTS tries; the others are paid.
            _record_failure(payout_id, error.code, error.detail)
        except (DatabaseError, *BACKING_SERVICE_ERRORS):
            raise  # an outage, not this payout's fault: the task retries, no attempt counted
        except Exception as error:
            # A fault of ours with this one row (its stored contents, a bug) counts as an
            # attempt like a refusal, so it cannot stop every payout after it for ever.
            log.exception("leaderboard payout %s failed", payout_id)
            _record_failure(payout_id, "internal_error", type(error).__name__)
    return paid


def _record_failure(payout_id: int, code: str, detail: str) -> None:
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.paid_at is not None:
            return
        payout.attempts += 1
        payout.last_error = f"{code}: {detail}"[:300]
        payout.needs_attention = payout.attempts >= settings.LEADERBOARD_PAYOUT_ATTEMPTS
        payout.save(update_fields=["attempts", "last_error", "needs_attention"])
    if payout.needs_attention:
        log.error(
            "ALERT leaderboard payout %s not paid after %s attempts, left for an operator: %s",
            payout_id,
            payout.attempts,
            code,
        )
    else:
        log.warning(
            "leaderboard payout %s not paid (attempt %s): %s",
            payout_id,
            payout.attempts,
            code,
        )


@transaction.atomic
def retry_payouts(*, payout_ids: list[int], game_ids: set[int], actor: User | None) -> list[int]:
    """An operator's retry of payouts left for them (the economy fixed since): tried again by
    the next sweep with a fresh count, each retry audited. Returns the periods to pay now. An
    erased player's payout is not retried: it is never paid."""
    retried = list(
        Payout.objects.select_for_update(of=("self",))
        .select_related("period__board__game")
        .filter(
            pk__in=payout_ids,
            period__board__game_id__in=game_ids,
            paid_at=None,
            player__erased_at=None,
        )
        .order_by("pk")
    )
    for payout in retried:
        record_action(
            actor=actor,
            game=payout.period.board.game,
            action="leaderboard.retry_payout",
            target=payout,
            before={
                "attempts": payout.attempts,
                "needs_attention": payout.needs_attention,
                "last_error": payout.last_error,
            },
            after={"attempts": 0, "needs_attention": False, "last_error": ""},
        )
    Payout.objects.filter(pk__in=[payout.pk for payout in retried]).update(
        attempts=0, needs_attention=False, last_error=""
    )
    return sorted({payout.period_id for payout in retried})


# How long after its close a period's payout task has had to run before the sweep queues it again.
PAYOUT_GRACE = timedelta(minutes=5)


def periods_to_pay(*, now: datetime | None = None) -> list[int]:
    """Closed periods, closed more than PAYOUT_GRACE ago, whose payouts were never computed (the
    task was never queued, or gave up) or hold unpaid rows (a grant that failed: the economy may
    have been fixed since) not yet left for an operator, nor an erased player's (never paid).
    Paying them again is safe: each payout is granted once."""
    cutoff = (now or timezone.now()) - PAYOUT_GRACE
    closed = Period.objects.filter(state=Period.State.CLOSED, closed_at__lt=cutoff)
    never_computed = closed.filter(payouts_computed_at=None)
    unpaid = closed.filter(
        pk__in=Payout.objects.filter(
            paid_at=None, needs_attention=False, player__erased_at=None
        ).values("period_id")
    )
    return sorted(
        set(never_computed.values_list("pk", flat=True)) | set(unpaid.values_list("pk", flat=True))
    )


@transaction.atomic
def pay_one(*, payout_id: int) -> int:
    # The row lock: a second payer waits here, then finds it paid. The payout's row only
    # (of=self): FOR UPDATE of the player's row too (the ORM's default for a joined row) made
    # every write naming the player (KEY SHARE) wait for it, so a grant that had locked the
    # player's wallet before this payout asked for it deadlocked with it (the payout waits for
    # the wallet, the grant's ledger entry for the player). The player's share lock below is
    # all the erasure check needs.
    payout = (
        Payout.objects.select_for_update(of=("self",))
        .select_related("player", "period")
        .get(pk=payout_id)
    )
    if payout.paid_at is not None:
        return 0
    # Erased since the row was written (or an operator's retry after): skipped, and recorded.
    # The player's row shared while the reward is granted: an erasure waits for the grant.
    if erased_under_share_lock(payout.player_id):
        if payout.last_error != SKIPPED_ERASED:
            payout.last_error = SKIPPED_ERASED
            payout.save(update_fields=["last_error"])
        return 0
    grant_contents(
        player=payout.player,
        contents=payout.contents,
        reason="leaderboard_reward",
        idempotency_key=f"leaderboard-payout:{payout.period_id}:{payout.player_id}",
        reference=f"leaderboard-period:{payout.period_id}",
    )
    payout.paid_at = timezone.now()
    payout.save(update_fields=["paid_at"])
    return 1
