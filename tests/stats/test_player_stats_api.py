import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from apps.accounts.services.sessions import open_session
from apps.stats.api import PlayerStatsApi
from apps.stats.models import LevelCurve
from apps.stats.selectors import get_player_stats
from apps.stats.services import add_xp, apply_stats

URL = "/api/v1/player/stats"


@pytest.mark.django_db
def test_new_player_is_level_one_with_no_stats(player_client, player):
    response = player_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "player_id": player.pk,
        "level": 1,
        "xp": 0,
        "xp_to_next_level": 1000,
        "stats": {},
    }


@pytest.mark.django_db
def test_player_sees_own_level_xp_and_stats(
    player_client, game, player, other_player, stat_defs, django_assert_max_num_queries
):
    LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=10)
    add_xp(game_id=game.pk, xp_by_player={player.pk: 250})
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 7, "last_rank": 2}})

    with django_assert_max_num_queries(3):
        response = player_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert (body["level"], body["xp"], body["xp_to_next_level"]) == (3, 250, 50)
    assert body["stats"] == {"kills": 7, "last_rank": 2}


@pytest.mark.django_db
def test_stats_are_read_in_one_query_however_many_stats(
    game, player, other_player, stat_defs, django_assert_num_queries
):
    LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=10)
    add_xp(game_id=game.pk, xp_by_player={player.pk: 250})
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {k: 3 for k in stat_defs}})

    with django_assert_num_queries(1):
        stats = get_player_stats(player_id=player.pk, game_id=game.pk)

    assert stats == {
        "player_id": player.pk,
        "level": 3,
        "xp": 250,
        "xp_to_next_level": 50,
        "stats": {"best_score": 3, "fastest_lap": 3, "kills": 3, "last_rank": 3},
    }
    assert list(stats["stats"]) == sorted(stat_defs)  # the body lists stats by key


@pytest.mark.django_db
def test_another_players_xp_and_stats_do_not_count(game, player, stat_defs):
    other = player.__class__.objects.create(game=game, display_name="carol")
    add_xp(game_id=game.pk, xp_by_player={other.pk: 5000})
    apply_stats(game_id=game.pk, stats_by_player={other.pk: {"kills": 9}})

    assert get_player_stats(player_id=other.pk, game_id=game.pk)["stats"] == {"kills": 9}
    assert get_player_stats(player_id=player.pk, game_id=game.pk) == {
        "player_id": player.pk,
        "level": 1,
        "xp": 0,
        "xp_to_next_level": 1000,
        "stats": {},
    }


@pytest.mark.django_db
def test_a_whole_stats_request_with_a_real_token_costs_at_most_three_queries(
    api_client, game, player, stat_defs, django_assert_max_num_queries
):
    # The request pipeline (token, revocation, budget, player) costs one query until it is
    # served from memory; this endpoint's own read is one.
    add_xp(game_id=game.pk, xp_by_player={player.pk: 250})
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 7}})
    token = open_session(player=player, platform="dev", now=timezone.now()).access_token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get(URL).status_code == 200  # warm

    with django_assert_max_num_queries(3):
        response = api_client.get(URL)

    assert (response.status_code, response.json()["stats"]) == (200, {"kills": 7})


@pytest.mark.django_db
def test_a_changed_curve_applies_to_the_level_at_once(player_client, game, player):
    curve = LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=3)
    add_xp(game_id=game.pk, xp_by_player={player.pk: 250})
    curve.xp_per_level = 1000
    curve.save()

    body = player_client.get(URL).json()

    assert (body["level"], body["xp_to_next_level"]) == (1, 750)


@pytest.mark.django_db
def test_server_key_on_player_stats_is_403_wrong_credential_kind(server_client):
    response = server_client.get(URL)

    assert response.status_code == 403
    assert response.json()["code"] == "wrong_credential_kind"


@pytest.mark.django_db
def test_anonymous_player_stats_is_401(api_client):
    response = api_client.get(URL)

    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.django_db
def test_real_bearer_token_reads_own_stats(api_client, player):
    token = open_session(player=player, platform="dev", now=timezone.now()).access_token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = api_client.get(URL)

    assert (response.status_code, response.json()["player_id"]) == (200, player.pk)


@pytest.mark.django_db
def test_body_bytes_at_the_curves_last_level_are_what_the_serializer_renders(
    player_client, game, player, stat_defs
):
    # The view answers the selector's dict as it is: the same bytes OutputSerializer would give,
    # stats by key and a null xp_to_next_level past the last level.
    LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=3)
    add_xp(game_id=game.pk, xp_by_player={player.pk: 250})
    apply_stats(game_id=game.pk, stats_by_player={player.pk: {"kills": 7, "best_score": -2}})

    response = player_client.get(URL)

    serialized = PlayerStatsApi.OutputSerializer(
        get_player_stats(player_id=player.pk, game_id=game.pk)
    ).data
    assert response.content == JSONRenderer().render(serialized)
    assert response.content == (
        b'{"player_id":%d,"level":3,"xp":250,"xp_to_next_level":null,'
        b'"stats":{"best_score":-2,"kills":7}}' % player.pk
    )


@pytest.mark.parametrize("xp", [0, 99, 100, 250, 10_000])
def test_player_level_is_the_level_the_stats_answer_in_one_query(
    game, player, django_assert_num_queries, xp
):
    from apps.stats.models import PlayerProgress
    from apps.stats.selectors import get_player_stats, player_level

    LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=50, max_level=6)
    PlayerProgress.objects.create(player=player, xp=xp)

    with django_assert_num_queries(1):
        level = player_level(player_id=player.pk, game_id=game.pk)

    assert level == get_player_stats(player_id=player.pk, game_id=game.pk)["level"]
    assert player_level(player_id=player.pk, game_id=game.pk + 1000) == 1  # not this game's
