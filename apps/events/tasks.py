from __future__ import annotations

from celery import shared_task

from apps.events.authoring import schedule_repeats


@shared_task
def schedule_event_repeats() -> int:
    """Beat: create the next occurrences of repeating events ahead of time."""
    return schedule_repeats()
