"""GET config: the live release resolved for the calling player, with an ETag and cache
headers; publish, history and rollback (audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditLogEntry
from apps.remoteconfig.errors import ReleaseNotFound
from apps.remoteconfig.models import ConfigKey, ConfigRelease
from apps.remoteconfig.services import add_override, publish, rollback, set_key
from apps.shop.models import Purchase
from apps.stats.models import LevelCurve
from apps.stats.services import add_xp
from gamingpanel.shortcache import clear_every_cache
from tests.shop.conftest import access_token, bearer
from tests.shop.helpers import make_economy, make_offer

URL = "/api/v1/config"
pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(player):
    return bearer(access_token(player))


def live(game, **keys):
    for key, value in keys.items():
        set_key(game=game, actor=None, key=key, value=value)
    release = publish(game=game, actor=None, note="test")
    clear_every_cache()  # the 2 s bound of the live-release cache, without waiting
    return release


def test_nothing_published_is_version_zero_and_no_values(alice):
    response = alice.get(URL)

    assert response.status_code == 200
    assert response.json() == {"version": 0, "values": {}}
    assert response["Cache-Control"] == "private, max-age=60"
    assert response["ETag"].startswith('"0-')


def test_the_live_release_with_etag_and_304(alice, game):
    live(game, speed=1.5, motd={"text": "hi"})

    response = alice.get(URL)
    assert response.json() == {"version": 1, "values": {"motd": {"text": "hi"}, "speed": 1.5}}
    etag = response["ETag"]

    again = alice.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == "private, max-age=60"
    assert alice.get(URL, HTTP_IF_NONE_MATCH=f'"x", W/{etag}').status_code == 304

    live(game, speed=2)
    changed = alice.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["values"]["speed"] == 2


def test_a_client_holding_a_newer_release_never_gets_an_older_one_from_a_process_cache(alice, game):
    live(game, speed=1)
    assert alice.get(URL).json()["version"] == 1  # this process keeps release 1 for 2 s
    set_key(game=game, actor=None, key="speed", value=2)
    publish(game=game, actor=None, note="v2")  # read first by another process, say:
    newer_etag = '"2-0123456789abcdef"'  # the copy the client got from it

    stale_here = alice.get(URL)  # within the bound, no newer copy named: may still be 1
    from_newer_copy = alice.get(URL, HTTP_IF_NONE_MATCH=f'"x", W/{newer_etag}')

    assert stale_here.json()["version"] == 1
    assert from_newer_copy.status_code == 200
    assert from_newer_copy.json() == {"version": 2, "values": {"speed": 2}}
    assert alice.get(URL).json()["version"] == 2  # and the process keeps the newer one


def test_an_etag_naming_a_release_not_published_costs_a_version_lookup_not_a_reload(
    alice, game, monkeypatch
):
    from django.test.utils import CaptureQueriesContext

    from apps.remoteconfig import selectors
    from apps.remoteconfig.selectors import live_config

    monkeypatch.setattr(selectors._live, "seconds", 60)  # no expiry on a slow machine
    live(game, speed=1)
    assert alice.get(URL).json()["version"] == 1  # warm: the token's player, the live release
    cached = live_config(game_id=game.pk)
    future = '"99-0123456789abcdef"'  # made up, or corrupt: release 99 does not exist

    with CaptureQueriesContext(connection) as queries:
        answers = [alice.get(URL, HTTP_IF_NONE_MATCH=future) for _ in range(3)]

    assert all(a.status_code == 200 and a.json()["version"] == 1 for a in answers)
    assert live_config(game_id=game.pk) is cached  # not read again, nor compiled again
    releases = [q["sql"] for q in queries.captured_queries if "configrelease" in q["sql"]]
    assert len(releases) == 3  # what keeps a newer release's client from stepping back
    assert not any("rules" in sql for sql in releases)  # the number, not the release's rules


def test_the_draft_is_not_live_until_published(alice, game):
    live(game, speed=1)
    set_key(game=game, actor=None, key="speed", value=99)
    clear_every_cache()

    assert alice.get(URL).json()["values"] == {"speed": 1}


def test_platform_and_client_version_from_headers_or_query(alice, game):
    set_key(game=game, actor=None, key="shop", value="classic")
    add_override(
        game=game, actor=None, key="shop", value="new", min_client_version="2.0", position=0
    )
    add_override(game=game, actor=None, key="shop", value="mobile", platforms=["ios"], position=1)
    live(game)

    def shop(**kwargs) -> str:
        return alice.get(URL, **kwargs).json()["values"]["shop"]

    assert shop() == "classic"
    assert shop(HTTP_X_CLIENT_VERSION="2.1") == "new"
    assert shop(HTTP_X_CLIENT_VERSION="1.9", HTTP_X_CLIENT_PLATFORM="iOS") == "mobile"
    assert alice.get(URL + "?client_version=2.0.0").json()["values"]["shop"] == "new"
    assert alice.get(URL + "?platform=ios").json()["values"]["shop"] == "mobile"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"HTTP_X_CLIENT_VERSION": "1.2-beta"}, "invalid_client_version"),
        ({"HTTP_X_CLIENT_PLATFORM": "not a platform!"}, "invalid_platform"),
    ],
)
def test_bad_client_info_is_a_problem(alice, headers, code):
    response = alice.get(URL, **headers)

    assert response.status_code == 400 and response.json()["code"] == code


# Sent is checked as sent: an empty header or query value is refused (it was taken as absent,
# while the schema's pattern refuses it); a header wins over the query, and each one sent must
# be valid (a good header does not hide a bad query value).
@pytest.mark.parametrize(
    ("request_kwargs", "code"),
    [
        ({"HTTP_X_CLIENT_VERSION": ""}, "invalid_client_version"),
        (
            {"HTTP_X_CLIENT_VERSION": "", "QUERY_STRING": "client_version=2.0"},
            "invalid_client_version",
        ),
        ({"QUERY_STRING": "client_version="}, "invalid_client_version"),
        ({"HTTP_X_CLIENT_VERSION": "1.2\n"}, "invalid_client_version"),
        ({"HTTP_X_CLIENT_VERSION": "\u0661.\u0662"}, "invalid_client_version"),  # Arabic-Indic
        ({"HTTP_X_CLIENT_VERSION": "1.2.3.4.5"}, "invalid_client_version"),
        ({"HTTP_X_CLIENT_PLATFORM": ""}, "invalid_platform"),
        ({"QUERY_STRING": "platform="}, "invalid_platform"),
        ({"HTTP_X_CLIENT_PLATFORM": "ios\n"}, "invalid_platform"),
        ({"HTTP_X_CLIENT_PLATFORM": "ios", "QUERY_STRING": "platform="}, "invalid_platform"),
        (
            {"HTTP_X_CLIENT_VERSION": "1.2", "QUERY_STRING": "client_version=x"},
            "invalid_client_version",
        ),
    ],
)
def test_empty_or_malformed_client_info_is_refused_not_ignored(alice, request_kwargs, code):
    response = alice.get(URL, **request_kwargs)

    assert (response.status_code, response.json()["code"]) == (400, code)


def test_client_info_the_schema_takes_is_read(alice, game):
    set_key(game=game, actor=None, key="shop", value="classic")
    add_override(
        game=game, actor=None, key="shop", value="new", min_client_version="2.0", position=0
    )
    live(game)

    for version in ("2", "2.0.0.0", " 2.1 ", "999999.999999.999999.999999"):
        response = alice.get(URL, HTTP_X_CLIENT_VERSION=version, HTTP_X_CLIENT_PLATFORM="Web_2-x")
        assert response.json()["values"]["shop"] == "new", version


def test_level_payer_and_account_age_overrides(alice, game, player):
    LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=50)
    set_key(game=game, actor=None, key="offer", value="none")
    add_override(game=game, actor=None, key="offer", value="veteran", min_level=5, position=0)
    add_override(game=game, actor=None, key="offer", value="whale", payer=True, position=1)
    set_key(game=game, actor=None, key="tutorial", value=False)
    add_override(
        game=game, actor=None, key="tutorial", value=True,
        created_after=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    live(game)

    assert alice.get(URL).json()["values"] == {"offer": "none", "tutorial": True}
    add_xp(game_id=game.pk, xp_by_player={player.pk: 450})  # level 5
    assert alice.get(URL).json()["values"]["offer"] == "veteran"


def test_payer_means_a_completed_real_money_purchase(alice, game, player):
    set_key(game=game, actor=None, key="offer", value="starter")
    add_override(game=game, actor=None, key="offer", value="vip", payer=True)
    live(game)
    make_economy(game)
    offer = make_offer(game)
    bought = Purchase.objects.create(
        game=game, player=player, offer=offer, real_money=True, price_currency="USD",
        price_amount=499, status=Purchase.Status.PENDING,
    )  # fmt: skip
    assert alice.get(URL).json()["values"]["offer"] == "starter"

    Purchase.objects.create(
        game=game, player=player, offer=offer, real_money=False, price_currency="gold",
        price_amount=10, status=Purchase.Status.COMPLETED,
    )  # fmt: skip
    assert alice.get(URL).json()["values"]["offer"] == "starter"  # soft currency is not paying

    bought.status = Purchase.Status.COMPLETED
    bought.save()
    assert alice.get(URL).json()["values"]["offer"] == "vip"


def test_a_rollout_is_stable_per_player(game, player):
    set_key(game=game, actor=None, key="beta", value=False)
    add_override(game=game, actor=None, key="beta", value=True, rollout_percent=50)
    live(game)
    client = bearer(access_token(player))

    answers = {client.get(URL).json()["values"]["beta"] for _ in range(5)}

    assert len(answers) == 1


def test_publish_history_and_rollback_are_audited(alice, game):
    live(game, speed=1)
    live(game, speed=2)

    back = rollback(game=game, actor=None, version=1, note="speed 2 broke matchmaking")
    clear_every_cache()

    assert back.version == 3 and back.rolled_back_to == 1
    assert alice.get(URL).json() == {"version": 3, "values": {"speed": 1}}
    assert ConfigKey.objects.get(game=game, key="speed").value == 1  # the draft follows
    assert list(ConfigRelease.objects.filter(game=game).values_list("version", flat=True)) == [
        3, 2, 1,
    ]  # fmt: skip
    actions = list(
        AuditLogEntry.objects.filter(action__startswith="remoteconfig.").values_list(
            "action", flat=True
        )
    )
    assert actions.count("remoteconfig.publish") == 2
    assert actions.count("remoteconfig.rollback") == 1


def test_rolling_back_to_an_unknown_release_changes_nothing(game):
    live(game, speed=1)

    with pytest.raises(ReleaseNotFound):
        rollback(game=game, actor=None, version=9)
    assert ConfigRelease.objects.filter(game=game).count() == 1


def test_another_games_config_is_invisible(alice, other_game):
    live(other_game, secret="beta's")

    assert alice.get(URL).json() == {"version": 0, "values": {}}


def test_config_get_takes_no_query_without_attribute_rules(
    alice, game, django_assert_max_num_queries
):
    set_key(game=game, actor=None, key="shop", value="classic")
    add_override(game=game, actor=None, key="shop", value="mobile", platforms=["ios"])
    live(game)
    alice.get(URL)  # warm: the token's player and the live release are cached

    with django_assert_max_num_queries(0):
        assert alice.get(URL, HTTP_X_CLIENT_PLATFORM="ios").status_code == 200


def test_config_get_with_level_and_payer_rules_asks_both_in_one_round_trip(
    alice, game, player, django_assert_max_num_queries
):
    set_key(game=game, actor=None, key="k", value=0)
    add_override(game=game, actor=None, key="k", value=1, min_level=2, position=0)
    add_override(game=game, actor=None, key="k", value=2, payer=True, position=1)
    live(game)
    alice.get(URL)
    # PostgreSQL takes both queries in one message (run_together); SQLite runs them in turn.
    round_trips = 1 if connection.vendor == "postgresql" else 2

    with django_assert_max_num_queries(round_trips):
        assert alice.get(URL).json()["values"] == {"k": 0}
    make_economy(game)
    Purchase.objects.create(
        game=game, player=player, offer=make_offer(game), real_money=True, price_currency="USD",
        price_amount=499, status=Purchase.Status.COMPLETED,
    )  # fmt: skip
    # The setup may outlast the token's player cache (TOKEN_PLAYER_SECONDS) on a busy machine:
    # its reload is a query of the pipeline, not of the config, so it is done before counting.
    alice.get(URL)
    with django_assert_max_num_queries(round_trips):
        assert alice.get(URL).json()["values"] == {"k": 2}  # a payer, below level 2
    add_xp(game_id=game.pk, xp_by_player={player.pk: 10_000})
    alice.get(URL)
    with django_assert_max_num_queries(round_trips):
        assert alice.get(URL).json()["values"] == {"k": 1}  # the level rule comes first
