"""The one HTTP client every verifier goes through: pooled, time-bounded, never retried."""

from __future__ import annotations

import gzip
import itertools
import time

import pytest
import responses
from requests.adapters import HTTPAdapter

from apps.platforms.verifiers import upstream as client
from apps.platforms.verifiers.upstream import (
    SESSION,
    call,
    json_body,
    login_deadline,
    read_limited,
)
from tests.platforms.helpers import raises_problem

pytestmark = pytest.mark.usefixtures("upstream")

URL = "https://platform.test/check"
STEAM = {"platform": "steam", "operation": "x"}


def test_every_call_carries_the_configured_timeout_through_the_shared_session(upstream, settings):
    settings.PLATFORM_HTTP_TIMEOUT = [1.5, 4.0]  # as a list from the environment
    upstream.get(URL, json={})

    call("GET", URL, platform="steam", operation="check")

    sent = upstream.calls[0].request
    assert sent.req_kwargs["timeout"] == (1.5, 4.0)


def test_the_session_is_one_pooled_client_that_never_retries():
    for prefix in ("https://", "http://"):
        adapter = SESSION.get_adapter(prefix + "platform.test")
        assert isinstance(adapter, HTTPAdapter)
        assert adapter.max_retries.total == 0
        assert adapter.poolmanager.connection_pool_kw["maxsize"] >= 8


def test_a_redirect_is_not_followed_and_is_503(upstream):
    upstream.get(URL, status=302, headers={"Location": "https://elsewhere.test/"})

    with raises_problem("platform_unavailable", 503):
        call("GET", URL, platform="epic", operation="check")
    assert len(upstream.calls) == 1


def test_a_header_a_client_smuggled_in_is_never_sent(upstream):
    """requests refuses CR/LF in a header value before anything leaves; the verifiers refuse
    such credentials before calling (test_epic), and this is the last line."""
    with raises_problem("platform_unavailable", 503):
        call(
            "GET",
            URL,
            headers={"Authorization": "Bearer a\r\nX: 1"},
            platform="epic",
            operation="x",
        )
    assert not upstream.calls


def test_inside_a_login_each_call_gets_only_what_is_left_of_its_budget(upstream):
    upstream.get(URL, json={})

    with login_deadline(1.0):
        call("GET", URL, platform="steam", operation="check")

    timeout = upstream.calls[0].request.req_kwargs["timeout"]
    assert 0.5 < timeout.total <= 1.0  # connect and reads together, not the configured (2, 5)
    assert timeout.connect_timeout <= timeout.total and timeout.read_timeout <= timeout.total


def test_a_call_once_the_budget_is_spent_is_503_and_never_sent(upstream):
    def slow(request):
        time.sleep(0.3)
        return 200, {}, "{}"

    upstream.add_callback(responses.GET, URL, callback=slow)

    with login_deadline(0.25):
        with raises_problem("platform_unavailable", 503):  # its answer came past the budget
            call("GET", URL, platform="steam", operation="first")
        with raises_problem("platform_unavailable", 503):
            call("GET", URL, platform="steam", operation="second")
    assert len(upstream.calls) == 1
    call("GET", URL, platform="steam", operation="after the login")  # no budget outside


def test_a_streamed_body_stops_at_the_deadline(upstream, monkeypatch):
    upstream.get(URL, body=b"x" * 40_000)
    # The login starts at 0; the body's third chunk arrives at 5 s, past the 1 s budget.
    clock = itertools.chain([0.0, 0.0, 0.1, 0.2], itertools.repeat(5.0))
    monkeypatch.setattr(client.time, "monotonic", lambda: next(clock))

    with login_deadline(1.0):
        response = call("GET", URL, stream=True, platform="apple", operation="key")
        with raises_problem("platform_unavailable", 503):
            read_limited(response, limit=100_000, platform="apple", operation="key")


def test_every_answer_is_read_within_the_logins_budget(upstream, monkeypatch):
    """Not only a streamed one: requests read a whole body each read bounded by the read
    timeout alone, so an answer that trickled in held the login past its budget."""
    upstream.get(URL, body=b"[" + b" " * 40_000 + b"]")
    clock = itertools.chain([0.0, 0.0, 0.1, 0.2], itertools.repeat(5.0))
    monkeypatch.setattr(client.time, "monotonic", lambda: next(clock))

    with login_deadline(1.0), raises_problem("platform_unavailable", 503):
        call("GET", URL, platform="steam", operation="check")


def test_an_answer_larger_than_the_cap_is_503_and_one_at_it_is_read(upstream, monkeypatch):
    monkeypatch.setattr(client, "MAX_BODY_BYTES", 50_000)
    upstream.get(URL, body=b"[" + b" " * 49_998 + b"]")
    upstream.get(URL + "/big", body=b"[" + b" " * 49_999 + b"]")

    assert json_body(call("GET", URL, platform="steam", operation="x"), **STEAM) == []
    with raises_problem("platform_unavailable", 503):
        call("GET", URL + "/big", platform="steam", operation="x")


def test_a_compressed_answer_is_capped_by_what_it_unpacks_to(upstream, monkeypatch):
    monkeypatch.setattr(client, "MAX_BODY_BYTES", 50_000)
    packed = gzip.compress(b"[" + b" " * 60_000 + b"]")  # about 100 bytes on the wire
    upstream.get(URL, body=packed, headers={"Content-Encoding": "gzip"})

    with raises_problem("platform_unavailable", 503):
        call("GET", URL, platform="steam", operation="x")


def test_a_slow_name_lookup_is_bounded_by_the_logins_budget(upstream, monkeypatch, settings):
    """The system resolver takes no timeout and urllib3's do not cover it: the lookup is
    bounded by what is left of the login, a 503 on time instead of a login that hangs."""
    from gamingpanel import outbound

    settings.OUTBOUND_ALLOW_PRIVATE = False  # as deployed: every host is looked up first

    def slow_resolver(host: str, port: int) -> list[str]:
        time.sleep(1.5)  # glibc waits 5 s per try
        return ["93.184.216.34"]

    monkeypatch.setattr(outbound, "resolve", slow_resolver)
    upstream.get(URL, json={})
    started = time.monotonic()

    with login_deadline(0.5), raises_problem("platform_unavailable", 503):
        call("GET", URL, platform="steam", operation="check")

    assert time.monotonic() - started < 0.8
    assert len(upstream.calls) == 0


def test_a_connection_waits_for_its_name_at_most_its_connect_timeout(monkeypatch, settings):
    from urllib3.exceptions import ConnectTimeoutError

    from gamingpanel import outbound

    settings.OUTBOUND_ALLOW_PRIVATE = False  # as deployed: the connection resolves and checks

    def slow_resolver(host: str, port: int) -> list[str]:
        time.sleep(1.0)
        return ["93.184.216.34"]

    monkeypatch.setattr(outbound, "resolve", slow_resolver)
    connection = outbound.GuardedHTTPSConnection("platform.test", 443, timeout=0.2)
    started = time.monotonic()

    with pytest.raises(ConnectTimeoutError):
        connection._new_conn()
    assert time.monotonic() - started < 0.6


@pytest.fixture
def cookies_left_behind():
    """Whatever a test leaves in the shared session's jar is dropped after it."""
    yield SESSION.cookies
    SESSION.cookies.clear()


def test_a_cookie_a_platform_sets_is_never_sent_with_another_login(upstream, cookies_left_behind):
    """The one session serves every game and player: a cookie one answer set (a PHP session
    of IDC's login endpoint) must not ride with the next call, another player's or game's."""
    upstream.get(URL, json={}, headers={"Set-Cookie": "PHPSESSID=first-player; Path=/"})

    call("GET", URL, platform="idcgames", operation="verify")
    call("GET", URL, platform="idcgames", operation="verify")

    assert [sent.request.headers.get("Cookie") for sent in upstream.calls] == [None, None]
    assert not list(cookies_left_behind)


def test_a_netrc_on_the_server_never_adds_or_replaces_an_authorization(
    upstream, tmp_path, monkeypatch
):
    """requests would send a netrc entry's password to every platform it matches (a `default`
    entry: all of them), and put it in place of the Bearer token a call sets itself."""
    netrc = tmp_path / "netrc"
    netrc.write_text("default login deploy password hunter2\n")
    monkeypatch.setenv("NETRC", str(netrc))
    upstream.get(URL, json={})

    call("GET", URL, platform="steam", operation="x")
    bearer = {"Authorization": "Bearer ya29.player"}
    call("GET", URL, headers=bearer, platform="google_play", operation="verify")
    call("GET", URL, auth=("ps-client", "ps-secret"), platform="playstation", operation="token")

    assert [sent.request.headers.get("Authorization") for sent in upstream.calls] == [
        None,
        "Bearer ya29.player",
        "Basic cHMtY2xpZW50OnBzLXNlY3JldA==",  # base64("ps-client:ps-secret")
    ]
