"""GET config under a hostile client's input: every value of a repeated query parameter is
checked (a bad one was hidden behind a later good one), and odd client versions, platforms and
If-None-Match values are a 400 with a stable code or a correct answer, never a 500."""

from __future__ import annotations

import pytest

from apps.remoteconfig.services import add_override, publish, set_key
from gamingpanel.shortcache import clear_every_cache
from tests.shop.conftest import access_token, bearer

URL = "/api/v1/config"
pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(player):
    return bearer(access_token(player))


@pytest.fixture
def shop(game):
    """`shop`: "classic"; "new" from client 2.0 on; "mobile" on ios."""
    set_key(game=game, actor=None, key="shop", value="classic")
    add_override(game=game, actor=None, key="shop", value="new", min_client_version="2.0")
    add_override(game=game, actor=None, key="shop", value="mobile", platforms=["ios"], position=1)
    publish(game=game, actor=None)
    clear_every_cache()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("client_version=x&client_version=2.0", "invalid_client_version"),
        ("client_version=&client_version=2.0", "invalid_client_version"),
        ("client_version=2.0&client_version=1..2", "invalid_client_version"),
        ("platform=not%20one&platform=ios", "invalid_platform"),
        ("platform=&platform=ios", "invalid_platform"),
    ],
)
def test_every_value_of_a_repeated_parameter_is_checked(alice, shop, query, code):
    response = alice.get(f"{URL}?{query}")

    assert (response.status_code, response.json()["code"]) == (400, code)


def test_repeated_valid_values_read_the_last_as_before(alice, shop):
    values = alice.get(f"{URL}?client_version=1.0&client_version=2.0").json()["values"]
    assert values == {"shop": "new"}
    # The header still wins over the parameter, every value of which is valid.
    values = alice.get(
        f"{URL}?client_version=2.0&client_version=3", HTTP_X_CLIENT_VERSION="1.0"
    ).json()["values"]
    assert values == {"shop": "classic"}


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"HTTP_X_CLIENT_VERSION": "1..2"}, "invalid_client_version"),
        ({"HTTP_X_CLIENT_VERSION": "9" * 500}, "invalid_client_version"),
        ({"HTTP_X_CLIENT_VERSION": "v1.2"}, "invalid_client_version"),
        ({"HTTP_X_CLIENT_VERSION": "é"}, "invalid_client_version"),
        ({"HTTP_X_CLIENT_VERSION": "1.0000000"}, "invalid_client_version"),  # 7 digits
        ({"HTTP_X_CLIENT_PLATFORM": "ios\x00"}, "invalid_platform"),
        ({"HTTP_X_CLIENT_PLATFORM": "a" * 21}, "invalid_platform"),
        ({"QUERY_STRING": "client_version=%00"}, "invalid_client_version"),
        ({"QUERY_STRING": "platform=%FF"}, "invalid_platform"),
    ],
)
def test_odd_client_info_is_a_problem(alice, shop, headers, code):
    response = alice.get(URL, **headers)

    assert (response.status_code, response.json()["code"]) == (400, code)


@pytest.mark.parametrize(
    "held",
    [
        '"9999999999999999999999-abc"',  # past the 18 digits read: names no release
        '"999999999999999999-abc"',  # a release never published
        '"2147483648-ab"',
        "",
        ",,,",
        '"' * 5000,
        'W/"1-0"',
    ],
)
def test_odd_if_none_match_gets_the_live_copy(alice, shop, held):
    response = alice.get(URL, HTTP_IF_NONE_MATCH=held, HTTP_X_CLIENT_VERSION="2")

    assert response.status_code == 200
    assert response.json() == {"version": 1, "values": {"shop": "new"}}


@pytest.mark.parametrize(("version", "value"), [("1.9.999999", "classic"), ("2", "new")])
def test_the_version_bound_is_inclusive_at_its_lower_edge(alice, shop, version, value):
    assert alice.get(URL, HTTP_X_CLIENT_VERSION=version).json()["values"] == {"shop": value}
