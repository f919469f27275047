from __future__ import annotations

import threading
import time

from django.db import connection

from apps.accounts.models import Player
from apps.leaderboards.models import Board
from apps.leaderboards.services.submit import Submitted, submit_score


def scores(board: Board, pairs: list[tuple[Player, int]], *, prefix: str = "s") -> list[Submitted]:
    """Submit in the order given (earlier reaches a tie first)."""
    return [
        submit_score(board=board, player_id=player.pk, score=value, submission_id=f"{prefix}{n}")
        for n, (player, value) in enumerate(pairs)
    ]


def wait_until_a_statement_waits_for_a_lock(timeout: float = 10.0) -> None:
    """Until another session of this database waits for a lock (read from inside a transaction:
    the activity view is read afresh each time)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.01)
    raise AssertionError("no statement waited for a lock")
