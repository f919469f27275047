"""Celery: the segment action runs outside the web request; a retry resumes where it stopped
(players already changed are skipped by the ledger's key). Out of retries, the action is marked
failed, and the panel's Queue again resumes it; so does the beat sweep below, by itself, for an
action failed in an outage or stopped without a word (its next slice never queued)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from apps.panel.models import SegmentAction
from apps.panel.services import (
    mark_segment_action_failed,
    prune_segment_members,
    resume_stopped_segment_actions,
)
from apps.panel.services import run_segment_action as run
from gamingpanel.queueing import enqueue, prune_task


class SegmentActionTask(Task):
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # Called once the task has failed for good (no retry left), not on each retry.
        action_id = kwargs.get("action_id", args[0] if args else None)
        if action_id is not None:
            mark_segment_action_failed(action_id=action_id, error=exc)


@shared_task(base=SegmentActionTask, bind=True, acks_late=True, autoretry_for=(Exception,),
             max_retries=5, retry_backoff=2, retry_backoff_max=300)  # fmt: skip
def run_segment_action(self: object, action_id: int) -> str:
    # A slice at a time, each task well inside the broker's visibility timeout (a longer one
    # would be handed to another worker while it still runs); the next slice is queued here.
    action = run(action_id=action_id, seconds=settings.SEGMENT_RUN_SLICE_SECONDS)
    if action.status == SegmentAction.Status.RUNNING:
        enqueue(run_segment_action, action_id, then="the segment sweep resumes it")
    return action.status


@shared_task(ignore_result=True)
def resume_segment_actions() -> int:
    """Beat (settings.CELERY_BEAT_SCHEDULE): queue again the actions that stopped partway."""
    claimed = resume_stopped_segment_actions()
    for action_id in claimed:
        enqueue(run_segment_action, action_id, then="the segment sweep retries after its backoff")
    return len(claimed)


@prune_task
def prune_done_segment_members() -> int:
    """Beat, daily: the member lists of actions done more than SEGMENT_MEMBERS_KEPT_DAYS ago."""
    return prune_segment_members()
