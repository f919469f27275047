"""A body is read as one JSON text means, or refused: an object naming a member twice is
`malformed_json`, and a body labelled with a charset other than UTF-8 (JSON's only encoding) is
`unsupported_media_type`, never read under a meaning the client did not send."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.cloudsave.models import Document
from tests.shop.conftest import access_token, bearer

pytestmark = pytest.mark.django_db
SAVE = "/api/v1/player/saves/slot1"


@pytest.fixture
def alice(player: Player) -> APIClient:
    return bearer(access_token(player))


def create(client: APIClient, body: str, content_type: str = "application/json"):
    # A str body is sent as UTF-8 whatever charset the Content-Type names.
    return client.generic("PUT", SAVE, body, content_type=content_type, HTTP_IF_NONE_MATCH="*")


@pytest.mark.parametrize(
    "body",
    [
        '{"value": 1, "value": 2}',
        '{"value": {"gold": 1, "gems": 5, "gold": 900}}',
        '{"value": [{"a": 1}, {"b": 1, "b": 2}]}',
    ],
)
def test_an_object_naming_a_member_twice_is_malformed_json_and_stores_nothing(alice, body):
    response = create(alice, body)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "malformed_json"
    assert "Duplicate name" in problem["detail"]
    assert not Document.objects.exists()


def test_the_same_name_in_two_objects_is_no_duplicate(alice):
    response = create(alice, '{"value": {"a": {"n": 1}, "b": {"n": 2}}}')

    assert response.status_code == 201, response.content
    assert Document.objects.get().value == {"a": {"n": 1}, "b": {"n": 2}}


@pytest.mark.parametrize(
    "charset", ["iso-8859-1", "latin-1", "windows-1252", "utf-16", "rot13", "utf-8-sig"]
)
def test_a_body_labelled_with_another_charset_is_415_and_stores_nothing(alice, charset):
    # Some HTTP libraries label every body ISO-8859-1 by default: read so, "Zoë" was stored as
    # "ZoÃ«" with a 201.
    response = create(alice, '{"value": "Zoë"}', f"application/json; charset={charset}")

    assert response.status_code == 415, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported_media_type"
    assert not Document.objects.exists()


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf8", "us-ascii", '"utf-8"'])
def test_a_body_labelled_utf8_or_ascii_is_read_as_utf8(alice, charset):
    response = create(alice, '{"value": "Zoë"}', f"application/json; charset={charset}")

    assert response.status_code == 201, response.content
    assert Document.objects.get().value == "Zoë"


def test_a_charset_no_codec_knows_is_ignored_as_django_ignores_it(alice):
    response = create(alice, '{"value": "Zoë"}', "application/json; charset=nonsense")

    assert response.status_code == 201, response.content
    assert Document.objects.get().value == "Zoë"
