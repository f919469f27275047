"""Celery beat's schedule: each entry's message expires when the next one is due.

While no worker takes them (an outage, a deploy gone wrong), beat goes on queueing its entries:
without an expiry an hour of that left ~120 period closes and 60 payment sweeps queued, run one
after the other when a worker came back. With `expires` set to its interval, a message nobody
ran before the next one was sent is dropped by the worker, so at most one of each is pending.

Imported by the settings: nothing here may read Django's settings or Celery's app (a crontab's
own next-run helpers ask the app for its time zone).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery.schedules import crontab, schedule

MINUTES_A_WEEK = 7 * 24 * 60


def interval_seconds(when: Any) -> float:
    """The time between two runs of a beat entry's `schedule`: a number of seconds, a timedelta,
    celery's `schedule`, or a crontab (its shortest gap over a week, the day-of-month and month
    fields left aside: a crontab that also names days of the month runs no more often)."""
    if isinstance(when, bool):
        raise TypeError(f"not a beat schedule: {when!r}")
    if isinstance(when, int | float):
        return float(when)
    if isinstance(when, timedelta):
        return when.total_seconds()
    if isinstance(when, crontab):
        return 60.0 * _shortest_crontab_gap(when)
    if isinstance(when, schedule):
        return when.run_every.total_seconds()
    raise TypeError(f"no interval known for {type(when).__name__}: give the entry its own expires")


def _shortest_crontab_gap(when: crontab) -> int:
    """Minutes between the closest two runs of a week (day 0 is Sunday, as in cron)."""
    runs = sorted(
        day * 1440 + hour * 60 + minute
        for day in when.day_of_week
        for hour in when.hour
        for minute in when.minute
    )
    gaps = [later - earlier for earlier, later in zip(runs, runs[1:], strict=False)]
    return min([*gaps, runs[0] + MINUTES_A_WEEK - runs[-1]])


def expire_at_next_run(beat_schedule: dict[str, dict[str, Any]]) -> None:
    """Give every entry `options["expires"]` = its interval in seconds, unless it set its own."""
    for entry in beat_schedule.values():
        options = entry.setdefault("options", {})
        if "expires" not in options:
            options["expires"] = interval_seconds(entry["schedule"])
