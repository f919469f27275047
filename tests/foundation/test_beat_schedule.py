"""The beat schedule survives restarts: a deploy recreates the beat container, and the daily and
hourly housekeeping must still run every day (every hour), however often that happens. And it
does not pile up while no worker runs it: each entry's message expires when the next is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from celery.schedules import BaseSchedule, crontab, maybe_schedule
from django.conf import settings

from gamingpanel.beat import expire_at_next_run, interval_seconds

# Housekeeping whose interval is long enough for a restart to land inside it every time.
EVERY_DAY = ["prune-analytics", "prune-sessions", "prune-save-receipts"]
EVERY_HOUR = ["schedule-event-repeats"]


def first_run_after(entry: dict, started: datetime) -> datetime:
    """When beat, started at `started` with no schedule file (last run = start), first runs it."""
    schedule = maybe_schedule(entry["schedule"])
    if isinstance(schedule, crontab):
        last, delta, _ = schedule.remaining_delta(started)
        return last + delta
    return started + schedule.run_every


@pytest.mark.parametrize("name", EVERY_DAY)
def test_a_daily_task_runs_every_day_when_beat_restarts_twice_a_day(name):
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    restarts = [
        datetime(2026, 12, 1, 7, 13, tzinfo=UTC) + timedelta(hours=12 * n) for n in range(8)
    ]
    runs = [
        first_run_after(entry, started)
        for started, next_start in zip(restarts, restarts[1:], strict=False)
        if first_run_after(entry, started) < next_start
    ]
    days = {run.date() for run in runs}
    assert {datetime(2026, 12, day, tzinfo=UTC).date() for day in (2, 3, 4)} <= days


@pytest.mark.parametrize("name", EVERY_HOUR)
def test_an_hourly_task_runs_every_hour_when_beat_restarts_every_half_hour(name):
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    restarts = [
        datetime(2026, 12, 1, 7, 13, tzinfo=UTC) + timedelta(minutes=30 * n) for n in range(9)
    ]
    runs = [
        first_run_after(entry, started)
        for started, next_start in zip(restarts, restarts[1:], strict=False)
        if first_run_after(entry, started) < next_start
    ]
    hours = {run.replace(minute=0, second=0, microsecond=0) for run in runs}
    assert len(hours) == 4  # 07:13 to 11:13: the runs of 08:00, 09:00, 10:00 and 11:00


def test_beat_keeps_its_schedule_file_on_a_volume():
    import yaml

    from tests.conftest import ROOT

    beat = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["beat"]
    schedule = beat["command"].split("--schedule=")[1].split()[0]
    mounted = [volume.split(":")[1] for volume in beat["volumes"]]
    assert any(schedule.startswith(f"{path}/") for path in mounted), (schedule, mounted)


# --- Every entry's message expires when the next one is due ---------------------------------


def interval_by_celery(entry: dict) -> float:
    """The shortest time between two of the entry's runs over eight days, as celery's own
    schedule (first_run_after above) has them."""
    start = datetime(2026, 12, 1, 7, 13, tzinfo=UTC)
    runs = [first_run_after(entry, start)]
    while runs[-1] < start + timedelta(days=8):
        runs.append(first_run_after(entry, runs[-1]))
    return min(
        (later - earlier).total_seconds() for earlier, later in zip(runs, runs[1:], strict=False)
    )


@pytest.mark.parametrize("name", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_entry_expires_when_its_next_run_is_due(name):
    """Without an expiry, an hour with no worker queued ~120 period closes and 60 payment sweeps,
    all run one after the other when a worker came back."""
    entry = settings.CELERY_BEAT_SCHEDULE[name]

    assert entry["options"]["expires"] == interval_by_celery(entry)


def test_the_expiries_are_the_intervals():
    schedule = settings.CELERY_BEAT_SCHEDULE
    expires = {name: entry["options"]["expires"] for name, entry in schedule.items()}

    assert expires["close-leaderboard-periods"] == 30
    assert expires["sweep-payments"] == settings.PAYMENTS_SWEEP_INTERVAL_SECONDS
    assert expires["schedule-event-repeats"] == 3600
    assert expires["prune-sessions"] == 86400


def test_beat_sends_each_task_with_its_expiry():
    """What beat itself does with an entry (celery.beat.Scheduler, as `celery beat` runs it)."""
    from celery.beat import Scheduler

    from gamingpanel.celery import app

    scheduler = Scheduler(app=app, lazy=True)
    scheduler.setup_schedule()
    entry = scheduler.schedule["sweep-payments"]
    task = app.tasks[entry.task]

    with mock.patch.object(task, "apply_async") as sent:
        scheduler.apply_async(entry, producer=object())

    assert sent.call_args.kwargs["expires"] == settings.PAYMENTS_SWEEP_INTERVAL_SECONDS


def test_an_entry_keeps_the_expiry_it_sets_and_its_other_options():
    schedule = {
        "own": {"task": "t", "schedule": 60.0, "options": {"expires": 5}},
        "queue": {"task": "t", "schedule": timedelta(minutes=2), "options": {"queue": "slow"}},
        "every-15": {"task": "t", "schedule": crontab(minute="*/15")},
        "twice-a-day": {"task": "t", "schedule": crontab(hour="3,9", minute=0)},
        "weekly": {"task": "t", "schedule": crontab(day_of_week=1, hour=4, minute=0)},
    }

    expire_at_next_run(schedule)

    assert schedule["own"]["options"] == {"expires": 5}
    assert schedule["queue"]["options"] == {"queue": "slow", "expires": 120.0}
    assert schedule["every-15"]["options"] == {"expires": 900.0}
    assert schedule["twice-a-day"]["options"] == {"expires": 6 * 3600.0}  # 03:00 to 09:00
    assert schedule["weekly"]["options"] == {"expires": 7 * 86400.0}


class Sunrise(BaseSchedule):
    """A schedule whose interval varies (as celery's solar does)."""


def test_a_schedule_of_unknown_interval_must_set_its_own_expiry():
    with pytest.raises(TypeError, match="its own expires"):
        interval_seconds(Sunrise())
