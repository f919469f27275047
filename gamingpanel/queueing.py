"""Handing a task to Celery from a request without letting a broker outage fail the request:
the caller has already stored the record of the work, and says who queues it again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

logger = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any, then: str) -> bool:
    """Send `task` now; False (and a warning saying `then`, what happens next) when the broker
    did not take it."""
    try:
        task.delay(*args)
    except Exception as exc:  # a broker outage must never fail the caller: the row is kept
        logger.warning(
            "%s%r not queued (%s: %s); %s",
            task.name,
            args,
            type(exc).__name__,
            str(exc)[:200],
            then,
        )
        return False
    return True


def prune_task(function: Callable[[], int]) -> Any:
    """A beat task deleting what has aged out, in batches until none is left (it answers how
    many rows). Acknowledged when a worker takes it, not when it ends as every other task is
    (CELERY_TASK_ACKS_LATE): its first run over a big backlog can outlast the broker's
    visibility timeout, and a message still unacknowledged then is handed to another worker
    too, once more every timeout, copies deleting the same rows in lockstep while they fill
    the pool. A run lost to a worker's crash is caught up by the next one."""
    return shared_task(acks_late=False, ignore_result=True)(function)
