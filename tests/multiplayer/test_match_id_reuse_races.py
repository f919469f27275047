"""One match id posted at once with two different results (a server that reused its counter
while a retry of the first is in flight), on PostgreSQL: one result is recorded, its repeats
answer 200 with it, the other result is 409 match_id_conflict, and nothing of it is written."""

import pytest

from apps.multiplayer.models import Match, MatchResult
from apps.stats.models import PlayerStat
from tests.multiplayer.conftest import match_body
from tests.multiplayer.test_match_result_races import post_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_match_id_with_two_results_at_once_records_one_and_refuses_the_other(
    server_key, make_players, stat_defs
):
    alice, bob = make_players(2)
    first = match_body("m-reused", [alice, bob], stats={"kills": 4})
    other = match_body("m-reused", [alice, bob], stats={"kills": 7})

    answers = post_concurrently(server_key, [first, other, first, other])

    recorded = [body for status, body in answers if status == 201]
    assert len(recorded) == 1
    winner = first if PlayerStat.objects.get(player=alice).value == 4 else other
    for (status, body), sent in zip(answers, [first, other, first, other], strict=True):
        if sent is winner:
            assert status in (200, 201)
            assert body == recorded[0]
        else:
            assert (status, body["code"]) == (409, "match_id_conflict")
    assert Match.objects.count() == 1
    assert MatchResult.objects.count() == 2
    assert PlayerStat.objects.get(player=bob).value == winner["players"][1]["stats"]["kills"]
