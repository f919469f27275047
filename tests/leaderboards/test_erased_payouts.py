"""An erased player is never paid a leaderboard reward (no ledger grant to a tombstone), while
every other player's rank and reward stays as the closed period's standings show them
(docs/guide/leaderboards.md, docs/guide/privacy.md "After erasure")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.services.privacy import erase_player
from apps.inventory import demo as inventory_demo
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.leaderboards.models import BracketReward, Payout, Period
from apps.leaderboards.services.payouts import (
    PAYOUT_GRACE,
    pay_one,
    pay_period,
    periods_to_pay,
    preview_payouts,
    retry_payouts,
)
from apps.leaderboards.services.periods import close_period
from apps.leaderboards.tasks import pay_unpaid_periods
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = pytest.mark.django_db

SKIPPED = "player_erased: not paid, the player's account was erased"


@pytest.fixture
def standings(board, game, make_players):
    inventory_demo.seed(game)
    BracketReward.objects.create(
        board=board, position=1, rank_from=1, rank_to=1,
        contents=[{"currency": "gems", "quantity": 50}],
    )  # fmt: skip
    BracketReward.objects.create(
        board=board, position=2, rank_from=2, rank_to=3,
        contents=[{"currency": "gold", "quantity": 20}],
    )  # fmt: skip
    players = make_players(4)
    scores(board, [(p, 100 - n) for n, p in enumerate(players)])
    return players


def close_long_ago(period: Period) -> None:
    close_period(period_id=period.pk)  # on_commit callbacks do not run here: no payout task
    Period.objects.filter(pk=period.pk).update(
        closed_at=timezone.now() - PAYOUT_GRACE - timedelta(seconds=1)
    )


def test_an_erased_player_keeps_their_rank_and_is_not_paid(board, standings):
    first, second, third, fourth = standings
    period = current(board)
    close_long_ago(period)
    # Erased after the close (or in a race with it): the closed standings keep the entry.
    assert erase_player(player=second, actor=None) is True

    assert pay_unpaid_periods() == 1
    assert pay_unpaid_periods() == 0  # the skipped payout is not queued again

    payouts = {p.player_id: p for p in Payout.objects.filter(period=period)}
    assert {pid: p.rank for pid, p in payouts.items()} == {first.pk: 1, second.pk: 2, third.pk: 3}
    skipped = payouts[second.pk]
    assert (skipped.paid_at, skipped.last_error, skipped.needs_attention, skipped.attempts) == (
        None,
        SKIPPED,
        False,
        0,
    )
    assert payouts[first.pk].paid_at and payouts[third.pk].paid_at
    assert not LedgerEntry.objects.filter(player=second).exists()
    assert not Wallet.objects.filter(player=second).exists()
    assert Wallet.objects.get(player=first, currency__code="gems").balance == 50
    assert Wallet.objects.get(player=third, currency__code="gold").balance == 20
    assert not LedgerEntry.objects.filter(player=fourth).exists()
    assert pay_period(period_id=period.pk) == 0
    # The panel's dry run shows the same lines, the erased one marked.
    preview = preview_payouts(period=period)
    assert [(line.rank, line.player_id, line.erased) for line in preview] == [
        (1, first.pk, False),
        (2, second.pk, True),
        (3, third.pk, False),
    ]


def test_a_payout_retried_after_the_erasure_is_skipped(board, game, make_players):
    BracketReward.objects.create(
        board=board, position=1, rank_from=1, rank_to=2,
        contents=[{"currency": "medals", "quantity": 3}],
    )  # fmt: skip
    winner, runner_up = make_players(2)
    scores(board, [(winner, 10), (runner_up, 5)])
    period = current(board)
    close_long_ago(period)
    assert pay_unpaid_periods() == 1  # computed; refused: no currency "medals" yet
    refused = Payout.objects.get(period=period, player=winner)
    assert refused.paid_at is None and refused.attempts == 1

    erase_player(player=winner, actor=None)
    Currency.objects.create(game=game, code="medals", name="Medals")

    assert periods_to_pay() == [period.pk]  # the runner-up is still owed
    assert pay_unpaid_periods() == 1
    assert pay_unpaid_periods() == 0
    assert retry_payouts(payout_ids=[refused.pk], game_ids={game.pk}, actor=None) == []
    # Even asked directly (a task queued before the erasure), nothing is granted.
    assert pay_one(payout_id=refused.pk) == 0

    refused.refresh_from_db()
    assert (refused.paid_at, refused.last_error) == (None, SKIPPED)
    assert not LedgerEntry.objects.filter(player=winner).exists()
    assert Wallet.objects.get(player=runner_up, currency__code="medals").balance == 3
