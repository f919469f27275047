"""Refresh: the body's token as sent (a JSON string, untrimmed), and the session's game read with
the token, by the same query."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts import ratelimit
from apps.accounts.models import AuthSession, Game
from tests.accounts.conftest import REFRESH, assert_problem

pytestmark = [pytest.mark.urls("tests.accounts.server_urls"), pytest.mark.django_db]


def refresh(body: dict, client: APIClient | None = None):
    return (client or APIClient()).post(REFRESH, body, format="json")


@pytest.mark.parametrize("sent", [123, 1.5, True, ["rt_x"], {"token": "rt_x"}])
def test_a_refresh_token_that_is_not_a_string_is_a_validation_error(tokens, sent):
    body = assert_problem(refresh({"refresh_token": sent}), 400, "validation_error")

    assert "refresh_token" in str(body)
    assert AuthSession.objects.get().revoked_at is None


@pytest.mark.parametrize("padding", [" ", "\n", "\t"])
def test_a_refresh_token_with_white_space_around_it_is_not_that_token(tokens, padding):
    padded = f"{padding}{tokens['refresh_token']}{padding}"

    assert_problem(refresh({"refresh_token": padded}), 401, "invalid_token")

    # Nothing was rotated: the token as issued still refreshes.
    assert refresh({"refresh_token": tokens["refresh_token"]}).status_code == 200


def test_a_refresh_reads_the_game_with_the_token_not_by_a_query_of_its_own(tokens):
    with CaptureQueriesContext(connection) as queries:
        response = refresh({"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 200
    game_table = Game._meta.db_table
    own_reads = [q["sql"] for q in queries if f'FROM "{game_table}"' in q["sql"]]
    assert own_reads == []


def test_a_game_deleted_after_the_token_was_found_is_401_invalid_token_not_500(tokens, game):
    spend = ratelimit.spend_game_budget

    def spend_then_delete_the_game(*, game_id: int):
        budget = spend(game_id=game_id)
        Game.objects.filter(pk=game.pk).delete()  # its sessions and tokens go with it
        return budget

    client = APIClient(raise_request_exception=False)
    with mock.patch("apps.login.api.spend_game_budget", spend_then_delete_the_game):
        response = refresh({"refresh_token": tokens["refresh_token"]}, client)

    assert_problem(response, 401, "invalid_token")
    assert not Game.objects.filter(pk=game.pk).exists()
