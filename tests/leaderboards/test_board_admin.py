"""A board's ranking rules stay as they are once it holds entries: the entries were ranked (score
x order) and its open period windowed by them. Name and other settings still change."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.leaderboards.models import Board
from apps.leaderboards.services.submit import submit_score

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(game) -> Client:
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client


def change_url(board: Board) -> str:
    return f"/admin/leaderboards/board/{board.pk}/change/"


def form_as_shown(client: Client, board: Board) -> dict[str, Any]:
    """The change form's fields with the values it shows, and its inlines' management forms."""
    response = client.get(change_url(board))
    assert response.status_code == 200
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    return data


def test_a_board_without_entries_can_change_its_rules(operator_client, board):
    data = form_as_shown(operator_client, board)
    data.update(order=Board.Order.LOWER, operator=Board.Operator.SUM, reset=Board.Reset.DAILY)

    response = operator_client.post(change_url(board), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    board.refresh_from_db()
    assert (board.order, board.operator, board.reset) == ("lower", "sum", "daily")


def test_a_board_with_entries_keeps_its_rules_and_says_why(operator_client, board, player):
    submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
    before = {name: getattr(board, name) for name in ("source", "order", "operator", "reset")}

    shown = operator_client.get(change_url(board))
    data = form_as_shown(operator_client, board)
    assert "order" not in data and "reset" not in data  # not fields of the form any more
    data.update(name="Renamed", order=Board.Order.LOWER, reset=Board.Reset.DAILY)
    response = operator_client.post(change_url(board), data)

    assert "holds scores" in shown.content.decode()
    assert response.status_code == 302
    board.refresh_from_db()
    assert board.name == "Renamed"
    assert {name: getattr(board, name) for name in before} == before
