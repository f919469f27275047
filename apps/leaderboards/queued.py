"""Tasks that services and selectors queue (a closed period's payouts, a lost rank index's
rebuild), apart from tasks.py so that their callers import them without an import cycle;
tasks.py imports them, so the worker registers them."""

from __future__ import annotations

from celery import shared_task

from apps.leaderboards.services import payouts, ranking


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    max_retries=5,
    retry_backoff=True,
)
def pay_period(period_id: int) -> int:
    """Grant a closed period's bracket rewards; safe to run twice (each payout once)."""
    return payouts.pay_period(period_id=period_id)


@shared_task(acks_late=True, ignore_result=True)
def rebuild_rank_index(period_id: int, token: str | None = None) -> int:
    """Rebuild a period's lost rank index; `token`: the build's lock, claimed by the reader."""
    return ranking.rebuild_index(period_id=period_id, token=token)
