"""Edges of a score submission made with a process's copy of the board (kept 2 s: board_for),
and of what `"improved"` answers: the entry changed.

- A board deleted after the copy was read answers 404 board_not_found, not a 500 from the first
  period its submission tried to open for a board no longer there.
- A board's first period follows its schedule as committed (read FOR SHARE, after an operator's
  change of the reset or time zone being saved), not the copy's: follow_schedule, run by that
  change, had no period to move.
- A sum that stays as it was (0 added, or held at the ±MAX_TOTAL clamp) changes nothing: its
  version stays and it answers `"improved": false`, as a latest board's same score does."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.leaderboards import admin as board_admin
from apps.leaderboards.errors import BoardNotFound
from apps.leaderboards.models import MAX_TOTAL, Board, Entry, Period, Submission
from apps.leaderboards.schedule import window_at
from apps.leaderboards.services.periods import open_period
from apps.leaderboards.services.submit import submit_score
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.leaderboards.test_board_admin import change_url, form_as_shown


def post(client: APIClient, slug: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.post(f"/api/v1/leaderboards/{slug}/scores", body, format="json")
    return response.status_code, response.json()


def score(player_id: int, value: int, sid: str, **more: object) -> dict[str, Any]:
    return {"submission_id": sid, "player_id": player_id, "score": value, **more}


# 1. A board deleted under a copy.


@pytest.mark.django_db(transaction=True)
def test_a_copy_of_a_deleted_board_without_a_period_is_board_not_found(board, player):
    """Autocommit, as a request runs: the period opened for the deleted board failed its key
    check at the commit, and reading the winner's period then found none (a 500)."""
    cached = Board.objects.select_related("game").get(pk=board.pk)  # as board_for keeps it
    Board.objects.filter(pk=board.pk).delete()

    with pytest.raises(BoardNotFound):
        submit_score(board=cached, player_id=player.pk, score=10, submission_id="s1")

    assert not Period.objects.exists()
    assert not Submission.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_copy_of_a_board_deleted_after_its_first_score_is_404_board_not_found(
    server_client, board, player
):
    status, _ = post(server_client, "high", score(player.pk, 10, "s1"))  # copy kept 2 s
    assert status == 201
    Board.objects.filter(pk=board.pk).delete()  # with its period: none open now

    status, body = post(server_client, "high", score(player.pk, 20, "s2"))

    assert (status, body["code"]) == (404, "board_not_found")
    assert not Period.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_read_of_a_deleted_board_under_a_copy_is_board_not_found(board):
    cached = Board.objects.get(pk=board.pk)
    Board.objects.filter(pk=board.pk).delete()

    with pytest.raises(BoardNotFound):
        open_period(board=cached)

    assert not Period.objects.exists()


# 2. The first period follows the committed schedule.


@pytest.fixture
def operator_client(game) -> Client:
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_first_period_opened_with_an_old_copy_follows_the_new_schedule(board, player):
    cached = Board.objects.get(pk=board.pk)  # reset: never
    Board.objects.filter(pk=board.pk).update(reset=Board.Reset.DAILY, time_zone="Asia/Tokyo")
    board.refresh_from_db()

    result = submit_score(board=cached, player_id=player.pk, score=10, submission_id="s1")

    period = Period.objects.get(pk=result.period_id)
    assert period.ends_at is not None
    assert period.ends_at == window_at(board, timezone.now()).ends_at  # Tokyo's next midnight


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_first_score_waits_for_a_schedule_change_being_saved_and_follows_it(
    operator_client, board, player, monkeypatch
):
    """The save has run follow_schedule (no period to move) and not committed yet when a first
    score comes with a copy of the board as it was: its period waits for the save, then ends
    where the new schedule puts it."""
    cached = Board.objects.get(pk=board.pk)
    data = form_as_shown(operator_client, board)
    data.update(reset=Board.Reset.DAILY)
    held, go = threading.Event(), threading.Event()
    real_follow = board_admin.follow_schedule

    def follow_then_hold(**kwargs: Any) -> bool:
        moved = real_follow(**kwargs)
        held.set()
        go.wait(10)
        return moved

    monkeypatch.setattr(board_admin, "follow_schedule", follow_then_hold)
    saving = in_thread(lambda: operator_client.post(change_url(board), data))
    assert held.wait(10)
    scoring = in_thread(
        lambda: submit_score(board=cached, player_id=player.pk, score=10, submission_id="s1")
    )
    try:
        wait_until_a_statement_waits_for_a_lock()  # the first period, for the board's row
    finally:
        go.set()

    assert saving.result(15).status_code == 302
    result = scoring.result(15)
    board.refresh_from_db()
    period = Period.objects.get(pk=result.period_id)
    assert board.reset == Board.Reset.DAILY
    assert period.ends_at is not None
    assert period.ends_at == window_at(board, period.starts_at).ends_at


# 3. "improved": the entry changed.


@pytest.mark.django_db
def test_a_sum_adding_0_changes_nothing_and_answers_not_improved(server_client, make_board, player):
    make_board("total", operator=Board.Operator.SUM)
    post(server_client, "total", score(player.pk, 10, "t1"))
    before = Entry.objects.get(player=player)

    status, body = post(server_client, "total", score(player.pk, 0, "t2"))

    assert (status, body["score"], body["improved"]) == (201, 10, False)
    after = Entry.objects.get(player=player)
    assert (after.version, after.reached_at) == (before.version, before.reached_at)
    assert Submission.objects.filter(submission_id="t2").exists()  # recorded all the same


@pytest.mark.django_db
@pytest.mark.parametrize("sign", [1, -1])
def test_a_sum_held_at_its_bound_changes_nothing_and_answers_not_improved(make_board, player, sign):
    board = make_board("total", operator=Board.Operator.SUM)
    first = submit_score(board=board, player_id=player.pk, score=sign, submission_id="t1")
    bound = sign * MAX_TOTAL  # a total at the bound (reached by many 10^15 scores)
    rank_key = -bound if board.higher_is_better else bound
    Entry.objects.filter(player=player).update(score=bound, rank_key=rank_key)

    result = submit_score(board=board, player_id=player.pk, score=sign * 5, submission_id="t2")

    assert (result.score, result.improved) == (bound, False)
    assert Entry.objects.get(player=player).version == first.version


@pytest.mark.django_db
def test_a_sum_adding_0_with_metadata_changes_the_entry(make_board, player):
    board = make_board("total", operator=Board.Operator.SUM)
    submit_score(board=board, player_id=player.pk, score=10, submission_id="t1")

    result = submit_score(
        board=board, player_id=player.pk, score=0, submission_id="t2", metadata={"car": "red"}
    )

    assert (result.score, result.improved) == (10, True)
    assert Entry.objects.get(player=player).metadata == {"car": "red"}


@pytest.mark.django_db
def test_a_sum_that_changes_answers_improved(make_board, player):
    board = make_board("total", operator=Board.Operator.SUM)
    submit_score(board=board, player_id=player.pk, score=10, submission_id="t1")

    result = submit_score(board=board, player_id=player.pk, score=-3, submission_id="t2")

    assert (result.score, result.improved) == (7, True)
