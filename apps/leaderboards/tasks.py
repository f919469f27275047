"""Celery beat entry points (settings.CELERY_BEAT_SCHEDULE); each calls one service."""

from __future__ import annotations

from celery import shared_task

from apps.leaderboards.queued import pay_period, rebuild_rank_index
from apps.leaderboards.services import periods, ranking

__all__ = ["close_due_periods", "pay_period", "rebuild_rank_index", "restore_lapsed_bans"]


@shared_task(acks_late=True, ignore_result=True)
def close_due_periods() -> int:
    return periods.close_due_periods()


@shared_task(ignore_result=True)
def restore_lapsed_bans() -> int:
    return ranking.restore_lapsed_bans()
