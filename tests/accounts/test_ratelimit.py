import math
import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts import ratelimit
from apps.accounts.models import AuthSession, Game
from tests.accounts.conftest import LOGIN, REFRESH, assert_problem, bearer
from tests.accounts.server_urls import WHOAMI

pytestmark = pytest.mark.urls("tests.accounts.server_urls")


@pytest.fixture(autouse=True)
def one_window(monkeypatch):
    """Counts live in fixed windows; a test crossing a window's end would see them reset."""
    frozen = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: frozen))


def budget_headers(response) -> tuple[int, int, int]:
    return (
        int(response["RateLimit-Limit"]),
        int(response["RateLimit-Remaining"]),
        int(response["RateLimit-Reset"]),
    )


@pytest.mark.django_db
def test_every_player_response_carries_the_budget(tokens):
    client = bearer(tokens["access_token"])

    first, second = client.get(WHOAMI), client.get(WHOAMI)

    limit, remaining, reset = budget_headers(first)
    assert (limit, remaining) == (1000, 999)
    assert 0 < reset <= 3600
    assert budget_headers(second)[1] == 998


@pytest.mark.django_db
def test_error_answers_to_a_token_carry_the_budget_too(tokens):
    response = bearer(tokens["access_token"]).post("/api/v1/auth/unlink", {})
    assert response.status_code == 400
    assert budget_headers(response)[:2] == (1000, 999)


@pytest.mark.django_db
def test_over_budget_is_429_rate_limited_with_retry_after(tokens, game):
    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=3)
    client = bearer(tokens["access_token"])
    assert [client.get(WHOAMI).status_code for _ in range(3)] == [200, 200, 200]

    response = client.get(WHOAMI)

    assert_problem(response, 429, "rate_limited")
    assert budget_headers(response)[:2] == (3, 0)
    assert 0 < int(response["Retry-After"]) <= 3600


@pytest.mark.django_db
@pytest.mark.parametrize("seconds_left", [100.5, 0.25, 7.0])
def test_a_client_that_waits_retry_after_comes_back_in_the_next_window(
    tokens, game, monkeypatch, seconds_left
):
    """Retry-After and RateLimit-Reset are rounded up: waiting them out is enough. Rounded down,
    a client that waited as told came back the fraction of a second before the window ended
    and was refused again."""
    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=1)
    session = str(AuthSession.objects.get().pk)
    ends = ratelimit.window_end(session, ratelimit.HOUR, time.time())
    now = [ends - seconds_left]
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now[0]))
    client = bearer(tokens["access_token"])
    assert client.get(WHOAMI).status_code == 200

    refused = client.get(WHOAMI)

    assert_problem(refused, 429, "rate_limited")
    wait = int(refused["Retry-After"])
    assert budget_headers(refused)[2] == wait
    now[0] += wait  # the client waits exactly as long as it was told
    assert client.get(WHOAMI).status_code == 200
    assert wait == max(1, math.ceil(seconds_left))  # and not a second longer


@pytest.mark.django_db
def test_a_session_over_its_budget_can_still_log_out(
    tokens, game, django_capture_on_commit_callbacks
):
    """Logging out is never refused for the budget: a client that spent it (a runaway loop, a
    leaked token being used) must still be able to end its session."""
    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=2)
    client = bearer(tokens["access_token"])
    assert [client.get(WHOAMI).status_code for _ in range(3)] == [200, 200, 429]

    with django_capture_on_commit_callbacks(execute=True):  # the revocation's publish
        logged_out = client.post("/api/v1/auth/logout")

    assert logged_out.status_code == 204
    assert budget_headers(logged_out)[:2] == (2, 0)
    assert_problem(client.get(WHOAMI), 401, "token_revoked")


@pytest.mark.django_db
def test_each_login_session_has_its_own_budget(login, game):
    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=1)
    first, second = login("alice"), login("bob")

    assert bearer(first["access_token"]).get(WHOAMI).status_code == 200
    assert bearer(first["access_token"]).get(WHOAMI).status_code == 429
    assert bearer(second["access_token"]).get(WHOAMI).status_code == 200


@pytest.mark.django_db
def test_a_refreshed_token_spends_from_its_sessions_budget(tokens):
    assert budget_headers(bearer(tokens["access_token"]).get(WHOAMI))[1] == 999

    refreshed = APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]}).json()
    after_refresh = bearer(refreshed["access_token"]).get(WHOAMI)

    assert after_refresh.status_code == 200
    assert budget_headers(after_refresh)[1] == 998  # not a fresh 999


@pytest.mark.django_db
def test_refused_tokens_spend_nothing(tokens):
    assert bearer("garbage").get(WHOAMI).status_code == 401
    assert budget_headers(bearer(tokens["access_token"]).get(WHOAMI))[1] == 999


@pytest.mark.django_db
def test_logins_are_limited_per_address(dev_platform, settings):
    settings.AUTH_RATE_LIMIT_PER_MINUTE = 2
    body = {"platform": "dev", "credentials": {"user_id": "alice"}}
    client = APIClient()

    statuses = [
        client.post(LOGIN, body, HTTP_X_GAME_KEY="alpha-client-key").status_code for _ in range(2)
    ]
    # A wrong game key still spends from the address budget: guessing keys is limited too.
    refused = client.post(LOGIN, body, HTTP_X_GAME_KEY="guess")

    assert statuses == [200, 200]
    assert_problem(refused, 429, "rate_limited")
    assert "Retry-After" in refused
    other_address = client.post(
        LOGIN, body, HTTP_X_GAME_KEY="alpha-client-key", REMOTE_ADDR="10.0.0.2"
    )
    assert other_address.status_code == 200


@pytest.mark.django_db
def test_links_spend_the_login_budgets_of_the_address_and_the_game(login, settings):
    sessions = [login(user) for user in ("alice", "bob", "carol")]
    settings.AUTH_RATE_LIMIT_PER_MINUTE = 2  # the logins above came from another address
    steam = {"platform": "steam", "credentials": {"ticket": "14000000"}}

    answers = []
    for session in sessions:
        client = bearer(session["access_token"])
        client.defaults["REMOTE_ADDR"] = "10.0.0.9"
        answers.append(client.post("/api/v1/auth/link", steam, format="json"))

    # Steam is not configured here: the first two get that far; the third is stopped first.
    assert [a.json()["code"] for a in answers[:2]] == ["platform_not_configured"] * 2
    assert_problem(answers[2], 429, "rate_limited")


@pytest.mark.django_db
def test_a_link_refused_by_the_address_budget_shows_that_budget(login, settings):
    """The 429's RateLimit-* headers are the exceeded budget's, as its Retry-After is, not the
    session's (which had hundreds left and reset in up to an hour)."""
    client = bearer(login("alice")["access_token"])
    client.defaults["REMOTE_ADDR"] = "10.0.0.9"
    settings.AUTH_RATE_LIMIT_PER_MINUTE = 1
    steam = {"platform": "steam", "credentials": {"ticket": "14000000"}}

    spent = client.post("/api/v1/auth/link", steam, format="json")
    refused = client.post("/api/v1/auth/link", steam, format="json")

    assert spent.json()["code"] == "platform_not_configured"
    assert budget_headers(spent)[:2] == (1, 0)  # the tightest budget it spent
    assert_problem(refused, 429, "rate_limited")
    limit, remaining, reset = budget_headers(refused)
    assert (limit, remaining) == (1, 0)
    assert reset == int(refused["Retry-After"]) <= 60


@pytest.mark.django_db
def test_refreshes_are_limited_per_address(login, settings):
    first = login("alice")
    second = login("bob")
    settings.AUTH_RATE_LIMIT_PER_MINUTE = 1  # the logins above came from another address
    client = APIClient(REMOTE_ADDR="10.0.0.7")

    refreshed = client.post(REFRESH, {"refresh_token": first["refresh_token"]})
    refused = client.post(REFRESH, {"refresh_token": second["refresh_token"]})
    elsewhere = APIClient(REMOTE_ADDR="10.0.0.8").post(
        REFRESH, {"refresh_token": second["refresh_token"]}
    )

    assert refreshed.status_code == 200
    assert_problem(refused, 429, "rate_limited")
    assert "Retry-After" in refused
    assert elsewhere.status_code == 200  # bob's token was never spent by the refused call


@pytest.mark.django_db
def test_refused_logins_and_refreshes_carry_the_budget_too(dev_platform, settings):
    settings.AUTH_RATE_LIMIT_PER_MINUTE = 5
    client = APIClient(REMOTE_ADDR="10.0.0.9")

    bad_body = client.post(LOGIN, {"platform": "dev"}, HTTP_X_GAME_KEY="alpha-client-key")
    unknown_game = client.post(
        LOGIN, {"platform": "dev", "credentials": {}}, HTTP_X_GAME_KEY="guess"
    )
    unknown_token = client.post(REFRESH, {"refresh_token": "rt_made_up"})

    assert bad_body.status_code == 400 and budget_headers(bad_body)[:2] == (5, 4)
    assert unknown_game.status_code == 401 and budget_headers(unknown_game)[:2] == (5, 3)
    assert unknown_token.status_code == 401 and budget_headers(unknown_token)[:2] == (5, 2)


@pytest.mark.django_db
def test_logins_and_refreshes_are_limited_per_game(login, settings):
    settings.AUTH_GAME_RATE_LIMIT_PER_MINUTE = 2
    tokens = login("alice")

    refreshed = APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]})
    refused = APIClient().post(
        REFRESH, {"refresh_token": refreshed.json()["refresh_token"]}, REMOTE_ADDR="10.0.0.3"
    )

    assert refreshed.status_code == 200
    assert budget_headers(refreshed)[:2] == (2, 0)
    assert_problem(refused, 429, "rate_limited")


@pytest.mark.django_db
def test_a_cache_outage_lets_requests_through(tokens, monkeypatch):
    from django.core.cache import cache

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("no Redis")

    monkeypatch.setattr(cache, "add", unreachable)  # the path without a Redis client
    monkeypatch.setattr(ratelimit.hotcache, "run_script", unreachable)
    response = bearer(tokens["access_token"]).get(WHOAMI)
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_processes_spend_from_one_budget(start_web, tokens, game):
    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=6)
    first, second = start_web(), start_web()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}

    answers = [web.request("GET", WHOAMI, headers=headers) for web in (first, second) * 4]

    remaining = [int(h["ratelimit-remaining"]) for _, h, _ in answers[:6]]
    assert remaining == [5, 4, 3, 2, 1, 0]
    assert [status for status, _, _ in answers] == [200] * 6 + [429, 429]
    assert answers[7][2]["code"] == "rate_limited" and "retry-after" in answers[7][1]


@pytest.mark.redis
@pytest.mark.django_db
def test_a_count_is_one_redis_key_that_expires_with_its_window(game):
    from django.core.cache import cache

    from apps.accounts.hotcache import redis_client

    spent = [ratelimit.spend_session_budget(session_id=41, game=game) for _ in range(3)]

    keys = redis_client().keys(cache.make_key("rl:api:session:*"))
    assert [budget.remaining for budget in spent] == [999, 998, 997]
    # The first request reserved a lease of positions; the next two took theirs from it.
    assert len(keys) == 1 and int(redis_client().get(keys[0])) == settings.RATELIMIT_LEASE_SIZE
    ttl = redis_client().ttl(keys[0])
    assert (
        spent[-1].reset_seconds < ttl <= spent[-1].reset_seconds + ratelimit.EXPIRY_MARGIN_SECONDS
    )


def test_windows_are_fixed_and_shifted_per_counted_value():
    ends = {value: ratelimit.window_end(value, 3600, 1_000_000.0) for value in ("a", "b", "c")}

    assert len(set(ends.values())) == 3  # not every budget resets at the same moment
    for value, end in ends.items():
        assert 1_000_000 < end <= 1_000_000 + 3600
        assert ratelimit.window_end(value, 3600, end - 0.5) == end  # the same window
        assert ratelimit.window_end(value, 3600, end) == end + 3600  # the next one


@pytest.mark.parametrize(
    ("meta", "counted_as"),
    [
        ({"REMOTE_ADDR": "203.0.113.9"}, "203.0.113.9"),
        ({"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::"),
        # An IPv4 client through a dual-stack listener: its own address, not the /64 "::"
        ({"REMOTE_ADDR": "::ffff:203.0.113.9"}, "203.0.113.9"),
        ({"REMOTE_ADDR": "::ffff:198.51.100.1"}, "198.51.100.1"),
    ],
)
def test_an_address_is_counted_as_itself_or_its_ipv6_64(meta, counted_as):
    assert ratelimit.client_address(SimpleNamespace(META=meta)) == counted_as


def test_the_address_comes_from_the_proxy_header_when_configured(settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    request = SimpleNamespace(META={"REMOTE_ADDR": "10.0.0.1", "HTTP_X_REAL_IP": "198.51.100.4"})

    assert ratelimit.client_address(request) == "198.51.100.4"


def test_the_headers_shown_are_the_exceeded_budgets_on_a_tie():
    from apps.accounts.ratelimit import Budget, tightest

    address = Budget(limit=60, remaining=0, reset_seconds=10, exceeded=False)  # its last one
    game = Budget(limit=3000, remaining=0, reset_seconds=50, exceeded=True)

    assert tightest(address, game) is game
    assert tightest(address, None) is address
    assert tightest(Budget(60, 5, 10, False), Budget(3000, 7, 50, False)).limit == 60
