"""Submissions are kept LEADERBOARD_SUBMISSION_RETENTION_DAYS (services.retention): a daily beat
task deletes older ones in batches, so a retry within the window is still a replay, and the id
sent again after it is a new score."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from celery.schedules import crontab
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.leaderboards.models import Board, Entry, Submission
from apps.leaderboards.services import submit
from apps.leaderboards.services.retention import prune_submissions
from apps.leaderboards.services.submit import submit_score
from apps.leaderboards.tasks import prune_submissions as prune_task

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def override_retention(days: int) -> Any:
    return override_settings(LEADERBOARD_SUBMISSION_RETENTION_DAYS=days)


def aged(submission_id: str, age: timedelta) -> None:
    Submission.objects.filter(submission_id=submission_id).update(created_at=timezone.now() - age)


def post(client: APIClient, player_id: int, score: int, sid: str) -> tuple[int, dict]:
    response = client.post(
        "/api/v1/leaderboards/high/scores",
        {"submission_id": sid, "player_id": player_id, "score": score},
        format="json",
    )
    return response.status_code, response.json()


def test_submissions_past_the_retention_are_pruned_and_recent_ones_kept(board, make_players):
    players = make_players(4)
    for n, player in enumerate(players):
        submit_score(board=board, player_id=player.pk, score=n, submission_id=f"s{n}")
    days = settings.LEADERBOARD_SUBMISSION_RETENTION_DAYS
    now = timezone.now()
    ages = {"s0": days + 300, "s1": days + 1, "s2": days - 1}  # s3: just now
    for sid, age in ages.items():
        Submission.objects.filter(submission_id=sid).update(created_at=now - age * DAY)

    assert prune_submissions(now=now) == 2

    assert set(Submission.objects.values_list("submission_id", flat=True)) == {"s2", "s3"}
    assert Entry.objects.count() == 4  # the scores stay: only the ids are forgotten


def test_one_exactly_at_the_retention_is_kept(board, player):
    submit_score(board=board, player_id=player.pk, score=1, submission_id="edge")
    now = timezone.now()
    Submission.objects.update(created_at=now - settings.LEADERBOARD_SUBMISSION_RETENTION_DAYS * DAY)

    assert prune_submissions(now=now) == 0
    assert prune_submissions(now=now + timedelta(microseconds=1)) == 1


def test_the_batches_end_however_many_share_a_moment(
    board, make_players, django_assert_num_queries
):
    players = make_players(5)
    for n, player in enumerate(players):
        submit_score(board=board, player_id=player.pk, score=n, submission_id=f"s{n}")
    submit_score(board=board, player_id=players[0].pk, score=9, submission_id="recent")
    old = timezone.now() - 90 * DAY
    Submission.objects.exclude(submission_id="recent").update(created_at=old)

    # Batches of 2 from 5 rows made at one moment: 2, 2 and a last short one, each a read of
    # ids then a delete; the short batch ends it.
    with django_assert_num_queries(6):
        assert prune_submissions(batch=2) == 5

    assert list(Submission.objects.values_list("submission_id", flat=True)) == ["recent"]
    with django_assert_num_queries(1):
        assert prune_submissions(batch=2) == 0


def test_a_retry_within_the_retention_is_a_replay_and_after_it_a_new_score(
    server_client, make_board, player
):
    make_board("high", operator=Board.Operator.SUM)  # a second count shows: 100
    assert post(server_client, player.pk, 50, "match-7")[0] == 201
    aged("match-7", (settings.LEADERBOARD_SUBMISSION_RETENTION_DAYS - 1) * DAY)
    prune_task.apply().get()

    status, body = post(server_client, player.pk, 50, "match-7")
    assert (status, body["replayed"], body["score"]) == (200, True, 50)
    # Within the window the id still answers as before: another score under it is a conflict.
    status, body = post(server_client, player.pk, 60, "match-7")
    assert (status, body["code"]) == (409, "submission_id_reused")

    aged("match-7", (settings.LEADERBOARD_SUBMISSION_RETENTION_DAYS + 1) * DAY)
    prune_task.apply().get()

    status, body = post(server_client, player.pk, 50, "match-7")
    assert (status, body["replayed"], body["score"]) == (201, False, 100)
    assert Submission.objects.count() == 1


def test_an_id_pruned_between_its_conflict_and_the_replay_read_is_recorded_anew(
    board, player, monkeypatch
):
    """The prune deletes an old id's row right after a retry of it met the row: the retry is
    taken as new (the id is forgotten), not refused as a banned player's."""
    submit_score(board=board, player_id=player.pk, score=5, submission_id="old")
    replay = submit._replay

    def pruned_meanwhile(*args: object) -> object:
        Submission.objects.filter(submission_id="old").delete()
        return replay(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(submit, "_replay", pruned_meanwhile)

    result = submit_score(board=board, player_id=player.pk, score=7, submission_id="old")

    assert (result.replayed, result.score) == (False, 7)
    assert Submission.objects.get(submission_id="old").score == 7


def test_the_prune_runs_daily_from_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["prune-leaderboard-submissions"]

    assert isinstance(entry["schedule"], crontab)
    assert entry["options"]["expires"] == 86400
    assert entry["task"] in current_app.tasks


@pytest.mark.parametrize("days", [800_000, 999_999_999, 10**12])
def test_a_retention_longer_than_the_calendar_keeps_every_submission(board, player, days):
    """A studio keeping ids "for ever" (a retention of a million days) reaches past year 1: the
    daily prune keeps everything instead of failing every night (OverflowError)."""
    submit_score(board=board, player_id=player.pk, score=1, submission_id="kept")
    aged("kept", 2_000 * 365 * DAY)  # about year 30: as old as a datetime can show

    with override_retention(days):
        assert prune_submissions() == 0

    assert Submission.objects.filter(submission_id="kept").exists()
