"""When rows kept for a number of days are due for deletion: one rule for every daily prune."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone


def kept_since(days: int, *, now: datetime | None = None) -> datetime | None:
    """The instant `days` days before `now` (default: now): rows older than it are due. None
    when that reaches back past the calendar's first day (a "keep for ever" setting of a million
    days): nothing is that old, where the subtraction raised OverflowError in every run."""
    try:
        return (now or timezone.now()) - timedelta(days=days)
    except OverflowError:
        return None
