import pytest

from apps.accounts.models import Player
from apps.stats.errors import UnknownStat
from apps.stats.models import LevelCurve, PlayerProgress, PlayerStat
from apps.stats.services import MAX_STAT_TOTAL, add_xp, apply_stats


def values(player):
    return dict(PlayerStat.objects.filter(player=player).values_list("definition__key", "value"))


@pytest.mark.django_db
def test_each_stat_combines_by_its_definition(game, player, stat_defs):
    first = {"kills": 3, "best_score": 50, "fastest_lap": 900, "last_rank": 4}
    second = {"kills": 2, "best_score": 40, "fastest_lap": 950, "last_rank": 7}

    apply_stats(game_id=game.pk, stats_by_player={player.pk: first})
    apply_stats(game_id=game.pk, stats_by_player={player.pk: second})

    assert values(player) == {"kills": 5, "best_score": 50, "fastest_lap": 900, "last_rank": 7}


@pytest.mark.django_db
def test_unknown_stat_key_is_refused_and_nothing_is_written(game, player, stat_defs):
    with pytest.raises(UnknownStat) as error:
        apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 1, "headshots": 2}})

    assert error.value.extra == {"stats": ["headshots"]}
    assert not PlayerStat.objects.exists()


@pytest.mark.django_db
def test_stats_of_another_game_are_unknown_here(game, other_game, player, stat_defs):
    with pytest.raises(UnknownStat):
        apply_stats(game_id=other_game.pk, stats_by_player={player.pk: {"kills": 1}})


@pytest.mark.django_db
def test_many_players_and_stats_cost_a_fixed_number_of_queries(
    game, stat_defs, django_assert_max_num_queries
):
    players = Player.objects.bulk_create([Player(game=game) for _ in range(40)])
    stats = {"kills": 1, "best_score": 2, "fastest_lap": 3, "last_rank": 4}

    # the definitions, then one upsert
    with django_assert_max_num_queries(2):
        apply_stats(game_id=game.pk, stats_by_player={p.pk: stats for p in players})

    assert PlayerStat.objects.count() == 160


@pytest.mark.django_db
def test_xp_raises_the_level_on_the_games_curve(game, player):
    LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=10)

    first = add_xp(game_id=game.pk, xp_by_player={player.pk: 150})
    second = add_xp(game_id=game.pk, xp_by_player={player.pk: 30})

    assert (first[player.pk].level_before, first[player.pk].level_after) == (1, 2)
    assert first[player.pk].leveled_up
    assert not second[player.pk].leveled_up
    assert PlayerProgress.objects.get(player=player).xp == 180


@pytest.mark.django_db
def test_xp_for_many_players_costs_a_fixed_number_of_queries(game, django_assert_max_num_queries):
    players = Player.objects.bulk_create([Player(game=game) for _ in range(50)])

    # one upsert returning the totals, then the curve
    with django_assert_max_num_queries(2):
        changes = add_xp(game_id=game.pk, xp_by_player={p.pk: 2500 for p in players})

    assert {(c.level_before, c.level_after) for c in changes.values()} == {(1, 3)}
    assert PlayerProgress.objects.filter(xp=2500).count() == 50


@pytest.mark.django_db
def test_a_sum_saturates_instead_of_overflowing_its_column(game, player, stat_defs):
    # A server reporting the largest value forever once took the sum past BIGINT: every later
    # match naming the player failed (a 500). It stops at MAX_STAT_TOTAL, either way.
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 1}})
    PlayerStat.objects.filter(player=player).update(value=MAX_STAT_TOTAL - 5)
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 10**12}})
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 10**12}})
    assert values(player)["kills"] == MAX_STAT_TOTAL

    PlayerStat.objects.filter(player=player).update(value=-MAX_STAT_TOTAL + 1)
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": -(10**12)}})
    assert values(player)["kills"] == -MAX_STAT_TOTAL
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 7}})
    assert values(player)["kills"] == -MAX_STAT_TOTAL + 7


@pytest.mark.django_db
def test_a_latest_stat_keeps_the_newest_report_whatever_arrives_last(game, player, stat_defs):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    report = {player.pk: {"last_rank": 2, "kills": 1}}
    apply_stats(game_id=game.pk, stats_by_player=report, reported_at=now - timedelta(minutes=5))
    older = {player.pk: {"last_rank": 9, "kills": 1}}
    apply_stats(game_id=game.pk, stats_by_player=older, reported_at=now - timedelta(hours=1))
    assert values(player) == {"last_rank": 2, "kills": 2}

    same_time = {player.pk: {"last_rank": 3}}  # as new as the stored one: it arrived later
    apply_stats(game_id=game.pk, stats_by_player=same_time, reported_at=now - timedelta(minutes=5))
    assert values(player)["last_rank"] == 3


@pytest.mark.django_db
def test_a_report_dated_ahead_of_our_clock_counts_as_now(game, player, stat_defs):
    from datetime import timedelta

    from django.utils import timezone

    future = {player.pk: {"last_rank": 1}}
    apply_stats(
        game_id=game.pk, stats_by_player=future, reported_at=timezone.now() + timedelta(days=1)
    )
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"last_rank": 5}})

    assert values(player)["last_rank"] == 5
    assert PlayerStat.objects.get(player=player).value_at <= timezone.now()


@pytest.mark.django_db
def test_a_value_kept_before_report_times_were_is_replaced_by_any_report(game, player, stat_defs):
    from datetime import timedelta

    from django.utils import timezone

    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"last_rank": 4}})
    PlayerStat.objects.update(value_at=None)  # a value written before the column existed
    old = {player.pk: {"last_rank": 8}}
    apply_stats(
        game_id=game.pk, stats_by_player=old, reported_at=timezone.now() - timedelta(days=30)
    )

    assert values(player)["last_rank"] == 8
