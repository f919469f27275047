"""A match decides who is banned once, at its moment (when it arrived, Match.recorded_at): the
moment its stat-board scores and season XP count at. A timed ban that lapsed while the match
waited for its players' row locks gave the line stats and XP while the stat board refused its
score as a banned player's (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.leaderboards.models import Board, Entry
from apps.multiplayer.models import MatchResult
from apps.stats.models import PlayerProgress, PlayerStat
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.multiplayer.conftest import URL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_ban_that_lapses_while_the_match_waits_for_the_player_counts_as_at_its_arrival(
    server_client, game, make_players, stat_defs, curve
):
    Board.objects.create(
        game=game,
        slug="kills",
        name="Kills",
        source=Board.Source.STAT,
        stat_key="kills",
        operator=Board.Operator.SUM,
    )
    (cheater,) = make_players(1)
    ban_ends = timezone.now() + timedelta(seconds=1.5)
    Player.objects.filter(pk=cheater.pk).update(banned_until=ban_ends)
    held, release = threading.Event(), threading.Event()

    def hold_the_players_row() -> None:
        # Another transaction on the player (an operator's edit, say), held a moment.
        with transaction.atomic():
            Player.objects.select_for_update().get(pk=cheater.pk)
            held.set()
            release.wait(10)

    holder = in_thread(hold_the_players_row)
    assert held.wait(5)
    body = {
        "match_id": "m-lapse",
        "players": [{"player_id": cheater.pk, "outcome": "win", "stats": {"kills": 9}}],
    }
    posted = in_thread(lambda: server_client.post(URL, body, format="json"))
    try:
        wait_until_a_statement_waits_for_a_lock()  # the match arrived, and waits for the row
        time.sleep(max((ban_ends - timezone.now()).total_seconds(), 0) + 0.2)
    finally:
        release.set()
    holder.result(10)
    response = posted.result(10)

    assert response.status_code == 201
    line = MatchResult.objects.get(player=cheater)
    assert line.recorded_at < ban_ends  # banned when the match arrived
    # Banned at the match's moment: the line is recorded and grants nothing, and the stat board
    # (which counts at that moment too) takes no score. Before, the ban was read once the lock
    # was granted: XP and stats were granted, the board's score refused as a banned player's.
    assert response.json()["players"][0]["xp_awarded"] == 0
    assert line.counted is False
    assert not PlayerStat.objects.filter(player=cheater).exists()
    assert not PlayerProgress.objects.filter(player=cheater, xp__gt=0).exists()
    assert not Entry.objects.filter(player=cheater).exists()
