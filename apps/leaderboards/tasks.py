"""Celery beat entry points (settings.CELERY_BEAT_SCHEDULE); each calls one service."""

from __future__ import annotations

from celery import shared_task

from apps.leaderboards.queued import pay_period, rebuild_rank_index
from apps.leaderboards.services import index_repair, payouts, periods, ranking, retention
from gamingpanel.queueing import prune_task

__all__ = [
    "close_due_periods",
    "pay_period",
    "pay_unpaid_periods",
    "prune_submissions",
    "rebuild_rank_index",
    "repair_rank_indexes",
    "restore_lapsed_bans",
]


@shared_task(acks_late=True, ignore_result=True)
def close_due_periods() -> int:
    return periods.close_due_periods()


@shared_task(ignore_result=True)
def restore_lapsed_bans() -> int:
    return ranking.restore_lapsed_bans()


@shared_task(ignore_result=True)
def pay_unpaid_periods() -> int:
    """Queue again the payouts of closed periods that were never paid in full (their task was
    lost or gave up); each payout is still granted once."""
    due = payouts.periods_to_pay()
    for period_id in due:
        pay_period.delay(period_id)
    return len(due)


@shared_task(ignore_result=True)
def repair_rank_indexes() -> int:
    """Drop the rank indexes whose drop failed, and those whose count shows them wrong; how
    many were dropped."""
    repaired = index_repair.repair_rank_indexes()
    return repaired.dropped + len(repaired.wrong)


@prune_task
def prune_submissions() -> int:
    """Daily: submissions older than LEADERBOARD_SUBMISSION_RETENTION_DAYS (their ids are
    forgotten)."""
    return retention.prune_submissions()
