"""Celery beat entry points (scheduled in settings.CELERY_BEAT_SCHEDULE); each calls a service."""

from __future__ import annotations

from celery import shared_task

from apps.analytics import maintenance
from gamingpanel.queueing import prune_task


@shared_task(acks_late=True, ignore_result=True)
def aggregate_recent_days() -> int:
    return maintenance.aggregate_recent()


@prune_task
def prune_raw_events() -> int:
    return maintenance.prune_raw_events()
