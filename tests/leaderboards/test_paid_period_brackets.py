"""A bracket tied to a period whose payouts were already written (they are written once, when it
closed) would pay nothing: adding one, or changing what one grants, is refused with the reason
instead of being saved as if it would pay. The board's own brackets (for every period), and a
closed period's whose payouts are still to be written, still change; a paid period's brackets
saved unchanged with the rest of the board are taken."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.inventory import demo as inventory_demo
from apps.leaderboards.models import Board, BracketReward, Payout, Period
from apps.leaderboards.services.payouts import pay_period
from apps.leaderboards.services.periods import close_period
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores
from tests.leaderboards.test_board_admin import change_url, form_as_shown, operator_client

pytestmark = pytest.mark.django_db

__all__ = ["operator_client"]  # the fixture, used here too

GOLD = [{"currency": "gold", "quantity": 5}]


@pytest.fixture
def paid_period(game, board: Board, make_players) -> Period:
    """A closed period of the board whose payouts were written (and paid) at its close."""
    inventory_demo.seed(game)
    period = current(board)
    ana, ben = make_players(2)
    scores(board, [(ana, 50), (ben, 40)])
    BracketReward.objects.create(board=board, rank_from=1, rank_to=1, contents=GOLD)
    close_period(period_id=period.pk)
    pay_period(period_id=period.pk)
    period.refresh_from_db()
    assert period.payouts_computed_at is not None
    return period


def bracket_rows(client: Client, board: Board) -> tuple[dict[str, Any], str]:
    """The change form as shown, with its bracket inline's rows, and the inline's prefix."""
    data = form_as_shown(client, board)
    response = client.get(change_url(board))
    [inline] = [
        inline for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is BracketReward
    ]  # fmt: skip
    prefix = inline.formset.prefix
    for n, form in enumerate(inline.formset.forms):
        data[f"{prefix}-{n}-id"] = form.instance.pk
        for name in ["position", "name", "rank_from", "rank_to", "top_percent", "period"]:
            value = form.initial.get(name)
            if value is not None:
                data[f"{prefix}-{n}-{name}"] = value
        data[f"{prefix}-{n}-contents"] = form["contents"].value()
        data[f"{prefix}-{n}-board"] = board.pk
    return data, prefix


def test_a_bracket_added_to_a_period_already_paid_is_refused(operator_client, board, paid_period):
    data, prefix = bracket_rows(operator_client, board)
    row = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = row + 1
    data.update(
        {
            f"{prefix}-{row}-position": 1,
            f"{prefix}-{row}-rank_from": 2,
            f"{prefix}-{row}-rank_to": 2,
            f"{prefix}-{row}-contents": '[{"currency": "gold", "quantity": 7}]',
            f"{prefix}-{row}-period": paid_period.pk,
        }
    )

    refused = operator_client.post(change_url(board), data)

    assert refused.status_code == 200  # the form again, with the reason
    assert "payouts were written when it closed" in refused.content.decode()
    assert not BracketReward.objects.filter(period=paid_period).exists()
    assert Payout.objects.filter(period=paid_period).count() == 1  # rank 1's, as it was


def test_a_paid_periods_bracket_cannot_change_what_it_grants(board, paid_period):
    bracket = BracketReward.objects.create(
        board=board, period=paid_period, rank_from=1, rank_to=1, contents=GOLD
    )  # written before this rule (or as the period closed): kept as it is
    bracket.full_clean()  # unchanged: taken, so the board's form still saves

    bracket.contents = [{"currency": "gold", "quantity": 500}]
    with pytest.raises(ValidationError) as refused:
        bracket.full_clean()
    assert "payouts were written when it closed" in str(refused.value)

    bracket.refresh_from_db()
    bracket.period = current(board)  # moved off the paid period: its record would change
    with pytest.raises(ValidationError):
        bracket.full_clean()


def test_the_boards_brackets_and_an_unpaid_periods_still_change(
    operator_client, board, paid_period
):
    open_one = current(board)
    bracket = BracketReward(board=board, period=open_one, rank_from=1, rank_to=3, contents=GOLD)
    bracket.full_clean()  # the open period: pays at its close
    every_period = BracketReward.objects.get(board=board, period=None)
    every_period.contents = [{"currency": "gold", "quantity": 9}]
    every_period.full_clean()  # the board's, for the periods to come

    BracketReward.objects.create(
        board=board, period=paid_period, rank_from=1, rank_to=1, contents=GOLD
    )  # shown on the form and saved with it, unchanged
    data, _ = bracket_rows(operator_client, board)
    data["name"] = "Renamed"
    saved = operator_client.post(change_url(board), data)

    assert saved.status_code == 302
    assert Board.objects.get(pk=board.pk).name == "Renamed"
