"""What a heartbeat stores is handed to every player's client as it is: `address`, `mode` and
`version` take no control character (a line break, a bell, U+0085), no invisible format
character (zero-width, a bidi override that shows an address backwards), and an address no white
space inside. Such a beat is `400 validation_error` and changes nothing. White space at either
end is trimmed, as it always was: game servers already running send a version read from a file
with its line break."""

from __future__ import annotations

import re

import pytest

from apps.multiplayer.models import RegisteredServer
from tests.multiplayer.test_registry import SERVER_INFO, beat

pytestmark = pytest.mark.django_db

REFUSED = [
    ("address", "203.0.113.9\r\nX-Evil: 1"),
    ("address", "\x07"),
    ("address", "203.0.113.9\x00"),
    ("address", "play.\u202eexample.com"),
    ("address", "play\u200b.example.com"),
    ("address", "203.0.113.9 203.0.113.10"),
    ("address", "\u3000"),
    ("mode", "ranked\x01"),
    ("mode", "rank\u2028ed"),
    ("version", "1.4\n.2"),
    ("version", "1.4.2\x7f"),
    ("version", "\ufeff1.4.2"),
]


TRIMMED = [
    ("address", " 203.0.113.9", "203.0.113.9"),
    ("address", "203.0.113.9\n", "203.0.113.9"),
    ("address", "203.0.113.9\x85", "203.0.113.9"),
    ("mode", "\t", ""),
    ("mode", " ranked", "ranked"),
    ("version", "1.4.2\n", "1.4.2"),
    ("version", "1.4.2 ", "1.4.2"),
]


@pytest.mark.parametrize(("field", "value", "stored"), TRIMMED)
def test_white_space_at_either_end_is_trimmed_as_before(
    server_client, player_client, field, value, stored
):
    response = beat(server_client, "eu-1", **{field: value})

    assert response.status_code == 200, response.content
    (listed,) = player_client.get(SERVER_INFO).json()
    assert listed[field] == stored


@pytest.mark.parametrize(("field", "value"), REFUSED)
def test_a_heartbeat_with_unshowable_text_is_400_and_registers_nothing(
    server_client, player_client, field, value
):
    response = beat(server_client, "eu-1", **{field: value})

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert field in response.json()["errors"]
    assert not RegisteredServer.objects.exists()
    assert player_client.get(SERVER_INFO).json() == []


@pytest.mark.parametrize(("field", "value"), REFUSED)
def test_a_refused_beat_leaves_the_live_server_as_it_was(server_client, field, value):
    assert beat(server_client, "eu-1", players=3).status_code == 200
    before = RegisteredServer.objects.values().get()

    response = beat(server_client, "eu-1", players=4, **{field: value})

    assert response.status_code == 400
    assert RegisteredServer.objects.values().get() == before


ACCEPTED = [
    ("address", "2001:db8::1"),
    ("address", "[2001:db8::1]"),
    ("address", "fe80::1%eth0"),
    ("address", "play.example.com"),
    ("address", "bücher.example"),
    ("address", "wss://play.example.com/game"),
    ("mode", "Team Deathmatch"),
    ("mode", ""),
    ("mode", "équipe"),
    ("version", "1.4.2 (build 77)"),
    ("version", ""),
]


@pytest.mark.parametrize(("field", "value"), ACCEPTED)
def test_ordinary_addresses_modes_and_versions_still_register_as_sent(
    server_client, player_client, field, value
):
    response = beat(server_client, "eu-1", **{field: value})

    assert response.status_code == 200, response.content
    (listed,) = player_client.get(SERVER_INFO).json()
    assert listed[field] == value


def test_the_schemas_patterns_take_what_the_server_takes(api_client):
    """A generated client (and schemathesis) reads the rule from the schema: its pattern, as
    ECMA 262 reads it (Python's `re` reads these classes the same way), takes the accepted
    values and refuses the refused ones."""
    schema = api_client.get("/api/v1/schema/?format=json").json()
    heartbeat = schema["components"]["schemas"]["HeartbeatApiInputRequest"]["properties"]

    def pattern(field: str) -> re.Pattern[str]:
        # A blank-allowed string is a oneOf of the string and the empty one.
        (text,) = {option.get("pattern") for option in heartbeat[field].get("oneOf", [])} - {
            None
        } or {heartbeat[field]["pattern"]}
        assert text.endswith("$") and "\\Z" not in text
        return re.compile(text[:-1] + r"\Z")

    for field, value in REFUSED:
        assert pattern(field).search(value) is None, (field, value)
    for field, value in ACCEPTED:
        assert value == "" or pattern(field).search(value), (field, value)
    for field, _sent, stored in TRIMMED:
        assert stored == "" or pattern(field).search(stored), (field, stored)
