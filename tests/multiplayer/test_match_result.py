import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.analytics.models import RawEvent
from apps.battlepass.models import SeasonPass
from apps.multiplayer.models import Match, MatchResult, XpRule
from apps.stats.models import PlayerProgress, PlayerStat, StatDefinition
from tests.multiplayer.conftest import URL, match_body


def stat_values(player):
    return dict(PlayerStat.objects.filter(player=player).values_list("definition__key", "value"))


@pytest.mark.django_db
def test_match_result_records_stats_xp_battle_pass_and_analytics(
    server_client, game, make_players, stat_defs, curve, season
):
    alice, bob = make_players(2)

    response = server_client.post(URL, match_body("m-1", [alice, bob]), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["match_id"] == "m-1"
    assert [(p["player_id"], p["outcome"], p["xp_awarded"]) for p in body["players"]] == [
        (alice.pk, "win", 100),
        (bob.pk, "loss", 25),
    ]
    assert body["players"][0]["level_after"] == 2
    assert stat_values(alice) == {"kills": 1, "best_score": 0}
    assert stat_values(bob) == {"kills": 2, "best_score": 10}
    assert PlayerProgress.objects.get(player=alice).xp == 100
    assert SeasonPass.objects.get(player=bob, season=season).xp == 25
    events = RawEvent.objects.filter(name="match_played").order_by("player_id")
    assert [(e.player_id, e.properties) for e in events] == [
        (alice.pk, {"match_id": "m-1", "mode": "duel", "outcome": "win"}),
        (bob.pk, {"match_id": "m-1", "mode": "duel", "outcome": "loss"}),
    ]


@pytest.mark.django_db
def test_a_banned_players_line_is_recorded_but_grants_nothing_and_counts_for_no_event(
    server_client, game, make_players, stat_defs, curve, season
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.multiplayer.selectors import match_lines

    alice, bob = make_players(2)
    bob.banned_until = timezone.now() + timedelta(days=30)
    bob.save()

    response = server_client.post(URL, match_body("m-1", [alice, bob]), format="json")

    assert response.status_code == 201
    assert [(p["player_id"], p["xp_awarded"]) for p in response.json()["players"]] == [
        (alice.pk, 100),
        (bob.pk, 0),
    ]
    assert stat_values(bob) == {} and stat_values(alice) == {"kills": 1, "best_score": 0}
    assert not PlayerProgress.objects.filter(player=bob, xp__gt=0).exists()
    assert not SeasonPass.objects.filter(player=bob).exists()
    since = timezone.now() - timedelta(hours=1)
    assert len(match_lines(player_id=alice.pk, since=since)) == 1
    assert match_lines(player_id=bob.pk, since=since) == []
    line = MatchResult.objects.get(player=bob)
    assert (line.counted, line.stats) == (False, {"kills": 2, "best_score": 10})


@pytest.mark.django_db
def test_repeated_match_id_is_200_with_the_first_result_and_changes_nothing(
    server_client, make_players, stat_defs
):
    alice, bob = make_players(2)
    first = server_client.post(URL, match_body("m-1", [alice, bob]), format="json")

    again = match_body("m-1", [alice, bob])
    again["players"].reverse()  # the same lines in another order are the same result
    repeat = server_client.post(URL, again, format="json")

    assert repeat.status_code == 200
    assert repeat.json() == first.json()
    assert stat_values(alice)["kills"] == 1
    assert PlayerProgress.objects.get(player=alice).xp == 100
    assert Match.objects.count() == 1
    assert MatchResult.objects.count() == 2
    assert RawEvent.objects.filter(name="match_played").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"outcome": "loss"},
        {"score": 999},
        {"stats": {"kills": 50, "best_score": 0}},
    ],
)
def test_a_match_id_sent_again_with_other_results_is_409_and_changes_nothing(
    server_client, make_players, stat_defs, change
):
    alice, bob = make_players(2)
    first = server_client.post(URL, match_body("m-1", [alice, bob]), format="json")
    reused = match_body("m-1", [alice, bob])
    reused["players"][0] |= change

    response = server_client.post(URL, reused, format="json")

    assert first.status_code == 201
    assert (response.status_code, response.json()["code"]) == (409, "match_id_conflict")
    assert stat_values(alice)["kills"] == 1
    assert PlayerProgress.objects.get(player=alice).xp == 100
    assert MatchResult.objects.count() == 2


@pytest.mark.django_db
def test_same_match_id_in_another_game_is_another_match(
    server_client, game, other_game, make_players, stat_defs
):
    from apps.accounts.services import create_server_key

    other_client = server_client.__class__()
    other_client.credentials(HTTP_X_SERVER_KEY=create_server_key(game=other_game, name="b").raw_key)
    (mine,) = make_players(1)
    (theirs,) = make_players(1, of=other_game)

    assert server_client.post(URL, match_body("m-1", [mine], stats={})).status_code == 201
    assert other_client.post(URL, match_body("m-1", [theirs], stats={})).status_code == 201
    assert Match.objects.count() == 2


@pytest.mark.django_db
def test_a_player_id_past_bigint_is_no_player_of_the_game_on_every_database(
    server_client, make_players, stat_defs
):
    """Schemathesis sent 209188136163718201344: SQLite's driver could not bind it (a 500)."""
    (alice,) = make_players(1)
    body = match_body("m-1", [alice])
    body["players"].append({**body["players"][0], "player_id": 2**67})

    response = server_client.post(URL, body, format="json")

    assert (response.status_code, response.json()["code"]) == (422, "players_not_in_game")
    assert response.json()["player_ids"] == [2**67]
    assert not Match.objects.exists()


@pytest.mark.django_db
def test_player_of_another_game_is_refused_and_nothing_is_written(
    server_client, make_players, stat_defs, season
):
    (alice,) = make_players(1)
    (stranger,) = make_players(1, of=season.game.__class__.objects.create(name="B", slug="b"))

    response = server_client.post(URL, match_body("m-1", [alice, stranger]), format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "players_not_in_game"
    assert response.json()["player_ids"] == [stranger.pk]
    assert not Match.objects.exists()
    assert not PlayerStat.objects.exists()
    assert not PlayerProgress.objects.exists()
    assert not SeasonPass.objects.exists()
    assert not RawEvent.objects.exists()


@pytest.mark.django_db
def test_unknown_stat_is_400_and_nothing_is_written(server_client, make_players, stat_defs):
    alice, bob = make_players(2)

    response = server_client.post(
        URL, match_body("m-1", [alice, bob], stats={"kills": 1, "hats": 3}), format="json"
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["stats"]) == ("unknown_stat", ["hats"])
    assert not Match.objects.exists()
    assert not PlayerStat.objects.exists()
    assert not PlayerProgress.objects.exists()


@pytest.mark.django_db
def test_an_unknown_stat_only_a_banned_player_reports_is_400_too(
    server_client, make_players, stat_defs
):
    from datetime import timedelta

    from django.utils import timezone

    alice, bob = make_players(2)
    bob.banned_until = timezone.now() + timedelta(days=30)
    bob.save()
    body = match_body("m-1", [alice, bob])
    body["players"][1]["stats"] = {"kills": 1, "hats": 3}

    response = server_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["stats"]) == ("unknown_stat", ["hats"])
    assert not Match.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"players": []},
        {"match_id": ""},
        {"match_id": "x" * 101},
        {"ended_at": "2025-01-01T09:00:00Z"},
        {"started_at": "yesterday"},
    ],
)
@pytest.mark.django_db
def test_malformed_match_is_400_validation_error(server_client, make_players, change):
    body = match_body("m-1", make_players(1), stats={}) | change

    response = server_client.post(URL, body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert not Match.objects.exists()


@pytest.mark.parametrize(
    "line",
    [
        {"outcome": "victory"},
        {"stats": {"kills": 1.5}},
        {"stats": {"kills": "many"}},
        # A number as text, or a whole float: DRF's IntegerField took them as 7 and 2.
        {"stats": {"kills": "7"}},
        {"stats": {"deaths": 2.0}},
        {"score": "5.000"},
        {"stats": {"kills": 10**13}},
        {"score": True},
        {"player_id": "abc"},
        # Echoed in the problem: a lone surrogate is written as its escape, not a 500.
        {"outcome": "\ud800"},
        {"stats": {"\ud800": 1}},
        {"stats": {"\ud800": "x"}},
        # No game can declare these, and the ignore rule would store them.
        {"stats": {"k\u0000": 1}},
        {"stats": {"kills!": 1}},
        {"stats": {"k" * 65: 1}},
    ],
)
@pytest.mark.django_db
def test_malformed_player_line_is_400_validation_error(
    server_client, make_players, stat_defs, line
):
    body = match_body("m-1", make_players(1))
    body["players"][0] |= line

    # As a server sends it: JSON text, where a lone surrogate is the escape "\ud800".
    response = server_client.post(URL, json.dumps(body), content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert not Match.objects.exists()
    assert not PlayerStat.objects.exists()


@pytest.mark.django_db
def test_a_player_twice_in_one_match_is_400(server_client, make_players):
    (alice,) = make_players(1)

    response = server_client.post(URL, match_body("m-1", [alice, alice], stats={}), format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


@pytest.mark.django_db
def test_xp_follows_the_games_rules_by_mode_and_outcome(server_client, game, make_players):
    XpRule.objects.create(game=game, mode="", outcome="win", xp=70)
    XpRule.objects.create(game=game, mode="ranked", outcome="win", xp=200)
    alice, bob, carol = make_players(3)

    ranked = server_client.post(URL, match_body("m-1", [alice], mode="ranked", stats={}))
    casual = server_client.post(URL, match_body("m-2", [bob, carol], mode="casual", stats={}))

    assert ranked.json()["players"][0]["xp_awarded"] == 200
    assert [p["xp_awarded"] for p in casual.json()["players"]] == [70, 25]


@pytest.mark.django_db
def test_player_token_on_match_result_is_403_wrong_credential_kind(player_client, player):
    response = player_client.post(URL, match_body("m-1", [player], stats={}), format="json")

    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")
    assert not Match.objects.exists()


@pytest.mark.django_db
def test_match_result_without_a_server_key_is_refused(api_client, player):
    response = api_client.post(URL, match_body("m-1", [player], stats={}), format="json")

    assert response.status_code in (401, 403)
    assert not Match.objects.exists()


def count_queries(client, body) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.post(URL, body, format="json").status_code == 201
    return len(queries)


ALL_STATS = {"kills": 3, "deaths": 1, "best_score": 40, "fastest_lap": 900, "last_rank": 2}


@pytest.fixture
def many_stat_defs(game, stat_defs):
    """Twenty stats over the four kinds of combine."""
    StatDefinition.objects.bulk_create(
        StatDefinition(game=game, key=f"extra{n}", name=f"extra{n}", combine=combine)
        for n, combine in enumerate(StatDefinition.Combine.values * 4)
    )
    return [key for key in StatDefinition.objects.values_list("key", flat=True)]


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_number_of_stats(
    server_client, make_players, many_stat_defs, season, django_assert_max_num_queries
):
    server_client.post(URL, match_body("warm-up", make_players(1), stats={}))  # key last_used_at
    few = count_queries(server_client, match_body("a", make_players(64), stats=ALL_STATS))
    body = match_body("b", make_players(64), stats={key: 5 for key in many_stat_defs})

    with django_assert_max_num_queries(few):
        response = server_client.post(URL, body)

    assert response.status_code == 201
    assert len(body["players"][0]["stats"]) == 21
    assert PlayerStat.objects.count() == 64 * 5 + 64 * 21


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_number_of_players(
    server_client, make_players, stat_defs, season, django_assert_max_num_queries
):
    server_client.post(URL, match_body("warm-up", make_players(1), stats={}))  # key last_used_at
    four = count_queries(server_client, match_body("a", make_players(4), stats=ALL_STATS))

    body = match_body("b", make_players(64), stats=ALL_STATS)

    # Every step is bulk, analytics included: 64 players cost what 4 do.
    with django_assert_max_num_queries(four):
        response = server_client.post(URL, body)

    assert response.status_code == 201
    assert four <= 35
    assert MatchResult.objects.count() == 1 + 4 + 64


@pytest.mark.django_db
def test_a_late_retry_of_an_older_match_does_not_replace_a_latest_stat(
    server_client, make_players, stat_defs
):
    (alice,) = make_players(1)
    newer = match_body("m-2", [alice], stats={"kills": 4, "last_rank": 1})
    newer["started_at"], newer["ended_at"] = "2025-01-01T11:00:00Z", "2025-01-01T11:20:00Z"
    older = match_body("m-1", [alice], stats={"kills": 3, "last_rank": 6})  # ended 10:20

    assert server_client.post(URL, newer, format="json").status_code == 201
    assert server_client.post(URL, older, format="json").status_code == 201  # the server's retry

    assert stat_values(alice)["last_rank"] == 1  # the rank of the match that ended last
    assert stat_values(alice)["kills"] == 7  # a sum takes both, in any order
