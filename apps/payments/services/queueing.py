"""Handing work to Celery once the row it is about is committed. The row is the record of the
work (a stored notification, a sandbox callback owed): if the broker is down the enqueue fails
fast (CELERY_BROKER_CONNECTION_TIMEOUT, CELERY_TASK_PUBLISH_RETRY_POLICY: about a second at
most), the request still answers, and the sweeper (`recovery.sweep`) queues it again later."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any) -> bool:
    """Send `task` now; False (and a warning) when the broker did not take it."""
    try:
        task.delay(*args)
    except Exception as exc:  # a broker outage must never fail the caller: the row is kept
        logger.warning(
            "payments: %s%r not queued (%s: %s); the sweeper queues it again",
            task.name,
            args,
            type(exc).__name__,
            str(exc)[:200],
        )
        return False
    return True


def enqueue_after_commit(task: Any, *args: Any) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))
