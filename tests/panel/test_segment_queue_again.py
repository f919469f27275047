"""An operator's Queue again, and a chunk of progress, count a segment action's automatic resumes
afresh: an action the sweep gave up on (its 6 used, or idle for a day) is resumed by the sweep
again should it stop again. Queue again is audited. A stopped action's page says what the sweep
did, what it will do (or why not) and what Queue again does."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime

from apps.accounts.models import Player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import Currency, LedgerEntry
from apps.inventory.services import Change
from apps.panel import services, tasks
from apps.panel.models import AUTO_RESUMES, STALLED_AFTER, SegmentAction


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold")


@pytest.fixture
def players(game):
    return Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(7)])


@pytest.fixture
def action(game, operator, players, gold) -> SegmentAction:
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="outage", change=Change("currency", "gold", 10),
    )  # fmt: skip
    return action


def page_url(action: SegmentAction) -> str:
    return f"/panel/games/{action.game_id}/segment/runs/{action.pk}/"


def stop(action: SegmentAction, *, idle: timedelta, **fields: object) -> SegmentAction:
    SegmentAction.objects.filter(pk=action.pk).update(
        progressed_at=timezone.now() - idle, started_at=timezone.now() - idle, **fields
    )
    action.refresh_from_db()
    return action


def failed_in_an_outage(action: SegmentAction, **fields: object) -> SegmentAction:
    return stop(
        action, idle=timedelta(hours=1), status="failed", failure="OperationalError",
        failure_transient=True, **fields,
    )  # fmt: skip


# Queue again


def test_queue_again_gives_an_action_out_of_automatic_resumes_its_resumes_back(
    operator_client, operator, action, gold, broker_down
):
    failed_in_an_outage(
        action, auto_resumes=AUTO_RESUMES, next_auto_resume_at=timezone.now() - timedelta(hours=1)
    )
    assert tasks.resume_segment_actions() == 0  # the sweep gave up on it

    # The queue is still down when the operator presses Queue again: the sweep takes over.
    response = operator_client.post(page_url(action), follow=True)

    assert "the sweep queues it again by itself once the queue is back (it looks every" in (
        response.content.decode()
    )
    action.refresh_from_db()
    assert (action.auto_resumes, action.next_auto_resume_at) == (0, None)
    assert [action.pk] == services.resume_stopped_segment_actions()
    assert SegmentAction.objects.get(pk=action.pk).auto_resumes == 1


def test_queue_again_of_an_action_idle_for_days_lets_the_sweep_take_it_again(
    operator_client, action, gold, broker_down
):
    stop(action, idle=timedelta(days=3), status="running", processed=0)
    assert action.auto_resume.ruled_out == "too_old"

    response = operator_client.post(page_url(action), follow=True)

    assert "once the queue is back (not before " in response.content.decode()
    now = timezone.now()
    assert services.resume_stopped_segment_actions(now=now) == []  # moved just now: maybe slow
    later = now + STALLED_AFTER + timedelta(minutes=1)
    assert services.resume_stopped_segment_actions(now=later) == [action.pk]


def test_queue_again_is_audited_by_the_operator(operator_client, operator, action, gold):
    failed_in_an_outage(action, auto_resumes=3, processed=0)

    operator_client.post(page_url(action))

    (entry,) = AuditLogEntry.objects.filter(action="segment.resume")
    assert (entry.actor, entry.game_id, entry.target_id) == (
        operator,
        action.game_id,
        str(action.pk),
    )
    assert (entry.before["status"], entry.before["automatic_resumes"]) == ("failed", 3)
    assert entry.after["automatic_resumes"] == 0
    assert "Queue again" in entry.reason
    done = SegmentAction.objects.get(pk=action.pk)
    assert (done.status, done.processed, done.auto_resumes) == ("done", 7, 0)
    assert LedgerEntry.objects.filter(currency=gold).count() == 7


def test_queue_again_of_a_finished_action_records_nothing(operator_client, action, gold):
    services.run_segment_action(action_id=action.pk)

    operator_client.post(page_url(action))

    assert not AuditLogEntry.objects.filter(action="segment.resume").exists()


def test_an_analyst_cannot_queue_again(analyst_client, action, gold):
    failed_in_an_outage(action, auto_resumes=AUTO_RESUMES)

    assert analyst_client.post(page_url(action)).status_code == 403
    assert not AuditLogEntry.objects.filter(action="segment.resume").exists()
    assert SegmentAction.objects.get(pk=action.pk).auto_resumes == AUTO_RESUMES


# Progress


def test_a_chunk_of_progress_counts_the_automatic_resumes_afresh(action, gold, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    failed_in_an_outage(action, auto_resumes=AUTO_RESUMES - 1, next_auto_resume_at=timezone.now())
    assert services.resume_stopped_segment_actions() == [action.pk]  # its last one
    assert SegmentAction.objects.get(pk=action.pk).auto_resumes == AUTO_RESUMES

    running = services.run_segment_action(action_id=action.pk, seconds=0)  # one chunk

    assert (running.status, running.processed) == ("running", 3)
    assert (running.auto_resumes, running.next_auto_resume_at) == (0, None)
    # Should it stop now, the sweep resumes it again.
    later = timezone.now() + STALLED_AFTER + timedelta(minutes=1)
    assert services.resume_stopped_segment_actions(now=later) == [action.pk]


# The page


def at(moment) -> str:
    return date_format(localtime(moment, UTC), "Y-m-d H:i e")


def test_a_failed_action_due_a_resume_says_when_and_what_queue_again_does(
    operator_client, action, gold
):
    next_try = timezone.now() + timedelta(minutes=4)
    failed_in_an_outage(action, auto_resumes=2, next_auto_resume_at=next_try)

    page = operator_client.get(page_url(action)).content.decode()

    assert "The run stopped (OperationalError)" in page
    assert "has already resumed it by itself 2 times in a row" in page
    assert f"It resumes it by itself at {at(next_try)} (resume 3 of {AUTO_RESUMES})" in page
    assert "waiting 1, 2, 4, 8 and 16 minutes between tries" in page
    assert "never for an action that has not moved for a day" in page
    assert "Queue again resumes it now from the first unfinished chunk" in page
    assert "counts the automatic resumes from 0 again" in page
    assert f"up to {AUTO_RESUMES} more times" in page


@pytest.mark.parametrize(
    ("state", "says"),
    [
        (
            {"status": "failed", "failure": "OperationalError", "failure_transient": True},
            "has not resumed it by itself since it last moved.",
        ),
        (
            {"status": "failed", "failure": "OperationalError", "failure_transient": True},
            f"within a minute (resume 1 of {AUTO_RESUMES})",
        ),
        (
            {
                "status": "failed",
                "failure": "OperationalError",
                "failure_transient": True,
                "auto_resumes": AUTO_RESUMES,
            },
            f"It will not try again: that was all {AUTO_RESUMES} of its tries in a row.",
        ),  # fmt: skip
        (
            {"status": "failed", "failure": "TypeError"},
            "It does not resume this one: TypeError is not an outage",
        ),
        (
            {"status": "running", "idle": timedelta(days=2)},
            "more than a day ago, so it is left to an operator",
        ),
        (
            {"status": "running", "idle": STALLED_AFTER + timedelta(minutes=1)},
            "No progress since",
        ),
        (
            {"status": "running", "idle": STALLED_AFTER + timedelta(minutes=1)},
            "It resumes it by itself within a minute",
        ),
    ],
    ids=[
        "none-yet",
        "due",
        "out-of-resumes",
        "not-an-outage",
        "too-old",
        "stalled",
        "stalled-due",
    ],  # fmt: skip
)
def test_a_stopped_actions_page_says_what_the_sweep_will_do(
    operator_client, action, gold, state, says
):
    state = dict(state)
    stop(action, idle=state.pop("idle", timedelta(hours=1)), **state)

    page = operator_client.get(page_url(action)).content.decode()

    assert says in page
    assert "Queue again resumes it now" in page


def test_a_moving_action_shows_no_options(operator_client, action, gold):
    stop(action, idle=timedelta(minutes=1), status="running")

    page = operator_client.get(page_url(action)).content.decode()

    assert "segment-auto-resume" not in page and "segment-queue-again" not in page


@pytest.mark.parametrize(
    "state",
    [
        {"status": "running", "idle": STALLED_AFTER - timedelta(minutes=1)},
        {"status": "running", "idle": STALLED_AFTER + timedelta(minutes=1)},
        {"status": "queued", "idle": STALLED_AFTER + timedelta(minutes=1)},
        {"status": "running", "idle": timedelta(hours=23, minutes=59)},
        {"status": "running", "idle": timedelta(days=2)},
        {"status": "failed", "idle": timedelta(hours=1), "failure_transient": True},
        {"status": "failed", "idle": timedelta(days=2), "failure_transient": True},
        {"status": "failed", "idle": timedelta(hours=1)},
        {"status": "done", "idle": timedelta(hours=1)},
        {"status": "running", "idle": timedelta(hours=1), "auto_resumes": AUTO_RESUMES},
        {"status": "running", "idle": timedelta(hours=1), "auto_resumes": AUTO_RESUMES - 1},
        {"status": "failed", "idle": timedelta(hours=1), "failure_transient": True, "wait": 1},
        {"status": "failed", "idle": timedelta(hours=1), "failure_transient": True, "wait": -1},
        {"status": "running", "idle": timedelta(hours=23, minutes=59), "wait": 5},
        # A resume claimed but never run, its time passed while the beat was down for a day.
        {"status": "running", "idle": timedelta(days=2), "auto_resumes": 1, "wait": -2869},
    ],
)
def test_the_pages_forecast_keeps_the_sweeps_rules(action, gold, state):
    state = dict(state)
    now = timezone.now()
    if wait := state.pop("wait", None):
        state["next_auto_resume_at"] = now + timedelta(minutes=wait)
    stop(action, idle=state.pop("idle"), **state)

    forecast = action.auto_resume_at(now)
    swept = services.resume_stopped_segment_actions(now=now)

    assert forecast.due == (swept == [action.pk])
    assert (forecast.at is None) == bool(forecast.ruled_out)
    if swept:
        assert forecast.at == now
    elif forecast.at is not None:  # and the sweep takes it then (just after: it has stalled)
        then = forecast.at + timedelta(seconds=1)
        assert services.resume_stopped_segment_actions(now=then) == [action.pk]
