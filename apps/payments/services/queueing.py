"""Handing work to Celery once the row it is about is committed. The row is the record of the
work (a stored notification, a sandbox callback owed): if the broker is down the enqueue fails
fast (CELERY_BROKER_CONNECTION_TIMEOUT, CELERY_TASK_PUBLISH_RETRY_POLICY: about a second at
most), the request still answers, and the sweeper (`recovery.sweep`) queues it again later."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from gamingpanel import queueing


def enqueue(task: Any, *args: Any) -> bool:
    """Send `task` now; False (and a warning) when the broker did not take it."""
    return queueing.enqueue(task, *args, then="payments: the sweeper queues it again")


def enqueue_after_commit(task: Any, *args: Any) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))
