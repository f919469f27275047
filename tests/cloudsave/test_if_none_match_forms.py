"""If-None-Match on a document's GET, read as RFC 9110 13.1.2 reads it, and as `GET config`
reads it for its own ETag (gamingpanel.headers.etag_current, one reading for both): a list of
entity tags compared weakly (`W/"3"` names `"3"`), `*` names any document there is, and what is
not an entity tag (`3` unquoted, `w/"3"`, `W/3`) names nothing, so the condition holds and the
answer is the document (200), never a 304 guessed from a header that does not say it."""

from __future__ import annotations

import pytest

from apps.cloudsave.models import SaveKey
from tests.cloudsave.conftest import URL, create, put

pytestmark = pytest.mark.django_db

# The device's copy is current: 304, no body.
NAMES_VERSION_3 = ['"3"', 'W/"3"', '"1", "3"', 'W/"2", W/"3"', '3, "3"', '"3",', "*", ' "3" ']
# Not an entity tag (quotes missing, a lower-case weak prefix), or another version: 200.
NAMES_NOTHING_OR_ANOTHER = ["3", "W/3", 'w/"3"', "'3'", '"03"', '"2"', '"2", 3', "", ",", '"3']


@pytest.fixture
def at_version_3(alice, game):
    SaveKey.objects.create(game=game, key="card", public=True)
    create(alice, "card", {"title": "Hero"})
    for version in (1, 2):
        put(alice, "card", {"title": f"Hero {version}"}, HTTP_IF_MATCH=f'"{version}"')


def urls(player, server_client, alice, bob):
    """Each GET of one document: the player's own, another player's public one, a server's."""
    return [
        (alice, f"{URL}/card"),
        (bob, f"/api/v1/saves/public/{player.pk}/card"),
        (server_client, f"/api/v1/saves/players/{player.pk}/card"),
    ]


@pytest.mark.parametrize("held", NAMES_VERSION_3)
def test_a_tag_naming_the_version_answers_304(
    at_version_3, alice, bob, player, server_client, held
):
    for client, url in urls(player, server_client, alice, bob):
        response = client.get(url, HTTP_IF_NONE_MATCH=held)
        assert (response.status_code, response.content, response["ETag"]) == (304, b"", '"3"')


@pytest.mark.parametrize("held", NAMES_NOTHING_OR_ANOTHER)
def test_what_names_no_tag_of_the_version_answers_the_document(
    at_version_3, alice, bob, player, server_client, held
):
    for client, url in urls(player, server_client, alice, bob):
        response = client.get(url, HTTP_IF_NONE_MATCH=held)
        assert (response.status_code, response["ETag"]) == (200, '"3"'), (url, held)
        assert response.json()["value"] == {"title": "Hero 2"}


def test_an_unquoted_version_is_read_as_the_etag_by_if_match_only(at_version_3, alice):
    # A write's If-Match takes the bare version (a value a device can only mean as a version, and
    # a mistake costs a 412, never a lost write); a read's If-None-Match does not guess: a 304
    # from a misread header would leave the device on a copy it never named.
    assert alice.get(f"{URL}/card", HTTP_IF_NONE_MATCH="3").status_code == 200
    assert put(alice, "card", {"title": "Hero 3"}, HTTP_IF_MATCH="3").status_code == 200
