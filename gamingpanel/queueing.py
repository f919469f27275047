"""Handing a task to Celery from a request without letting a broker outage fail the request:
the caller has already stored the record of the work, and says who queues it again."""

from __future__ import annotations

import logging
from typing import Any

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
