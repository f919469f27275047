import pytest
from django.core.exceptions import ValidationError

from apps.stats.levels import MAX_XP, Curve
from apps.stats.models import LevelCurve


def test_level_one_needs_no_xp_and_each_step_grows_by_the_percentage():
    curve = Curve(xp_per_level=100, growth_percent=50, max_level=5)

    assert curve.thresholds() == (0, 100, 250, 475, 813)
    assert curve.level_for(0) == 1
    assert curve.level_for(99) == 1
    assert curve.level_for(100) == 2
    assert curve.level_for(474) == 3


def test_xp_to_next_level_counts_down_and_is_none_at_the_last_level():
    curve = Curve(xp_per_level=100, growth_percent=0, max_level=3)

    assert curve.xp_to_next_level(0) == 100
    assert curve.xp_to_next_level(150) == 50
    assert curve.xp_to_next_level(200) is None
    assert curve.level_for(10_000) == 3


def test_a_curve_steeper_than_any_xp_total_answers_and_is_not_reachable():
    # 100 % growth from 67,108,864 XP: the thousandth step is past the float range, and
    # round(inf) once made every level computation of the game raise (a 500 on every match).
    steep = Curve(67_108_864, 100, 1000)

    assert not steep.reachable()
    assert steep.level_for(0) == 1
    last = steep.level_for(MAX_XP)
    assert 1 < last < 1000
    assert steep.xp_to_next_level(MAX_XP) is None  # no XP total reaches the next one
    assert Curve().reachable() and Curve(1_000_000, 100, 40).reachable()


@pytest.mark.django_db
def test_the_admin_refuses_a_curve_no_player_can_finish(game):
    curve = LevelCurve(game=game, xp_per_level=67_108_864, growth_percent=100, max_level=1000)

    with pytest.raises(ValidationError, match="more XP than a player can hold"):
        curve.full_clean()
    LevelCurve(game=game, xp_per_level=1000, growth_percent=10, max_level=100).full_clean()
