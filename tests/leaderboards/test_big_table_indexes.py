"""The periodic reads of the leaderboards' big tables go by an index: the payout sweep's unpaid
payouts (every 10 minutes, over every payout ever written) and the daily prune's old
submissions. PostgreSQL shows it can answer each from its index (sequential scans off: with a
handful of rows it would read the table anyway)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.leaderboards.models import Payout, Period, Submission
from apps.leaderboards.services.payouts import periods_to_pay
from apps.leaderboards.services.periods import close_period
from apps.leaderboards.services.retention import prune_submissions
from apps.leaderboards.services.submit import submit_score
from tests.leaderboards.conftest import current

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plans_of(work: object) -> str:
    """The plans of the SELECTs `work` runs, as PostgreSQL makes them without sequential
    scans."""
    with CaptureQueriesContext(connection) as captured:
        work()  # type: ignore[operator]
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in selects:
            cursor.execute(f"EXPLAIN {sql}")
            plans += [row[0] for row in cursor.fetchall()]
    return "\n".join(plans)


def test_the_payout_sweep_reads_the_unpaid_payouts_from_their_partial_index(board, make_players):
    players = make_players(3)
    period = current(board)
    close_period(period_id=period.pk)
    # Closed an hour ago, its payouts written (computed): only an unpaid one makes it due.
    Period.objects.filter(pk=period.pk).update(
        closed_at=timezone.now() - timedelta(hours=1), payouts_computed_at=timezone.now()
    )
    for rank, player in enumerate(players, start=1):
        Payout.objects.create(
            period=period,
            player=player,
            rank=rank,
            score=0,
            paid_at=timezone.now() if rank > 1 else None,
        )

    plan = plans_of(lambda: periods_to_pay(now=timezone.now()))

    assert periods_to_pay(now=timezone.now()) == [period.pk]
    assert "payout_unpaid" in plan, plan


def test_the_prune_finds_old_submissions_by_their_created_at_index(board, player):
    submit_score(board=board, player_id=player.pk, score=1, submission_id="s1")
    Submission.objects.update(created_at=timezone.now() - timedelta(days=400))

    plan = plans_of(prune_submissions)

    assert not Submission.objects.exists()
    assert "submission_created" in plan, plan
