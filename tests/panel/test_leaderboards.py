"""The leaderboard pages: boards, a board's top, player search, periods, payouts, the dry-run
preview, and the actions (end now, remove an entry): operators act, analysts read (403 on
actions), another game's operators see nothing (404)."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.audit.models import AuditLogEntry
from apps.inventory import demo as inventory_demo
from apps.leaderboards import index
from apps.leaderboards.models import Board, BracketReward, Entry, Payout, Period
from apps.leaderboards.services.periods import close_period, open_period
from apps.leaderboards.services.submit import submit_score
from tests.panel.confirming import confirm
from tests.panel.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(game):
    inventory_demo.seed(game)
    board = Board.objects.create(game=game, slug="weekly", name="Weekly", reset="weekly")
    BracketReward.objects.create(
        board=board, rank_from=1, rank_to=1, contents=[{"currency": "gold", "quantity": 5}]
    )
    for n, name in enumerate(["ana", "ben", "cy"]):
        player = Player.objects.create(game=game, display_name=name)
        submit_score(board=board, player_id=player.pk, score=10 * (n + 1), submission_id=name)
    return board


def url(board, suffix: str = "") -> str:
    return f"/panel/games/{board.game_id}/leaderboards/{board.pk}/{suffix}"


def test_the_boards_page_lists_the_games_boards(operator_client, board):
    html = operator_client.get(f"/panel/games/{board.game_id}/leaderboards/").content.decode()

    assert "Weekly" in html and url(board) in html


def test_the_board_page_shows_the_top_and_finds_a_player(analyst_client, board):
    html = analyst_client.get(url(board)).content.decode()
    found = analyst_client.get(url(board) + "?player=ben").content.decode()

    top = html[html.index('id="top"') :]
    assert top.index(">cy<") < top.index(">ben<") < top.index(">ana<")
    assert 'id="found">#2' in found
    assert "End this period now" not in html  # an analyst reads only


def test_a_player_found_in_a_closed_period_is_ranked_without_an_index(analyst_client, board):
    closed = open_period(board=board)
    close_period(period_id=closed.pk)
    ben = Entry.objects.get(period=closed, player__display_name="ben")
    member = index.member_of(
        rank_key=ben.rank_key, reached_at=ben.reached_at, player_id=ben.player_id
    )

    found = analyst_client.get(url(board) + f"?period={closed.number}&player=ben").content.decode()

    assert 'id="found">#2' in found  # counted in PostgreSQL
    assert not index.is_ready(closed.pk) and index.rank_of(closed.pk, member) is None


def test_the_dry_run_previews_and_writes_nothing(operator_client, board):
    html = operator_client.get(url(board) + "?preview=1").content.decode()

    assert 'id="preview"' in html and "[{&#x27;currency&#x27;: &#x27;gold&#x27;" in html
    assert not Payout.objects.exists()


def test_an_operator_ends_the_period_now_and_it_is_audited(
    operator_client, board, django_capture_on_commit_callbacks
):
    period = open_period(board=board)
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(
            operator_client, url(board, "end-now"), {"period": period.number, "reason": "finals"}
        )

    assert response.status_code == 302
    assert Period.objects.get(pk=period.pk).state == "closed"
    assert AuditLogEntry.objects.get(action="leaderboard.end_period").reason == "finals"
    assert Payout.objects.get(period=period).paid_at is not None
    history = operator_client.get(url(board) + f"?period={period.number}").content.decode()
    assert "closed by oscar" in history and "not yet" not in history


def test_an_operator_removes_an_entry(operator_client, board):
    ana = Player.objects.get(display_name="ana")
    period = open_period(board=board)

    confirm(
        operator_client,
        url(board, "remove-entry"),
        {"period": period.number, "player_id": ana.pk, "reason": "cheat"},
    )

    assert not Entry.objects.filter(player=ana).exists()
    assert AuditLogEntry.objects.get(action="leaderboard.remove_entry").reason == "cheat"


@pytest.mark.parametrize("action", ["end-now", "remove-entry"])
@pytest.mark.parametrize("reason", ["a\x00b", "r" * 301])
def test_a_reason_the_form_refuses_changes_nothing_and_says_why(
    operator_client, board, action, reason
):
    ana = Player.objects.get(display_name="ana")
    period = open_period(board=board)
    fields = {"period": period.number, "player_id": ana.pk, "reason": reason, "confirm": "yes"}

    response = operator_client.post(url(board, action), fields, follow=True)

    assert response.status_code == 200
    assert "Nothing changed: reason:" in response.content.decode()
    assert Period.objects.get(pk=period.pk).state == "open"
    assert Entry.objects.filter(player=ana).exists()
    assert not AuditLogEntry.objects.filter(action__startswith="leaderboard.").exists()


def test_the_forms_name_the_period_the_page_shows(operator_client, board):
    period = open_period(board=board)
    html = operator_client.get(url(board)).content.decode()

    end_now = html[html.index('id="end-now"') :]
    assert f'name="period" value="{period.number}"' in end_now[: end_now.index("</form>")]
    top = html[html.index('id="top"') : html.index("</table>", html.index('id="top"'))]
    assert top.count(f'name="period" value="{period.number}"') == 3  # one per Remove


def test_ending_a_period_that_closed_meanwhile_leaves_the_next_one_open(
    operator_client, board, django_capture_on_commit_callbacks
):
    shown = open_period(board=board)
    close_period(period_id=shown.pk)  # its schedule closed it while the page was open
    following = Period.objects.get(board=board, state="open")

    response = operator_client.post(
        url(board, "end-now"), {"period": shown.number, "reason": "late click"}
    )

    assert response.status_code == 302
    assert Period.objects.get(pk=following.pk).state == "open"
    assert Period.objects.filter(board=board).count() == 2
    assert not AuditLogEntry.objects.filter(action="leaderboard.end_period").exists()
    assert "was closed already" in operator_client.get(url(board)).content.decode()


def test_a_closed_periods_entries_are_final(operator_client, board):
    shown = open_period(board=board)
    close_period(period_id=shown.pk)
    ana = Player.objects.get(display_name="ana")

    operator_client.post(url(board, "remove-entry"), {"period": shown.number, "player_id": ana.pk})

    assert Entry.objects.filter(period=shown).count() == 3
    assert not AuditLogEntry.objects.filter(action="leaderboard.remove_entry").exists()
    assert "Nothing changed" in operator_client.get(url(board)).content.decode()


@pytest.mark.parametrize("action", ["end-now", "remove-entry"])
def test_an_action_without_the_period_it_was_shown_is_404(operator_client, board, action):
    ana = Player.objects.get(display_name="ana")

    response = operator_client.post(url(board, action), {"player_id": ana.pk})

    assert response.status_code == 404
    assert Period.objects.filter(state="open").count() == 1 and Entry.objects.count() == 3


@pytest.mark.parametrize("action", ["end-now", "remove-entry"])
def test_an_analyst_may_not_act(analyst_client, board, action):
    response = analyst_client.post(url(board, action), {"player_id": 1})

    assert response.status_code == 403
    assert Period.objects.filter(state="open").count() == 1 and Entry.objects.count() == 3


@pytest.mark.parametrize("action", ["", "end-now"])
def test_another_games_operator_gets_404(other_operator, board, action):
    client = client_for(other_operator)
    response = client.post(url(board, action)) if action else client.get(url(board))

    assert response.status_code == 404
    assert Period.objects.filter(state="open").count() == 1


def test_a_board_of_another_game_under_my_game_is_404(operator_client, board, other_game):
    theirs = Board.objects.create(game=other_game, slug="x", name="X")

    response = operator_client.get(f"/panel/games/{board.game_id}/leaderboards/{theirs.pk}/")

    assert response.status_code == 404
