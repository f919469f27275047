"""POST leaderboards/{slug}/scores (server key) and my-score (player token): once per submission
id, combined by the board's operator, every refusal a problem with a stable code."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from apps.accounts.api_base import STORED_TEXT
from apps.accounts.models import Player
from apps.leaderboards.models import Board, Entry, Submission
from tests.leaderboards.conftest import current

pytestmark = pytest.mark.django_db
# The schema's submission_id pattern, as the server reads it.
SUBMISSION_ID_PATTERN = STORED_TEXT


def post(client: APIClient, slug: str, body: dict) -> tuple[int, dict]:
    response = client.post(f"/api/v1/leaderboards/{slug}/scores", body, format="json")
    return response.status_code, response.json()


def score(player_id: int, value: object, sid: str, **more: object) -> dict:
    return {"submission_id": sid, "player_id": player_id, "score": value, **more}


def test_server_submission_creates_the_entry(server_client, board, player):
    status, body = post(server_client, "high", score(player.pk, 120, "s1", metadata={"car": "red"}))

    assert status == 201
    assert body == {
        "submission_id": "s1",
        "board": "high",
        "period": 1,
        "player_id": player.pk,
        "submitted": 120,
        "score": 120,
        "improved": True,
        "replayed": False,
    }
    entry = Entry.objects.get(player=player)
    assert (entry.score, entry.rank_key, entry.metadata) == (120, -120, {"car": "red"})


def test_same_submission_id_twice_changes_nothing_the_second_time(
    server_client, make_board, player
):
    make_board("high", operator=Board.Operator.SUM)  # a second count would show: 100
    post(server_client, "high", score(player.pk, 50, "s1"))
    first = Entry.objects.get(player=player)
    status, body = post(server_client, "high", score(player.pk, 50, "s1"))

    assert status == 200
    assert body["replayed"] is True and body["score"] == 50
    assert Submission.objects.count() == 1
    again = Entry.objects.get(player=player)
    assert (again.version, again.score, again.reached_at) == (
        first.version,
        first.score,
        first.reached_at,
    )


def test_submission_id_reused_for_another_score_is_409(server_client, board, player):
    post(server_client, "high", score(player.pk, 50, "s1"))
    status, body = post(server_client, "high", score(player.pk, 60, "s1"))

    assert (status, body["code"]) == (409, "submission_id_reused")
    assert Entry.objects.get(player=player).score == 50


def test_best_keeps_the_best_and_its_first_time(server_client, board, player):
    post(server_client, "high", score(player.pk, 50, "a"))
    first = Entry.objects.get(player=player)
    _, lower = post(server_client, "high", score(player.pk, 40, "b"))
    _, equal = post(server_client, "high", score(player.pk, 50, "c"))
    _, higher = post(server_client, "high", score(player.pk, 70, "d"))

    assert (lower["score"], lower["improved"]) == (50, False)
    assert (equal["score"], equal["improved"]) == (50, False)
    assert (higher["score"], higher["improved"]) == (70, True)
    assert Entry.objects.get(player=player).reached_at > first.reached_at


def test_lower_is_better_keeps_the_lowest(server_client, make_board, player):
    make_board("laps", order=Board.Order.LOWER)
    post(server_client, "laps", score(player.pk, 61_000, "a"))
    post(server_client, "laps", score(player.pk, 65_000, "b"))
    post(server_client, "laps", score(player.pk, 59_500, "c"))

    entry = Entry.objects.get(player=player)
    assert (entry.score, entry.rank_key) == (59_500, 59_500)


def test_latest_replaces_and_sum_adds(server_client, make_board, player):
    make_board("last", operator=Board.Operator.LATEST)
    make_board("total", operator=Board.Operator.SUM)
    for n, value in enumerate([30, 10, 20]):
        post(server_client, "last", score(player.pk, value, f"l{n}"))
        post(server_client, "total", score(player.pk, value, f"t{n}"))

    assert Entry.objects.get(period__board__slug="last").score == 20
    assert Entry.objects.get(period__board__slug="total").score == 60


@pytest.mark.parametrize(
    ("operator", "again"), [(Board.Operator.LATEST, 100), (Board.Operator.SUM, 0)]
)
def test_a_score_that_does_not_change_keeps_its_place_in_a_tie(
    server_client, make_board, game, operator, again
):
    make_board("tie", operator=operator)
    first, second = (Player.objects.create(game=game, display_name=n) for n in ("a", "b"))
    post(server_client, "tie", score(first.pk, 100, "a1"))
    post(server_client, "tie", score(second.pk, 100, "b1"))
    reached = Entry.objects.get(player=first).reached_at

    post(server_client, "tie", score(first.pk, again, "a2"))  # still 100

    top = server_client.get("/api/v1/leaderboards/tie").json()
    assert Entry.objects.get(player=first).reached_at == reached
    assert [line["player_id"] for line in top["results"]] == [first.pk, second.pk]


@pytest.mark.parametrize("bad", ["12", 1.5, True, 10**16, -(10**16), [1]])
def test_a_score_that_is_not_a_whole_number_in_range_is_400_invalid_score(
    server_client, board, player, bad
):
    status, body = post(server_client, "high", score(player.pk, bad, "s1"))

    assert (status, body["code"]) == (400, "invalid_score")
    assert not Submission.objects.exists()


def test_metadata_over_the_board_limit_is_413(server_client, make_board, player):
    make_board("small", metadata_max_bytes=20)
    status, body = post(
        server_client, "small", score(player.pk, 1, "s1", metadata={"note": "x" * 30})
    )

    assert (status, body["code"]) == (413, "metadata_too_large")
    assert body["limit"] == 20 and body["size"] > 20
    assert not Entry.objects.exists()


@pytest.mark.parametrize(
    ("operator", "kept"),
    [(Board.Operator.BEST, {}), (Board.Operator.LATEST, {}), (Board.Operator.SUM, {"car": "red"})],
)
def test_a_score_sent_without_metadata_is_not_shown_with_the_previous_runs(
    server_client, make_board, player, operator, kept
):
    make_board("runs", operator=operator)
    post(server_client, "runs", score(player.pk, 100, "s1", metadata={"car": "red"}))

    status, _ = post(server_client, "runs", score(player.pk, 150, "s2"))  # a better run

    assert status == 201
    assert Entry.objects.get(player=player).metadata == kept


def test_latest_keeps_the_metadata_of_a_score_resent_without_any(server_client, make_board, player):
    make_board("last", operator=Board.Operator.LATEST)
    post(server_client, "last", score(player.pk, 100, "s1", metadata={"car": "red"}))
    version = Entry.objects.get(player=player).version

    status, body = post(server_client, "last", score(player.pk, 100, "s2"))  # the same score

    assert (status, body["improved"], body["score"]) == (201, False, 100)
    entry = Entry.objects.get(player=player)
    assert (entry.metadata, entry.version) == ({"car": "red"}, version)
    _, sent = post(server_client, "last", score(player.pk, 100, "s3", metadata={"car": "blue"}))
    assert sent["improved"] and Entry.objects.get(player=player).metadata == {"car": "blue"}
    _, changed = post(server_client, "last", score(player.pk, 90, "s4"))  # another score: its own
    assert changed["improved"] and Entry.objects.get(player=player).metadata == {}


def test_a_score_sent_with_metadata_replaces_it_and_a_board_taking_none_takes_an_empty_object(
    server_client, make_board, player
):
    make_board("runs")
    post(server_client, "runs", score(player.pk, 100, "s1", metadata={"car": "red"}))
    post(server_client, "runs", score(player.pk, 150, "s2", metadata={"car": "blue"}))
    make_board("bare", metadata_max_bytes=0)

    status, _ = post(server_client, "bare", score(player.pk, 1, "s3", metadata={}))

    assert Entry.objects.get(player=player, period__board__slug="runs").metadata == {"car": "blue"}
    assert status == 201


def test_metadata_that_is_not_an_object_is_400(server_client, board, player):
    status, body = post(server_client, "high", score(player.pk, 1, "s1", metadata=[1, 2]))

    assert (status, body["code"]) == (400, "invalid_metadata")


def test_missing_submission_id_is_400_validation_error(server_client, board, player):
    status, body = post(server_client, "high", {"player_id": player.pk, "score": 1})

    assert (status, body["code"]) == (400, "validation_error")


# As sent or refused, never trimmed: "\x1f" was trimmed to blank (a schema-valid string refused
# as blank), " s1" was taken as "s1"; the schema's pattern refuses each of them.
@pytest.mark.parametrize(
    "bad", [0, "", None, ["s1"], "\x1f", " s1", "s1 ", "s1\n", "\u3000s1", "s\x001", "x" * 101]
)
def test_a_submission_id_that_is_not_a_non_empty_string_is_400(server_client, board, player, bad):
    status, body = post(server_client, "high", score(player.pk, 1, bad))

    assert (status, body["code"]) == (400, "validation_error")
    assert "submission_id" in body["errors"]
    assert not Submission.objects.exists()
    if isinstance(bad, str) and 0 < len(bad) <= 100:
        assert not re.search(SUBMISSION_ID_PATTERN, bad)  # the schema refuses it too


@pytest.mark.parametrize("sid", ["s1", "match 81/61", "\x01inside\x7f", "ü"])
def test_a_submission_id_is_kept_as_sent(server_client, board, player, sid):
    status, body = post(server_client, "high", score(player.pk, 1, sid))

    assert (status, body["submission_id"]) == (201, sid)
    assert Submission.objects.get().submission_id == sid
    assert re.search(SUBMISSION_ID_PATTERN, sid)  # and the schema takes it


# PostgreSQL's jsonb stores no U+0000, and a lone surrogate is no UTF-8: both were a 500.
@pytest.mark.parametrize(
    "metadata", ['{"car\\u0000": 1}', '{"car": ["\\u0000"]}', '{"car": "\\udbff"}']
)
def test_metadata_the_database_cannot_store_is_422(server_client, board, player, metadata):
    response = server_client.post(
        "/api/v1/leaderboards/high/scores",
        f'{{"submission_id": "s1", "player_id": {player.pk}, "score": 1, "metadata": {metadata}}}',
        content_type="application/json",
    )

    assert (response.status_code, response.json()["code"]) == (422, "unsupported_character")
    assert not Submission.objects.exists() and not Entry.objects.exists()


def test_unknown_board_is_404(server_client, player):
    status, body = post(server_client, "nope", score(player.pk, 1, "s1"))

    assert (status, body["code"]) == (404, "board_not_found")


def test_another_games_board_is_404(server_client, make_board, other_game, player):
    make_board("theirs", game=other_game)
    status, body = post(server_client, "theirs", score(player.pk, 1, "s1"))

    assert (status, body["code"]) == (404, "board_not_found")


def test_another_games_player_is_404_and_nothing_is_stored(server_client, board, other_player):
    status, body = post(server_client, "high", score(other_player.pk, 1, "s1"))

    assert (status, body["code"]) == (404, "player_not_found")
    assert not Submission.objects.exists() and not Entry.objects.exists()


def test_a_player_id_past_bigint_is_a_problem_not_a_500(server_client, board):
    """Schemathesis sent player_id 14810124387072173446558384128: the prepared statement types
    it BIGINT, so it goes whole and matches no player (gamingpanel.sql)."""
    status, body = post(server_client, "high", score(2**93, 1, "s1"))

    assert (status, body["code"]) == (404, "player_not_found")


def test_a_banned_player_is_403(server_client, board, player):
    from datetime import timedelta

    from django.utils import timezone

    player.banned_until = timezone.now() + timedelta(days=1)
    player.save()
    status, body = post(server_client, "high", score(player.pk, 1, "s1"))

    assert (status, body["code"]) == (403, "player_banned")


def test_a_stat_board_takes_no_submitted_scores(server_client, make_board, player):
    make_board("kills", source=Board.Source.STAT, stat_key="kills")
    status, body = post(server_client, "kills", score(player.pk, 1, "s1"))

    assert (status, body["code"]) == (409, "board_fed_by_stat")


def test_a_player_token_cannot_post_server_scores(player_client, board, player):
    status, body = post(player_client, "high", score(player.pk, 1, "s1"))

    assert status == 403 and body["code"] == "wrong_credential_kind"


def test_client_submission_refused_unless_the_board_allows_it(player_client, make_board, player):
    make_board("closed")
    make_board("open", allow_client_submissions=True)
    refused = player_client.post(
        "/api/v1/leaderboards/closed/my-score", {"submission_id": "c1", "score": 5}, format="json"
    )
    taken = player_client.post(
        "/api/v1/leaderboards/open/my-score", {"submission_id": "c1", "score": 5}, format="json"
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "client_submissions_not_allowed")
    assert taken.status_code == 201 and taken.json()["player_id"] == player.pk
    assert Submission.objects.get().from_client is True


def my_score(player: Player, sid: str, value: int) -> tuple[int, dict]:
    client = APIClient()
    client.force_authenticate(user=player)
    response = client.post(
        "/api/v1/leaderboards/open/my-score", {"submission_id": sid, "score": value}, format="json"
    )
    return response.status_code, response.json()


def test_each_player_has_their_own_submission_ids_apart_from_the_servers(
    server_client, make_board, make_players
):
    make_board("open", allow_client_submissions=True, operator=Board.Operator.SUM)
    a, b = make_players(2)

    # A player who takes the id a server will use for them takes nothing from the server, and
    # another player's same id is theirs.
    assert my_score(a, "match-7", 5)[0] == 201
    assert post(server_client, "open", score(a.pk, 40, "match-7"))[0] == 201
    assert my_score(b, "match-7", 3)[0] == 201
    # Each space still takes its id once: a retry is replayed, another score is refused.
    replayed = my_score(a, "match-7", 5)
    reused = my_score(a, "match-7", 6)
    server_again = post(server_client, "open", score(b.pk, 40, "match-7"))

    assert (replayed[0], replayed[1]["replayed"], replayed[1]["score"]) == (200, True, 45)
    assert (reused[0], reused[1]["code"]) == (409, "submission_id_reused")
    assert (server_again[0], server_again[1]["code"]) == (409, "submission_id_reused")
    assert dict(Entry.objects.values_list("player", "score")) == {a.pk: 45, b.pk: 3}
    assert Submission.objects.count() == 3


def test_the_score_lands_in_the_open_period(server_client, board, player):
    period = current(board)
    post(server_client, "high", score(player.pk, 1, "s1"))

    assert Entry.objects.get(player=player).period == period
