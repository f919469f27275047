"""The panel's leaderboard pages and CSV records show an erased player without a name ("erased
player #id"), their payout as skipped, and refuse an operator's action on them
(docs/guide/privacy.md, "After erasure")."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.privacy import erase_player
from apps.audit.models import AuditLogEntry
from apps.inventory import demo as inventory_demo
from apps.leaderboards.models import Board, BracketReward, Entry, Payout
from apps.leaderboards.services.payouts import pay_period
from apps.leaderboards.services.periods import close_period, open_period
from apps.leaderboards.services.submit import submit_score

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(game):
    inventory_demo.seed(game)
    board = Board.objects.create(game=game, slug="weekly", name="Weekly", reset="weekly")
    BracketReward.objects.create(
        board=board, rank_from=1, rank_to=2, contents=[{"currency": "gold", "quantity": 5}]
    )
    return board


@pytest.fixture
def players(game, board):
    made = []
    for n, name in enumerate(["zelda-erased", "ben", "cy"]):
        player = Player.objects.create(game=game, display_name=name)
        submit_score(board=board, player_id=player.pk, score=100 - n, submission_id=name)
        made.append(player)
    return made


def url(board, suffix: str = "") -> str:
    return f"/panel/games/{board.game_id}/leaderboards/{board.pk}/{suffix}"


def test_a_closed_periods_standings_and_payouts_show_the_erased_player_without_a_name(
    operator_client, board, players
):
    gone, ben, _ = players
    period = open_period(board=board)
    close_period(period_id=period.pk)  # its payout task does not run here
    erase_player(player=gone, actor=None)

    preview = operator_client.get(url(board) + f"?period={period.number}&preview=1")
    html = preview.content.decode()
    assert "zelda" not in html
    assert f"erased player #{gone.pk}" in html
    assert f"erased player #{gone.pk} (not paid)" in html

    pay_period(period_id=period.pk)
    html = operator_client.get(url(board) + f"?period={period.number}").content.decode()
    payouts = html[html.index('id="payouts"') :]
    assert f"erased player #{gone.pk}" in payouts
    assert "skipped: the player's account was erased" in payouts
    assert Payout.objects.get(player=ben).paid_at is not None
    found = operator_client.get(url(board) + f"?period={period.number}&player={gone.pk}")
    assert f"erased player #{gone.pk}" in found.content.decode()


def test_removing_an_erased_players_entry_is_refused_with_a_message(
    operator_client, board, players
):
    gone = players[0]
    period = open_period(board=board)
    erase_player(player=gone, actor=None)
    # An entry left under the tombstone (a race the erasure lost): not the operator's to act on.
    Entry.objects.create(
        period=period, player=gone, score=1, rank_key=-1, reached_at=timezone.now()
    )

    response = operator_client.post(
        url(board, "remove-entry"),
        {"period": period.number, "player_id": gone.pk, "reason": "cleanup"},
    )

    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [f"Nothing changed: Player {gone.pk}'s account was erased."]
    assert Entry.objects.filter(player=gone).exists()
    assert not AuditLogEntry.objects.filter(
        action="leaderboard.remove_entry", reason="cleanup"
    ).exists()


def test_the_players_csv_shows_an_erased_player_without_a_name_or_ban(analyst_client, game, player):
    ban_player(player=player, reason="cheat", until=None, actor=None)
    erase_player(player=player, actor=None)
    response = analyst_client.get(f"/panel/games/{game.pk}/records/players.csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    (row,) = [r for r in rows[1:] if r[0] == str(player.pk)]
    assert row[1] == f"erased player #{player.pk}"
    assert row[4:6] == ["", ""]
