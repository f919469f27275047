"""A write sent again with its Idempotency-Key answers the first answer byte for byte: its keys in
their first order (jsonb keeps an object's keys shortest first) and each number as first written
(jsonb gives `1e+20` back as an integer). Player and game server, PUT, DELETE and batch."""

from __future__ import annotations

import json

import pytest

from apps.cloudsave.models import SaveKey
from tests.cloudsave.conftest import URL

pytestmark = pytest.mark.django_db

# Keys jsonb would reorder (longest first here, and the envelope's `version` before `value`),
# nested, and a float jsonb keeps as a plain integer.
VALUE = {"zebra_longest": {"yy": [1.5, 1e20], "b": True}, "mid": "x", "a": None}


@pytest.fixture
def server_url(game, player):
    SaveKey.objects.create(game=game, key="anticheat", writer=SaveKey.Writer.SERVER)
    return f"/api/v1/saves/players/{player.pk}"


def twice(send):
    first, again = send(), send()
    assert first.status_code == again.status_code
    assert first.status_code in (200, 201, 204)
    return first, again


def test_a_players_replayed_create_put_and_batch_are_byte_identical(alice):
    def create():
        return alice.put(
            f"{URL}/slot1",
            {"value": VALUE},
            format="json",
            HTTP_IF_NONE_MATCH="*",
            HTTP_IDEMPOTENCY_KEY="c",
        )

    def update():
        return alice.put(
            f"{URL}/slot1",
            {"value": {**VALUE, "mid": "y"}},
            format="json",
            HTTP_IF_MATCH='"1"',
            HTTP_IDEMPOTENCY_KEY="u",
        )

    batch = {
        "writes": [
            {"key": "slot2", "value": VALUE},
            {"key": "slot1", "value": {"z": 1, "a": 2}, "version": 2},
        ]
    }

    def write_batch():
        return alice.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="b")

    for send in (create, update, write_batch):
        first, again = twice(send)
        assert again.content == first.content
        assert again.get("ETag") == first.get("ETag")
    # As first answered: the value's keys in the order they were sent.
    assert first.content.index(b'"zebra_longest"') < first.content.index(b'"mid"')
    assert b"1e+20" in first.content


def test_a_players_replayed_delete_is_byte_identical(alice):
    alice.put(f"{URL}/slot1", {"value": VALUE}, format="json", HTTP_IF_NONE_MATCH="*")

    first, again = twice(
        lambda: alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="d")
    )

    assert first.status_code == 204 and again.content == first.content == b""


def test_a_servers_replayed_put_delete_and_batch_are_byte_identical(server_client, server_url):
    def create():
        return server_client.put(
            f"{server_url}/anticheat",
            {"value": VALUE},
            format="json",
            HTTP_IF_NONE_MATCH="*",
            HTTP_IDEMPOTENCY_KEY="c",
        )

    def write_batch():
        batch = {
            "writes": [
                {"key": "anticheat", "value": {"zz_flags": 1, "a": 1e20}, "version": 1},
                {"key": "slot9", "value": VALUE},
            ]
        }
        return server_client.post(server_url, batch, format="json", HTTP_IDEMPOTENCY_KEY="b")

    def delete():
        return server_client.delete(
            f"{server_url}/slot9", HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="d"
        )

    for send in (create, write_batch, delete):
        first, again = twice(send)
        assert again.content == first.content
        assert again.get("ETag") == first.get("ETag")


def test_the_receipt_keeps_the_answer_as_an_object_too(alice):
    """A process of the previous release (during a deploy) replays the receipt's `body`: it is
    still the answer as an object; the text beside it is what this release replays."""
    from apps.cloudsave.models import SaveReceipt

    first = alice.put(
        f"{URL}/slot1",
        {"value": VALUE},
        format="json",
        HTTP_IF_NONE_MATCH="*",
        HTTP_IDEMPOTENCY_KEY="kept",
    )

    receipt = SaveReceipt.objects.get(idempotency_key__endswith=":kept")
    assert first.status_code == 201
    assert receipt.body == first.json()
    assert receipt.answer_text is not None and json.loads(receipt.answer_text) == first.json()
