"""A board's metadata limit bounds the metadata as it is kept and shown: PostgreSQL keeps a JSON
number as a numeric and writes it out in full, so `1e308` (6 bytes as sent) is stored and shown
on every top page as 309 digits, and `1e-323` as 325 characters. Counted as sent, a 512-byte
limit let a player's own score (`my-score`) put some 13 KB in one entry, and 1.3 MB in a page
of 100: the limit counts each number written out in full, as it is stored, on every
database."""

from __future__ import annotations

import json

import pytest

from apps.leaderboards.models import Entry, Submission

pytestmark = pytest.mark.django_db

SCORES = "/api/v1/leaderboards/{}/scores"


def post(client, player, metadata, sid="s1"):
    body = {"submission_id": sid, "player_id": player.pk, "score": 5, "metadata": metadata}
    return client.post(SCORES.format("small"), body, format="json")


@pytest.mark.parametrize("number", [1e100, -1e100, 1e-100, 1.5e99])
def test_a_number_past_the_limit_written_out_is_413_and_records_nothing(
    server_client, make_board, player, number
):
    make_board("small", metadata_max_bytes=100)

    response = post(server_client, player, {"a": number})

    assert response.status_code == 413, response.content
    body = response.json()
    assert (body["code"], body["limit"]) == ("metadata_too_large", 100)
    assert body["size"] > 100
    assert not Submission.objects.exists()
    assert not Entry.objects.exists()


def test_numbers_within_the_limit_written_out_are_kept_and_shown_within_it(
    server_client, player_client, make_board, player
):
    make_board("small", metadata_max_bytes=100)
    metadata = {"t": 1.5e-5, "big": 10**40, "f": 2.5e20, "one": 1.0}

    response = post(server_client, player, metadata)

    assert response.status_code == 201, response.content
    (shown,) = player_client.get("/api/v1/leaderboards/small").json()["results"]
    assert shown["metadata"] == metadata
    assert len(json.dumps(shown["metadata"], separators=(",", ":")).encode()) <= 100


def test_the_size_a_refusal_reports_is_the_written_out_one(server_client, make_board, player):
    make_board("small", metadata_max_bytes=100)

    response = post(server_client, player, {"a": 1e200})

    # {"a":} and the 201 digits of 1e200 written out.
    assert response.json()["size"] == len('{"a":}') + 201
