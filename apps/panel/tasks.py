"""Celery: the segment action runs outside the web request; a retry resumes where it stopped
(players already changed are skipped by the ledger's key)."""

from __future__ import annotations

from celery import shared_task

from apps.panel.services import run_segment_action as run


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), max_retries=5,
             retry_backoff=2, retry_backoff_max=300)  # fmt: skip
def run_segment_action(self: object, action_id: int) -> str:
    return run(action_id=action_id).status
