"""The beat sweep resumes segment actions that stopped partway by themselves: a running one
whose next slice was never queued (a broker blip), one saved while the queue was down, one
failed in an outage (at most AUTO_RESUMES times, with backoff); each resume an audit entry by
"system". Nothing is applied twice, however the sweep races itself or an operator."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from apps.accounts.models import Player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.inventory.services import Change
from apps.panel import services, tasks
from apps.panel.models import AUTO_RESUMES, STALLED_AFTER, SegmentAction
from tests.conftest import in_thread


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold")


@pytest.fixture
def players(game):
    return Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(7)])


def grant(game, key: str = "k") -> SegmentAction:
    operator = get_user_model().objects.get_or_create(username="ops")[0]
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key=key, kind="grant", filters={},
        reason="outage", change=Change("currency", "gold", 10),
    )  # fmt: skip
    return action


def idle_for(action: SegmentAction, age: timedelta, **fields: object) -> None:
    SegmentAction.objects.filter(pk=action.pk).update(progressed_at=timezone.now() - age, **fields)


def test_the_sweep_runs_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["resume-segment-actions"]
    assert (entry["task"], entry["schedule"]) == (tasks.resume_segment_actions.name, 60.0)


def test_a_running_action_whose_next_slice_was_never_queued_is_resumed_and_completes(
    game, players, gold, monkeypatch, settings, caplog
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    settings.SEGMENT_RUN_SLICE_SECONDS = 0  # each slice: one chunk, then it queues the next
    action = grant(game)
    real_delay = tasks.run_segment_action.delay

    def broker_blip(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.run_segment_action, "delay", broker_blip)
    tasks.run_segment_action(action.pk)  # the first slice; queueing the second fails

    action.refresh_from_db()
    assert (action.status, action.processed) == ("running", 2)
    assert "not queued" in caplog.text
    monkeypatch.setattr(tasks.run_segment_action, "delay", real_delay)
    assert tasks.resume_segment_actions() == 0  # it moved just now: maybe only slow

    idle_for(action, STALLED_AFTER + timedelta(seconds=30))
    assert tasks.resume_segment_actions() == 1

    action.refresh_from_db()
    assert (action.status, action.processed, action.changed) == ("done", 7, 7)
    assert action.auto_resumes == 0  # it moved again since: the count starts again
    assert LedgerEntry.objects.filter(currency=gold).count() == 7
    assert set(Wallet.objects.filter(currency=gold).values_list("balance", flat=True)) == {10}
    entry = AuditLogEntry.objects.get(action="segment.resume")
    assert (entry.actor, entry.actor_name, entry.target_id) == (None, "system", str(action.pk))
    assert (entry.before["status"], entry.before["processed"]) == ("running", 2)
    assert entry.after == {"automatic_resume": 1, "of": AUTO_RESUMES}
    assert "no progress for 10 minutes" in entry.reason


def test_an_action_saved_while_the_queue_was_down_is_started_by_the_sweep(game, players, gold):
    action = grant(game)  # never queued
    assert tasks.resume_segment_actions() == 0
    SegmentAction.objects.filter(pk=action.pk).update(
        created_at=timezone.now() - STALLED_AFTER - timedelta(minutes=1)
    )

    assert tasks.resume_segment_actions() == 1
    assert SegmentAction.objects.get(pk=action.pk).status == "done"
    assert LedgerEntry.objects.filter(currency=gold).count() == 7


@pytest.mark.parametrize(
    "state",
    [
        {"status": "running", "idle": STALLED_AFTER - timedelta(minutes=1)},
        {"status": "failed", "idle": timedelta(hours=1), "failure": "TypeError"},  # a bug
        {"status": "running", "idle": timedelta(days=2)},  # left stopped: the operator's call
        {"status": "failed", "idle": timedelta(days=2), "failure_transient": True},
        {"status": "done", "idle": timedelta(hours=1)},
        {"status": "running", "idle": timedelta(hours=1), "auto_resumes": AUTO_RESUMES},
        {
            "status": "failed",
            "idle": timedelta(hours=1),
            "failure_transient": True,
            "backing_off": timedelta(minutes=1),
        },
    ],
    ids=[
        "moving",
        "not-an-outage",
        "too-old",
        "failed-too-old",
        "done",
        "out-of-resumes",
        "backing-off",
    ],  # fmt: skip
)
def test_the_sweep_leaves_alone(game, players, gold, state):
    state = dict(state)
    if backing_off := state.pop("backing_off", None):
        state["next_auto_resume_at"] = timezone.now() + backing_off
    action = grant(game)
    idle_for(action, state.pop("idle"), **state)

    assert services.resume_stopped_segment_actions() == []
    assert tasks.resume_segment_actions() == 0
    assert SegmentAction.objects.get(pk=action.pk).processed == 0
    assert not AuditLogEntry.objects.filter(action="segment.resume").exists()


def test_a_failed_action_is_resumed_at_most_n_times_with_backoff_then_left_failed(
    game, players, gold, monkeypatch
):
    from gamingpanel.celery import app as celery_app

    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)  # as on a worker
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    real_chunk = services._run_chunk
    calls = {"n": 0}

    def database_gone_after_one_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise ConnectionError("database unreachable")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(services, "_run_chunk", database_gone_after_one_chunk)
    action = grant(game)
    tasks.run_segment_action.delay(action.pk)
    action.refresh_from_db()
    assert (action.status, action.failure, action.failure_transient) == (
        "failed", "ConnectionError", True,
    )  # fmt: skip

    clock, gaps = timezone.now(), []
    for _ in range(AUTO_RESUMES + 3):
        claimed = services.resume_stopped_segment_actions(now=clock)
        for action_id in claimed:
            tasks.run_segment_action.delay(action_id)  # as the beat task does: fails again
        assert services.resume_stopped_segment_actions(now=clock) == []  # claimed: backs off
        action.refresh_from_db()
        if claimed:
            gaps.append(action.next_auto_resume_at - clock)
        clock = max(clock, action.next_auto_resume_at or clock)

    assert [gap.total_seconds() / 60 for gap in gaps] == [1, 2, 4, 8, 16, 30][:AUTO_RESUMES]
    assert (action.status, action.failure, action.processed) == ("failed", "ConnectionError", 3)
    assert action.auto_resumes == AUTO_RESUMES
    assert AuditLogEntry.objects.filter(action="segment.resume").count() == AUTO_RESUMES
    assert calls["n"] == (1 + AUTO_RESUMES) * (1 + tasks.run_segment_action.max_retries) + 1
    assert LedgerEntry.objects.filter(currency=gold).count() == 3

    monkeypatch.setattr(services, "_run_chunk", real_chunk)
    tasks.run_segment_action.delay(action.pk)  # an operator's Queue again still resumes it
    action.refresh_from_db()
    assert (action.status, action.processed, action.failure) == ("done", 7, "")
    assert LedgerEntry.objects.filter(currency=gold).count() == 7


def test_a_failed_action_resumes_and_completes_once_the_outage_is_over(
    game, players, gold, monkeypatch
):
    from django.db import OperationalError

    from gamingpanel.celery import app as celery_app

    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    real_chunk = services._run_chunk

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_run_chunk", database_gone)
    action = grant(game)
    tasks.run_segment_action.delay(action.pk)
    assert SegmentAction.objects.get(pk=action.pk).failure == "OperationalError"
    monkeypatch.setattr(services, "_run_chunk", real_chunk)

    assert tasks.resume_segment_actions() == 1

    action.refresh_from_db()
    assert (action.status, action.processed, action.failure, action.auto_resumes) == (
        "done", 7, "", 0,
    )  # fmt: skip
    assert "failed (OperationalError) in an outage" in (
        AuditLogEntry.objects.get(action="segment.resume").reason
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_sweep_skips_an_action_the_first_is_claiming(game, players, gold, monkeypatch):
    action = grant(game)
    idle_for(action, STALLED_AFTER + timedelta(minutes=1))
    claiming, release = threading.Event(), threading.Event()
    real_record = services.record_action

    def hold_the_claim(**kwargs):
        if threading.current_thread() is not threading.main_thread():
            claiming.set()
            release.wait(10)
        return real_record(**kwargs)

    monkeypatch.setattr(services, "record_action", hold_the_claim)
    first = in_thread(services.resume_stopped_segment_actions)
    assert claiming.wait(10)

    second = services.resume_stopped_segment_actions()  # its row locked: skipped, not waited on
    release.set()

    assert (first.result(10), second) == ([action.pk], [])
    assert services.resume_stopped_segment_actions() == []  # claimed: backing off now
    assert AuditLogEntry.objects.filter(action="segment.resume").count() == 1
    assert SegmentAction.objects.get(pk=action.pk).auto_resumes == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sweeps_and_queue_again_at_once_grant_each_player_once(game, gold, monkeypatch, settings):
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    settings.SEGMENT_RUN_SLICE_SECONDS = 0  # many slices, each queueing the next
    Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(60)])
    action = grant(game)
    idle_for(action, STALLED_AFTER + timedelta(minutes=1), status="running")
    start = threading.Barrier(4)

    def sweep_or_queue_again(n: int) -> int | None:
        try:
            start.wait()
            if n % 2:
                return tasks.resume_segment_actions()  # beat (eager: runs the slices here)
            tasks.run_segment_action.delay(action.pk)  # the panel's Queue again
            return None
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        swept = [n for n in pool.map(sweep_or_queue_again, range(4)) if n is not None]

    # One sweep resumed it, or none (a Queue again had already moved it); never both.
    assert sorted(swept) in ([0, 0], [0, 1])
    action.refresh_from_db()
    assert (action.status, action.processed, action.changed, action.skipped) == (
        "done", 60, 60, 0,
    )  # fmt: skip
    assert action.auto_resumes == 0  # it moved since any resume
    assert AuditLogEntry.objects.filter(action="segment.resume").count() == sum(swept)
    assert LedgerEntry.objects.filter(currency=gold).count() == 60
    assert set(Wallet.objects.filter(currency=gold).values_list("balance", flat=True)) == {10}
