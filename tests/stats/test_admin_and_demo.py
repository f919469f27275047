import pytest
from django.core.management import call_command

from apps.accounts.models import Game
from apps.battlepass.selectors import running_season
from apps.events.selectors import running_events
from apps.stats.models import LevelCurve, StatDefinition


@pytest.mark.django_db
def test_level_curve_page_previews_the_first_levels(admin_client, game):
    curve = LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=5)

    page = admin_client.get(f"/admin/stats/levelcurve/{curve.pk}/change/")

    assert page.status_code == 200
    assert "level 2: 100" in page.content.decode()
    assert "level 5: 400" in page.content.decode()


@pytest.mark.django_db
def test_the_progress_list_shows_levels_of_the_curve_as_it_is_now(admin_client, game, player):
    from apps.stats.models import PlayerProgress

    curve = LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=9)
    PlayerProgress.objects.create(player=player, xp=250)

    before = admin_client.get("/admin/stats/playerprogress/")
    curve.xp_per_level = 1000
    curve.save()
    after = admin_client.get("/admin/stats/playerprogress/")

    assert '<td class="field-level">3</td>' in before.content.decode()
    assert '<td class="field-level">1</td>' in after.content.decode()


@pytest.mark.django_db
def test_stat_definitions_are_listed(admin_client, game):
    StatDefinition.objects.create(game=game, key="kills", name="Kills")

    response = admin_client.get("/admin/stats/statdefinition/")

    assert response.status_code == 200
    assert "kills" in response.content.decode()


@pytest.mark.django_db
def test_demo_seed_gives_stats_a_running_event_and_a_season_idempotently(settings):
    call_command("seed_demo", quiet=True)
    call_command("seed_demo", quiet=True)

    game = Game.objects.get(slug="demo")
    assert StatDefinition.objects.filter(game=game).count() == 5
    assert LevelCurve.objects.filter(game=game).count() == 1
    (event,) = running_events(game_id=game.pk)
    assert sorted(r.requirement for r in event.rewards.all()) == ["matches_played", "none"]
    season = running_season(game_id=game.pk)
    assert season is not None
    assert season.tiers.count() == 10
