from apps.stats.levels import Curve


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
