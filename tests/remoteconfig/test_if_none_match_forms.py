"""If-None-Match on `GET config`, read as on a saved document's GET (one reading for both,
gamingpanel.headers.etag_current; RFC 9110 13.1.2): a list compared weakly, `*` any copy, and
what is not an entity tag (the ETag unquoted, `w/`) names nothing: the live copy, 200."""

from __future__ import annotations

import pytest

from apps.remoteconfig.services import publish, set_key
from gamingpanel.shortcache import clear_every_cache
from tests.shop.conftest import access_token, bearer

URL = "/api/v1/config"
pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(player):
    return bearer(access_token(player))


@pytest.fixture
def etag(alice, game) -> str:
    set_key(game=game, actor=None, key="shop", value="classic")
    publish(game=game, actor=None)
    clear_every_cache()
    return alice.get(URL)["ETag"]


@pytest.mark.parametrize(
    "held", ["{etag}", "W/{etag}", '"0-0", {etag}', "{bare}, {etag}", "{etag},", "*"]
)
def test_a_tag_naming_the_copy_answers_304(alice, etag, held):
    header = held.format(etag=etag, bare=etag.strip('"'))

    response = alice.get(URL, HTTP_IF_NONE_MATCH=header)

    assert (response.status_code, response.content, response["ETag"]) == (304, b"", etag)


@pytest.mark.parametrize("held", ["{bare}", "w/{etag}", "W/{bare}", "'{bare}'", '"0-0", {bare}'])
def test_what_names_no_tag_of_the_copy_answers_it(alice, etag, held):
    header = held.format(etag=etag, bare=etag.strip('"'))

    response = alice.get(URL, HTTP_IF_NONE_MATCH=header)

    assert (response.status_code, response["ETag"]) == (200, etag)
    assert response.json() == {"version": 1, "values": {"shop": "classic"}}
