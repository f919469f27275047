"""The admin list of matches (every match recorded) reads one page: no date drill-down, no
distinct modes of every match, no total beside the filtered count, a count capped by a LIMIT,
and a search by whole match id within the user's games (the (game, match id) index)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.multiplayer.models import Match, Outcome, RegisteredServer, XpRule
from tests.accounts.admin_lists import (
    assert_reads_one_page,
    listed,
    searched,
    signed_in_operator,
)

URL = "/admin/multiplayer/match/"
TABLE = "multiplayer_match"


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def matches(game, other_game):
    now = timezone.now()

    def match(owner, match_id: str, mode: str) -> Match:
        return Match.objects.create(
            game=owner, match_id=match_id, mode=mode, started_at=now, ended_at=now
        )

    XpRule.objects.create(game=game, mode="duel", outcome=Outcome.WIN, xp=10)
    XpRule.objects.create(game=game, mode="", outcome=Outcome.LOSS, xp=1)  # every mode
    XpRule.objects.create(game=other_game, mode="beta-secret-mode", outcome=Outcome.WIN, xp=10)
    RegisteredServer.objects.create(
        game=game,
        server_id="eu-1",
        region="eu",
        address="10.0.0.1",
        port=7777,
        capacity=10,
        mode="ctf",
        registered_at=now,
        last_heartbeat_at=now - timedelta(seconds=1),
    )
    return [
        match(game, "m-100", "duel"),
        match(game, "m-1000", "ctf"),
        match(game, "m-7", "retired-mode"),
        match(other_game, "m-100", "duel"),
    ]


def test_the_list_reads_no_dates_no_distinct_modes_and_a_capped_count(operator_client, matches):
    queries, shown = listed(operator_client, URL, TABLE)

    assert set(shown) == set(matches[:3])
    assert_reads_one_page(queries)
    assert [sql for sql in queries if "MAX(" in sql or "DATE_TRUNC" in sql.upper()] == []


def test_the_mode_filter_offers_the_games_rule_and_server_modes_and_any_mode_still_filters(
    operator_client, matches
):
    response = operator_client.get(URL)
    cl = response.context["cl"]
    [modes] = [spec for spec in cl.filter_specs if spec.title == "mode"]

    assert [choice["display"] for choice in modes.choices(cl)][1:] == ["ctf", "duel"]
    assert "beta-secret-mode" not in response.content.decode()  # another game's
    assert listed(operator_client, f"{URL}?mode__exact=duel", TABLE)[1] == [matches[0]]
    assert listed(operator_client, f"{URL}?mode__exact=retired-mode", TABLE)[1] == [matches[2]]


def test_a_match_is_found_by_its_whole_id_in_the_users_games(operator_client, matches, game):
    queries, shown = listed(operator_client, f"{URL}?q=m-100", TABLE)

    assert shown == [matches[0]]  # not m-1000, nor the other game's m-100
    for sql in searched(queries):
        assert f'"{TABLE}"."game_id" IN ({game.pk})' in sql
        assert f'"{TABLE}"."match_id" = \'m-100\'' in sql
        assert "UPPER(" not in sql and "LIKE" not in sql
    assert listed(operator_client, f"{URL}?q=m-10", TABLE)[1] == []
