"""An operator's change of a board's reset or time zone (allowed while the board holds no score:
its open period then follows the new schedule) is checked again when it is saved: a first score
that landed after the form was built refuses it (a form error, nothing saved), rather than the
board showing the new schedule while its open period, holding that score, keeps the old one's
end. The check holds the board's row and its open period to the save's commit."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.leaderboards import admin as board_admin
from apps.leaderboards.models import Board, Entry, Period
from apps.leaderboards.schedule import window_at
from apps.leaderboards.selectors import boards_with_history, lock_for_deletion
from apps.leaderboards.services.periods import close_period
from apps.leaderboards.services.submit import submit_score
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.leaderboards.conftest import current
from tests.leaderboards.test_board_admin import change_url, form_as_shown

REFUSED = "received its first scores while you edited it"


@pytest.fixture
def operator_client(game) -> Client:
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client


def made_daily(client: Client, board: Board) -> dict[str, Any]:
    data = form_as_shown(client, board)
    assert "reset" in data  # no score yet: the schedule is editable
    data.update(reset=Board.Reset.DAILY)
    return data


def assert_the_schedule_kept(board: Board, period: Period) -> None:
    board.refresh_from_db()
    period.refresh_from_db()
    assert board.reset == Board.Reset.NEVER
    assert period.ends_at == window_at(board, timezone.now()).ends_at  # None: never resets


@pytest.mark.django_db
def test_a_first_score_landing_after_the_form_was_built_refuses_the_new_schedule(
    operator_client, board, player, monkeypatch
):
    period = current(board)
    data = made_daily(operator_client, board)
    landed = []

    def first_score_lands_after(obj: Board) -> bool:
        # The POST's form is built (no score: the schedule editable), then a first score lands.
        if not landed:
            landed.append(
                submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
            )
        return False

    monkeypatch.setattr(board_admin, "holds_entries", first_score_lands_after)

    response = operator_client.post(change_url(board), data)

    assert response.status_code == 200  # the form again, with why
    assert REFUSED in str(response.context["adminform"].form.non_field_errors())
    assert landed and Entry.objects.get(player=player).period_id == period.pk
    assert_the_schedule_kept(board, period)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_save_waits_for_a_first_score_being_written_then_refuses(operator_client, board, player):
    """A submission in a transaction (a match result's) holds the open period FOR SHARE, its
    entry not committed yet when the form is built and checked: the save waits for it (the
    period FOR UPDATE), then finds the score. A lock of the board's row alone would not wait."""
    period = current(board)
    data = made_daily(operator_client, board)
    written, go = threading.Event(), threading.Event()

    def score_in_a_transaction() -> None:
        with transaction.atomic():
            submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
            written.set()
            go.wait(10)

    scoring = in_thread(score_in_a_transaction)
    assert written.wait(10)
    saving = in_thread(lambda: operator_client.post(change_url(board), data))
    wait_until_a_statement_waits_for_a_lock()  # the save, for the period
    go.set()

    scoring.result(15)
    response = saving.result(15)
    assert response.status_code == 200, response.status_code
    assert REFUSED in response.content.decode()
    assert Entry.objects.get(player=player).period_id == period.pk
    assert_the_schedule_kept(board, period)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_save_and_a_close_do_not_deadlock_and_the_next_period_follows(operator_client, board):
    """A close holds the open period (the beat, an operator's End now) when the save locks the
    board and waits for that period; the close commits the next period (checking its board's
    key: KEY SHARE, which the save's FOR NO KEY UPDATE lets by), and the save then moves that
    one to the new schedule."""
    period = current(board)
    data = made_daily(operator_client, board)
    closed, go = threading.Event(), threading.Event()

    def close_held() -> None:
        with transaction.atomic():
            assert close_period(period_id=period.pk) is not None
            closed.set()
            go.wait(10)

    closing = in_thread(close_held)
    assert closed.wait(10)
    saving = in_thread(lambda: operator_client.post(change_url(board), data))
    wait_until_a_statement_waits_for_a_lock()  # the save, for the period
    go.set()

    closing.result(15)
    response = saving.result(15)
    assert response.status_code == 302, response.status_code
    board.refresh_from_db()
    following = Period.objects.get(board=board, state=Period.State.OPEN)
    assert board.reset == Board.Reset.DAILY
    assert following.number == period.number + 1
    assert following.ends_at == window_at(board, timezone.now()).ends_at  # the new schedule's


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_end_now_waiting_for_the_save_opens_the_next_period_on_the_new_schedule(
    operator_client, board, monkeypatch
):
    """An operator's End now (or the beat) waits for the period the save holds; once the save
    committed, the period it opens follows the board as saved, not as the close first read it."""
    period = current(board)
    data = made_daily(operator_client, board)
    held, go = threading.Event(), threading.Event()
    real_follow = board_admin.follow_schedule

    def follow_then_hold(**kwargs: Any) -> bool:
        moved = real_follow(**kwargs)
        held.set()  # the board saved and its period moved, not committed yet
        go.wait(10)
        return moved

    monkeypatch.setattr(board_admin, "follow_schedule", follow_then_hold)
    saving = in_thread(lambda: operator_client.post(change_url(board), data))
    assert held.wait(10)
    closing = in_thread(lambda: close_period(period_id=period.pk))
    wait_until_a_statement_waits_for_a_lock()  # the close, for the period
    go.set()

    assert saving.result(15).status_code == 302
    assert closing.result(15) is not None
    board.refresh_from_db()
    following = Period.objects.get(board=board, state=Period.State.OPEN)
    assert board.reset == Board.Reset.DAILY
    assert following.ends_at == window_at(board, following.starts_at).ends_at


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_save_and_a_deletion_of_the_board_do_not_deadlock(operator_client, board, monkeypatch):
    """Both lock the board's row first, then its periods (lock_for_deletion, BoardForm): the
    deletion waits for the save's commit, then deletes the board with its periods."""
    period = current(board)
    data = made_daily(operator_client, board)
    held, go = threading.Event(), threading.Event()
    real_follow = board_admin.follow_schedule

    def follow_then_hold(**kwargs: Any) -> bool:
        moved = real_follow(**kwargs)
        held.set()
        go.wait(10)
        return moved

    def delete_board() -> None:
        with transaction.atomic():
            lock_for_deletion([board])
            assert not boards_with_history([board])
            Board.objects.filter(pk=board.pk).delete()

    monkeypatch.setattr(board_admin, "follow_schedule", follow_then_hold)
    saving = in_thread(lambda: operator_client.post(change_url(board), data))
    assert held.wait(10)
    deleting = in_thread(delete_board)
    wait_until_a_statement_waits_for_a_lock()  # the deletion, for the board
    go.set()

    assert saving.result(15).status_code == 302
    deleting.result(15)
    assert not Board.objects.filter(pk=board.pk).exists()
    assert not Period.objects.filter(pk=period.pk).exists()
