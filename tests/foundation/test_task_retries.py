"""A task's retry waits stay inside the broker's visibility timeout.

A retry is a message due later: a worker takes it at once and holds it, unacknowledged, until it
is due. Held longer than CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"], Redis hands it to
another worker as well, and it runs twice (or more: every timeout again)."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

import pytest
from celery import Task
from django.conf import settings

from gamingpanel.celery import app

VISIBILITY_TIMEOUT = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
PAYMENT_TASKS = [
    "apps.payments.tasks.process_provider_event",
    "apps.payments.tasks.deliver_sandbox_callback",
    "apps.payments.tasks.finish_google_purchase",
]


def _import_every_tasks_module() -> None:
    """What a worker does at start (celery's autodiscovery is lazy until then)."""
    for name in settings.INSTALLED_APPS:
        if name.startswith("apps.") and find_spec(f"{name}.tasks"):
            import_module(f"{name}.tasks")


_import_every_tasks_module()


def backing_off_tasks() -> list[Task]:
    return [
        task
        for name, task in sorted(app.tasks.items())
        if name.startswith("apps.")
        and getattr(task, "autoretry_for", ())
        and getattr(task, "retry_backoff", False)
    ]


def longest_wait(task: Task) -> int:
    """Celery's autoretry (celery.app.autoretry): min(retry_backoff_max, factor × 2^retries) for
    retries 0 … max_retries - 1, retry_backoff_max 600 unless the task sets it."""
    factor = int(max(1.0, float(task.retry_backoff)))
    cap = int(getattr(task, "retry_backoff_max", 600))
    return min(cap, factor * 2 ** (task.max_retries - 1))


def test_the_retry_cap_is_inside_the_visibility_timeout():
    assert 0 < settings.TASK_RETRY_BACKOFF_MAX_SECONDS < VISIBILITY_TIMEOUT


@pytest.mark.parametrize("name", PAYMENT_TASKS)
def test_payment_retries_are_capped_inside_the_visibility_timeout(name):
    """Capped, whatever their count of retries: the cap follows the timeout."""
    task = app.tasks[name]

    assert task.autoretry_for and task.retry_backoff
    assert task.retry_backoff_max == settings.TASK_RETRY_BACKOFF_MAX_SECONDS
    assert task.retry_backoff_max < VISIBILITY_TIMEOUT


def test_no_task_retry_waits_past_the_visibility_timeout():
    tasks = backing_off_tasks()

    assert {task.name for task in tasks} >= set(PAYMENT_TASKS)  # the check sees them
    too_long = {task.name: longest_wait(task) for task in tasks}
    assert {name: wait for name, wait in too_long.items() if wait >= VISIBILITY_TIMEOUT} == {}


PRUNES = sorted(
    entry["task"]
    for entry in settings.CELERY_BEAT_SCHEDULE.values()
    if entry["task"].rsplit(".", 1)[-1].startswith("prune")
)


def test_every_prune_in_the_schedule_is_found():
    assert len(PRUNES) >= 7  # sessions, receipts, tombstones, analytics, servers, scores, members


@pytest.mark.parametrize("name", PRUNES)
def test_a_prune_is_acknowledged_when_taken_so_a_long_first_run_is_never_handed_out_twice(name):
    """A prune's first run over a year's backlog outlasts the visibility timeout: unacknowledged,
    it would be handed to another worker every timeout, copies deleting the same rows."""
    assert app.tasks[name].acks_late is False


def test_tasks_that_move_value_stay_acknowledged_when_done():
    for name in PAYMENT_TASKS + ["apps.analytics.tasks.aggregate_recent_days"]:
        assert app.tasks[name].acks_late is True, name
