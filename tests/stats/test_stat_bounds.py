"""A sum stat's bound holds for values stored before it existed."""

import pytest

from apps.stats.models import PlayerStat
from apps.stats.services import MAX_STAT_TOTAL, apply_stats


def kills(player) -> int:
    return PlayerStat.objects.get(player=player, definition__key="kills").value


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stored", "reported", "after"),
    [
        (2**63 - 10, 10**12, MAX_STAT_TOTAL),  # at BIGINT's edge: the addition overflowed
        (2**63 - 10, -(10**12), MAX_STAT_TOTAL - 10**12),
        (-(2**63), -1, -MAX_STAT_TOTAL),
        (-(2**63), 7, -MAX_STAT_TOTAL + 7),
    ],
)
def test_a_sum_stored_past_the_bound_saturates_instead_of_failing_every_match(
    game, player, stat_defs, stored, reported, after
):
    # Sums kept from before the bound (a server that reported huge values for long) may sit
    # anywhere in BIGINT; on PostgreSQL adding a report to one past 2**63 - 1 - 10**12 raised
    # "bigint out of range", so every later match naming the player was a 500.
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 1}})
    PlayerStat.objects.filter(player=player).update(value=stored)

    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": reported}})

    assert kills(player) == after
