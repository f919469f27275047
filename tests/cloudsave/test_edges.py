"""The edges the API's rules draw, each pinned: a limit reached exactly passes and one byte (or
document) more is refused, a batch counting as its writes together; an If-Match names one
version (a list or `*` would write blind); an Idempotency-Key names one request, whichever
endpoint it is sent to again."""

from __future__ import annotations

import pytest

from apps.cloudsave.models import Document, SaveSettings, SaveUsage
from tests.cloudsave.conftest import URL, create, put

pytestmark = pytest.mark.django_db


def test_a_document_at_the_limit_is_taken_one_byte_more_is_not(alice, game):
    SaveSettings.objects.create(game=game, max_document_bytes=10)

    assert create(alice, "a", "x" * 8).status_code == 201  # "xxxxxxxx": 10 bytes
    refused = create(alice, "b", "x" * 9)

    assert (refused.status_code, refused.json()["size"]) == (413, 11)


def test_a_batch_filling_the_players_bytes_exactly_passes_and_nothing_more(alice, player, game):
    SaveSettings.objects.create(game=game, max_player_bytes=25)
    writes = [{"key": "a", "value": "x" * 13}, {"key": "b", "value": "y" * 8}]  # 15 + 10

    assert alice.post(URL, {"writes": writes}, format="json").status_code == 200
    assert SaveUsage.objects.get(player=player).bytes == 25
    # Growing one and shrinking the other by as much passes; a byte more anywhere does not.
    even = [
        {"key": "a", "value": "x" * 14, "version": 1},
        {"key": "b", "value": "y" * 7, "version": 1},
    ]
    assert alice.post(URL, {"writes": even}, format="json").status_code == 200
    grown = put(alice, "b", "y" * 8, HTTP_IF_MATCH='"2"')
    assert (grown.status_code, grown.json()["code"]) == (413, "player_storage_full")
    assert SaveUsage.objects.get(player=player).bytes == 25


def test_a_batch_reaching_the_document_limit_exactly_passes_and_one_more_is_refused(alice, game):
    SaveSettings.objects.create(game=game, max_documents=3)
    create(alice, "a", 1)

    two_more = [{"key": "b", "value": 2}, {"key": "c", "value": 3}]
    assert alice.post(URL, {"writes": two_more}, format="json").status_code == 200
    refused = create(alice, "d", 4)

    assert (refused.status_code, refused.json()["code"]) == (413, "too_many_documents")
    assert Document.objects.count() == 3


@pytest.mark.parametrize("if_match", ['"1", "2"', '"1",', "*", 'W/"1", "1"'])
def test_an_if_match_naming_more_than_one_version_is_refused_put_and_delete(alice, if_match):
    create(alice, "slot1", {"a": 1})

    written = put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH=if_match)
    deleted = alice.delete(f"{URL}/slot1", HTTP_IF_MATCH=if_match)

    for response in (written, deleted):
        assert (response.status_code, response.json()["code"]) == (400, "invalid_precondition")
    assert Document.objects.get(key="slot1").version == 1


def test_an_idempotency_key_is_one_request_whichever_endpoint_it_is_sent_to(alice):
    create(alice, "slot1", {"a": 1})
    first = put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 200

    again = [
        put(alice, "slot1", {"a": 3}, HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="k"),
        put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"2"', HTTP_IDEMPOTENCY_KEY="k"),
        alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"2"', HTTP_IDEMPOTENCY_KEY="k"),
        alice.post(
            URL,
            {"writes": [{"key": "slot1", "value": {"a": 2}, "version": 1}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k",
        ),
    ]

    assert [r.json()["code"] for r in again] == ["idempotency_key_reused"] * 4
    replay = put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="k")
    assert (replay.status_code, replay.content, replay["ETag"]) == (200, first.content, '"2"')
    assert Document.objects.get(key="slot1").version == 2
