"""The beat schedule survives restarts: a deploy recreates the beat container, and the daily and
hourly housekeeping must still run every day (every hour), however often that happens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from celery.schedules import crontab, maybe_schedule
from django.conf import settings

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
