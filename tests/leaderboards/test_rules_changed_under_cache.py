"""A board's ranking rules (game, source, stat, order, operator) may change while it holds no
entry; a process keeps each board 2 s (selectors.board_for, stat_boards.stat_boards). A score
written with a copy older than the rules is still stored by the board's committed rules: the
submission's statement checks the copy's rules against the board's row (held FOR SHARE, so an
operator's change being saved is waited for), and on a mismatch the board is read again and the
write redone. Once the board holds the score its rules are locked, so a score stored by the old
ones could never be put right (a lap-time board turned to lower-is-better ranking 90 above 60).

The admin re-checks "still no entry?" under the board's and open period's locks for every
ranking field it lets change, not only for the reset and time zone: a first score cannot land
between that check and the save."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.leaderboards import admin as board_admin
from apps.leaderboards.errors import BoardNotFound
from apps.leaderboards.models import Board, Entry, Submission
from apps.leaderboards.selectors import lock_for_schedule_change
from apps.leaderboards.services.stat_boards import record_match_stats, stat_boards
from apps.leaderboards.services.submit import submit_score
from apps.stats.models import StatDefinition
from tests.conftest import eventually, in_thread, wait_until_a_statement_waits_for_a_lock
from tests.leaderboards.conftest import current
from tests.leaderboards.test_board_admin import change_url, form_as_shown

pytestmark = pytest.mark.django_db
REFUSED = "received its first scores while you edited it"


def ranked(board: Board) -> list[tuple[int, int]]:
    """(player, score) of the board's open period, best first."""
    return list(
        Entry.objects.filter(period=current(board))
        .order_by("rank_key", "reached_at", "player_id")
        .values_list("player_id", "score")
    )


def test_a_copy_with_the_old_order_ranks_by_the_new_one(board, make_players):
    a, b = make_players(2)
    cached = Board.objects.get(pk=board.pk)  # as board_for keeps it
    Board.objects.filter(pk=board.pk).update(order=Board.Order.LOWER)  # a lap-time board

    submit_score(board=cached, player_id=a.pk, score=90, submission_id="a")
    result = submit_score(board=cached, player_id=b.pk, score=60, submission_id="b")

    assert result.rank_key == 60
    assert ranked(board) == [(b.pk, 60), (a.pk, 90)]
    assert Submission.objects.count() == 2


def test_a_copy_with_the_old_operator_combines_by_the_new_one(board, player):
    cached = Board.objects.get(pk=board.pk)
    Board.objects.filter(pk=board.pk).update(operator=Board.Operator.SUM)

    submit_score(board=cached, player_id=player.pk, score=10, submission_id="s1")
    result = submit_score(board=cached, player_id=player.pk, score=20, submission_id="s2")

    assert result.score == 30
    assert ranked(board) == [(player.pk, 30)]


def test_a_copy_of_a_board_moved_to_another_game_takes_no_score(board, player, other_game):
    cached = Board.objects.get(pk=board.pk)
    current(board)
    Board.objects.filter(pk=board.pk).update(game=other_game)

    with pytest.raises(BoardNotFound):
        submit_score(board=cached, player_id=player.pk, score=10, submission_id="s1")

    assert not Entry.objects.exists()
    assert not Submission.objects.exists()


@pytest.fixture
def stats(game) -> None:
    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    StatDefinition.objects.create(game=game, key="deaths", name="Deaths")


def test_a_match_scores_the_stat_the_board_now_follows(game, make_board, stats, player):
    board = make_board("frags", source=Board.Source.STAT, stat_key="kills")
    assert [b.stat_key for b in stat_boards(game.pk)] == ["kills"]  # kept for 2 s
    Board.objects.filter(pk=board.pk).update(stat_key="deaths")

    record_match_stats(
        game_id=game.pk,
        match_id="m1",
        stats_by_player={player.pk: {"kills": 5, "deaths": 2}},
        recorded_at=timezone.now(),
    )
    record_match_stats(
        game_id=game.pk,
        match_id="m2",
        stats_by_player={player.pk: {"kills": 7}},  # not the stat it follows now
        recorded_at=timezone.now(),
    )

    assert ranked(board) == [(player.pk, 2)]


def test_a_match_leaves_a_board_no_longer_fed_by_stats(game, make_board, stats, player):
    board = make_board("frags", source=Board.Source.STAT, stat_key="kills")
    assert stat_boards(game.pk)
    Board.objects.filter(pk=board.pk).update(source=Board.Source.SERVER, stat_key="")

    record_match_stats(
        game_id=game.pk,
        match_id="m1",
        stats_by_player={player.pk: {"kills": 5}},
        recorded_at=timezone.now(),
    )

    assert not Entry.objects.exists()
    assert not Submission.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_score_sent_while_the_new_order_is_saved_waits_and_ranks_by_it(board, make_players):
    """The operator's save holds the board (and its open period) from its check to its commit;
    a score sent meanwhile with the copy read before waits, then finds the new order."""
    a, b = make_players(2)
    current(board)
    cached = Board.objects.get(pk=board.pk)
    locked, go = threading.Event(), threading.Event()

    def save_new_order() -> None:
        with transaction.atomic():
            assert lock_for_schedule_change(board)
            Board.objects.filter(pk=board.pk).update(order=Board.Order.LOWER)
            locked.set()
            go.wait(10)

    saving = in_thread(save_new_order)
    assert locked.wait(10)
    scoring = in_thread(
        lambda: submit_score(board=cached, player_id=a.pk, score=90, submission_id="a")
    )
    wait_until_a_statement_waits_for_a_lock()  # the score, for the save
    go.set()

    saving.result(15)
    assert scoring.result(15).rank_key == 90
    submit_score(board=cached, player_id=b.pk, score=60, submission_id="b")
    assert ranked(board) == [(b.pk, 60), (a.pk, 90)]


@pytest.fixture
def operator_client(game) -> Client:
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client


CHANGES: dict[str, dict[str, Any]] = {
    "order": {"order": Board.Order.LOWER},
    "operator": {"operator": Board.Operator.SUM},
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_first_score_after_the_form_was_built_refuses_a_rule_change(
    operator_client, board, player, monkeypatch, change
):
    data = form_as_shown(operator_client, board)
    assert change in data  # no score yet: editable
    data.update(CHANGES[change])
    landed: list[object] = []

    def first_score_lands_after(obj: Board) -> bool:
        if not landed:
            landed.append(
                submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
            )
        return False

    monkeypatch.setattr(board_admin, "holds_entries", first_score_lands_after)

    response = operator_client.post(change_url(board), data)

    assert response.status_code == 200  # the form again, with why
    assert REFUSED in str(response.context["adminform"].form.non_field_errors())
    board.refresh_from_db()
    assert (board.order, board.operator) == (Board.Order.HIGHER, Board.Operator.BEST)


def _lock_waits() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", CHANGES)
def test_a_rule_change_waits_for_a_first_score_being_written_then_refuses(
    operator_client, board, player, change
):
    """A first score in a transaction (a match result's), not committed when the form is
    checked: the save waits for it, then finds it. Without the locks it saved the new rule,
    and the score committed after it was ranked by the old one, for good."""
    current(board)
    data = form_as_shown(operator_client, board)
    data.update(CHANGES[change])
    written, go = threading.Event(), threading.Event()

    def score_in_a_transaction() -> None:
        with transaction.atomic():
            submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
            written.set()
            go.wait(10)

    scoring = in_thread(score_in_a_transaction)
    assert written.wait(10)
    saving = in_thread(lambda: operator_client.post(change_url(board), data))
    eventually(lambda: saving.done() or _lock_waits(), within=10)
    go.set()

    scoring.result(15)
    response = saving.result(15)
    assert response.status_code == 200, response.status_code
    assert REFUSED in response.content.decode()
    board.refresh_from_db()
    assert (board.order, board.operator) == (Board.Order.HIGHER, Board.Operator.BEST)
    assert Entry.objects.get(player=player).rank_key == -10
