"""What every player request goes through before its view: the token decrypted and verified,
revocation checked, the budget spent, the player and game identified; warm, without a query."""

from types import SimpleNamespace

import pytest

from apps.accounts import ratelimit
from apps.accounts.models import Game, Player
from apps.accounts.selectors import TOKEN_PLAYER_SECONDS
from gamingpanel import shortcache
from tests.accounts.conftest import assert_problem, bearer
from tests.accounts.server_urls import WHOAMI

pytestmark = [pytest.mark.urls("tests.accounts.server_urls"), pytest.mark.django_db]


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    now = [5000.0]
    monkeypatch.setattr(shortcache.time, "monotonic", lambda: now[0])
    frozen = ratelimit.time.time()  # and one rate-limit window throughout
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: frozen))
    return now


def test_a_warm_player_request_costs_no_query(tokens, django_assert_num_queries):
    client = bearer(tokens["access_token"])
    client.get(WHOAMI)  # the revocation markers made ready, the player read once

    with django_assert_num_queries(0):
        response = client.get(WHOAMI)

    assert response.status_code == 200
    assert response.json()["player_id"] == tokens["player"]["id"]


def test_a_games_rate_limit_edit_reaches_requests_within_the_bound(tokens, game, clock):
    client = bearer(tokens["access_token"])
    assert client.get(WHOAMI)["RateLimit-Limit"] == "1000"

    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=50)
    clock[0] += TOKEN_PLAYER_SECONDS * 0.9
    stale = client.get(WHOAMI)
    clock[0] += TOKEN_PLAYER_SECONDS * 0.2
    fresh = client.get(WHOAMI)

    assert stale["RateLimit-Limit"] == "1000"
    assert fresh["RateLimit-Limit"] == "50"


def test_a_ban_written_in_plain_sql_stops_the_token_within_the_bound(tokens, clock):
    from datetime import timedelta

    from django.utils import timezone

    client = bearer(tokens["access_token"])
    assert client.get(WHOAMI).status_code == 200

    Player.objects.filter(pk=tokens["player"]["id"]).update(
        banned_until=timezone.now() + timedelta(days=1)
    )
    clock[0] += TOKEN_PLAYER_SECONDS * 1.01

    assert_problem(client.get(WHOAMI), 403, "player_banned")


def test_a_deleted_players_token_is_401(tokens, clock):
    client = bearer(tokens["access_token"])
    assert client.get(WHOAMI).status_code == 200

    Player.objects.filter(pk=tokens["player"]["id"]).delete()
    clock[0] += TOKEN_PLAYER_SECONDS * 1.01

    assert_problem(client.get(WHOAMI), 401, "invalid_token")


def test_a_deleted_players_token_is_invalid_token_when_the_database_answers_too(tokens, clock):
    """With the revocation markers gone (Redis restarted or flushed), the database answers for
    the session: a session it does not know is the same invalid_token, not token_revoked."""
    from django.core.cache import cache

    client = bearer(tokens["access_token"])
    assert client.get(WHOAMI).status_code == 200

    Player.objects.filter(pk=tokens["player"]["id"]).delete()
    cache.clear()
    clock[0] += TOKEN_PLAYER_SECONDS * 1.01

    assert_problem(client.get(WHOAMI), 401, "invalid_token")


def test_each_request_gets_its_own_player_instance(tokens):
    from apps.accounts.selectors import token_player

    player_id, game_id = tokens["player"]["id"], Player.objects.get().game_id
    first = token_player(game_id=game_id, player_id=player_id)
    first.display_name = "changed by one request"
    second = token_player(game_id=game_id, player_id=player_id)

    assert second.display_name == "alice" and second.game.pk == game_id
    assert second is not first and second.game is not first.game


def test_the_token_player_is_the_orms_player_and_game(tokens, game):
    """The compiled read behind token_player answers what the ORM answers, field for field,
    and nothing for a player of another game or one that does not exist."""
    from django.db.models import Model

    from apps.accounts.selectors import TOKEN_PLAYER

    def values(instance: Model) -> dict[str, object]:
        return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}

    Game.objects.filter(pk=game.pk).update(starting_grant={"gold": 5}, sandbox=True)
    Player.objects.filter(pk=tokens["player"]["id"]).update(ban_reason="earlier")
    expected = Player.objects.select_related("game").get(pk=tokens["player"]["id"])

    [(player, its_game)] = TOKEN_PLAYER.rows([expected.pk, game.pk])

    assert values(player) == values(expected) and values(its_game) == values(expected.game)
    assert its_game.starting_grant == {"gold": 5} and its_game.sandbox is True
    assert TOKEN_PLAYER.rows([expected.pk, game.pk + 1]) == []
    assert TOKEN_PLAYER.rows([expected.pk + 1000, game.pk]) == []
