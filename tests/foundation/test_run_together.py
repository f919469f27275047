"""gamingpanel.sql.run_together: statements of one change that need no answer in between run in
order, each answering its rows; on PostgreSQL they are sent as one message (one round trip)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from apps.stats.models import PlayerProgress
from apps.stats.selectors import PLAYER_LEVEL
from gamingpanel.sql import CompiledInsert, CompiledQuery, run_together

pytestmark = pytest.mark.django_db

SET_XP = CompiledQuery.compile(
    "UPDATE {progress} SET xp = %s WHERE player_id = %s", progress=PlayerProgress
)
XP_OF = CompiledQuery.compile(
    "SELECT xp FROM {progress} WHERE player_id = %s", progress=PlayerProgress
)
INSERT_PROGRESS = CompiledInsert.compile(PlayerProgress)


def test_each_statement_answers_its_own_rows_in_order(player, game):
    PlayerProgress.objects.create(player=player, xp=10)

    with transaction.atomic():
        updated, read, level = run_together(
            [
                (SET_XP, [2500, player.pk]),
                (XP_OF, [player.pk]),
                (PLAYER_LEVEL, [player.pk, game.pk]),
            ]
        )

    assert updated == []  # an UPDATE returns no rows
    assert read == [(2500,)]  # the second statement sees what the first wrote
    assert level[0][0] == 2500
    assert PlayerProgress.objects.get(player=player).xp == 2500


@pytest.mark.postgres
def test_on_postgresql_they_travel_in_one_round_trip(player, game, executes):
    PlayerProgress.objects.create(player=player, xp=1)
    PLAYER_LEVEL.rows([player.pk, game.pk])  # prepared already: no PREPARE in the count
    XP_OF.rows([player.pk])
    SET_XP.execute([1, player.pk])
    executes.clear()

    with transaction.atomic():
        run_together(
            [(SET_XP, [7, player.pk]), (XP_OF, [player.pk]), (PLAYER_LEVEL, [player.pk, game.pk])]
        )

    [batch] = [sql for sql in executes if "SAVEPOINT" not in sql]  # the test's own atomic
    assert batch.count("EXECUTE") == 3


def test_a_read_before_a_write_sees_the_old_value_and_one_after_it_the_new(player):
    PlayerProgress.objects.create(player=player, xp=3)

    with transaction.atomic():
        answers = run_together(
            [(XP_OF, [player.pk]), (SET_XP, [4, player.pk]), (XP_OF, [player.pk])]
        )

    assert answers == [[(3,)], [], [(4,)]]


def test_a_read_that_matches_nothing_answers_no_rows_and_the_next_still_answers(player):
    PlayerProgress.objects.create(player=player, xp=5)

    with transaction.atomic():
        answers = run_together([(XP_OF, [player.pk + 1_000]), (XP_OF, [player.pk])])

    assert answers == [[], [(5,)]]


def test_an_insert_statement_stores_the_instance_as_insert_would(player):
    progress = PlayerProgress(player=player, xp=42)

    with transaction.atomic():
        run_together([INSERT_PROGRESS.insert_statement(progress)])

    assert PlayerProgress.objects.get(player=player).xp == 42
    assert progress._state.adding is False


def test_a_failing_statement_raises_and_the_transaction_keeps_nothing(player, game):
    PlayerProgress.objects.create(player=player, xp=5)
    duplicate = PlayerProgress(player=player, xp=6)  # one progress row per player

    with pytest.raises(DatabaseError), transaction.atomic():
        run_together([(SET_XP, [99, player.pk]), INSERT_PROGRESS.insert_statement(duplicate)])

    assert PlayerProgress.objects.get(player=player).xp == 5
