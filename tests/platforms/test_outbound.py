"""Outbound URLs are safe (issue 14 item 7): https, on the platform's hosts, never an internal
address unless the deployment allows it; checked when saved and again on every request."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError

from apps.platforms.admin import PlatformCredentialForm
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import get_verifier
from apps.platforms.verifiers.upstream import call
from gamingpanel import outbound
from gamingpanel.outbound import RefusedDestination, check_destination, check_url, host_matches
from tests.platforms.helpers import PLATFORM_KEY, claims, jwks, raises_problem, sign

INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 form of 169.254.169.254
    "::",
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"]


def literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.fixture
def resolver(monkeypatch) -> dict[str, list[str]]:
    """Names resolve only as a test says: no DNS is asked."""
    answers: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "not known")
        return answers[host]

    monkeypatch.setattr(outbound, "resolve", resolve)
    return answers


@pytest.fixture
def guarded(settings, resolver) -> dict[str, list[str]]:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    return resolver


# --- The one guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://keys.example.com/jwks",
        "ftp://keys.example.com/jwks",
        "//keys.example.com/jwks",
        "keys.example.com/jwks",
        "file:///etc/passwd",
        "gopher://keys.example.com:70/",
    ],
)
def test_only_https_urls_pass(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = True  # not even then

    with pytest.raises(RefusedDestination, match="https"):
        check_url(url, hosts=["keys.example.com"])


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/jwks",
        "https://example.com.evil.test/jwks",
        "https://evilexample.com/jwks",
        "https://example.com/jwks",  # "*.example.com" is the names under it, not itself
    ],
)
def test_a_host_off_the_allow_list_is_refused(url):
    with pytest.raises(RefusedDestination, match="not an allowed host"):
        check_url(url, hosts=["*.example.com"])


@pytest.mark.parametrize(
    "url", ["https://user:pw@keys.example.com/", "https://keys.example.com@evil.test/jwks"]
)
def test_user_info_is_refused(url):
    with pytest.raises(RefusedDestination, match="user name"):
        check_url(url, hosts=["keys.example.com"])


def test_host_patterns():
    assert host_matches("static.gc.apple.com", ["*.apple.com"])
    assert host_matches("STATIC.GC.APPLE.COM.", ["*.apple.com"])
    assert host_matches("idcgames.com", ["idcgames.com"])
    assert not host_matches("apple.com.evil.test", ["*.apple.com"])
    assert not host_matches("evilapple.com", ["*.apple.com"])
    assert not host_matches("anything", [""])


@pytest.mark.parametrize("address", INTERNAL)
def test_an_internal_ip_literal_is_refused_even_on_the_allow_list(guarded, address):
    host = literal(address)
    with pytest.raises(RefusedDestination, match="internal"):
        check_url(f"https://{host}/x", hosts=[address, host])


@pytest.mark.parametrize("address", INTERNAL)
def test_a_name_resolving_to_an_internal_address_is_refused(guarded, address):
    guarded["keys.example.com"] = [address]

    with pytest.raises(RefusedDestination, match="internal address"):
        check_destination("https://keys.example.com/jwks")


def test_one_internal_address_among_public_ones_is_enough_to_refuse(guarded):
    guarded["keys.example.com"] = ["93.184.215.14", "10.1.2.3"]

    with pytest.raises(RefusedDestination, match="10.1.2.3"):
        check_destination("https://keys.example.com/jwks")


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(guarded, address):
    guarded["keys.example.com"] = [address]

    check_destination("https://keys.example.com/jwks")
    assert check_url(f"https://{literal(address)}/", hosts=[address]) == address


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"])
def test_internal_addresses_pass_when_the_deployment_allows_them(settings, resolver, address):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    resolver["fake.local"] = [address]

    assert check_destination("https://fake.local/jwks") is None  # no RefusedDestination
    assert check_url(f"https://{literal(address)}/", hosts=[address]) == address


# --- At save time ---------------------------------------------------------------------------


@pytest.fixture
def hosts(settings):
    settings.IDCGAMES_URL_HOSTS = ["idcgames.com", "*.idcgames.com"]
    settings.NINTENDO_URL_HOSTS = ["*.nintendo.com"]
    settings.PLAYSTATION_URL_HOSTS = ["*.playstation.net"]
    settings.APPLE_URL_HOSTS = ["*.apple.com"]


def clean_errors(game, platform, config) -> list[str]:
    credential = PlatformCredential(game=game, platform=platform, config=config)
    try:
        credential.full_clean()
    except ValidationError as exc:
        return exc.message_dict.get("config", [])
    return []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("platform", "config", "says"),
    [
        ("idcgames", {"verify_url": "http://www.idcgames.com/x"}, "https"),
        ("idcgames", {"profile_url": "https://evil.test/x"}, "not an allowed host"),
        ("playstation", {"token_url": "https://169.254.169.254/latest"}, "not an allowed host"),
        ("playstation", {"jwks_url": 5}, "https"),
        ("nintendo", {"jwks_url": "https://[::1]/keys"}, "not an allowed host"),
        ("apple", {"key_hosts": ["static.gc.apple.com", "metadata.google.internal"]}, "host"),
        ("apple", {"key_hosts": {"a": 1}}, "list of host names"),
        # On APPLE_URL_HOSTS (*.apple.com), but a key URL's host is compared as written.
        ("apple", {"key_hosts": ["*.gc.apple.com"]}, "not a pattern"),
    ],
)
def test_a_refused_url_is_a_clear_error_when_saved(game, guarded, hosts, platform, config, says):
    errors = clean_errors(game, platform, config)

    assert len(errors) == 1 and says in errors[0], errors
    assert next(iter(config)) in errors[0]


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"])
def test_an_allowed_name_resolving_internally_is_refused_when_saved(game, guarded, hosts, address):
    guarded["auth.np.playstation.net"] = [address]

    errors = clean_errors(game, "playstation", {"jwks_url": "https://auth.np.playstation.net/k"})

    assert errors and "internal address" in errors[0]


@pytest.mark.django_db
def test_an_internal_literal_the_deployment_lists_is_refused_unless_it_allows_private(
    game, guarded, hosts, settings
):
    settings.NINTENDO_URL_HOSTS = ["10.0.0.7"]
    config = {"jwks_url": "https://10.0.0.7/keys"}
    assert "internal" in clean_errors(game, "nintendo", config)[0]

    settings.OUTBOUND_ALLOW_PRIVATE = True
    assert clean_errors(game, "nintendo", config) == []


@pytest.mark.django_db
def test_the_platforms_real_hosts_pass_when_saved(game, guarded, hosts):
    guarded["www.idcgames.com"] = ["93.184.215.14"]
    config = {"verify_url": "https://www.idcgames.com/unilogin/getAccessData.php"}

    assert clean_errors(game, "idcgames", config) == []
    assert clean_errors(game, "apple", {"key_hosts": ["static.gc.apple.com"]}) == []
    assert clean_errors(game, "steam", {"app_id": "480"}) == []


@pytest.mark.django_db
def test_the_admin_form_refuses_a_bad_url_in_config_or_in_secrets(game, guarded, hosts):
    base = {"game": game.pk, "platform": "playstation", "enabled": "on"}
    in_config = PlatformCredentialForm(
        data={**base, "config": '{"jwks_url": "https://169.254.169.254/keys"}', "new_secrets": ""}
    )
    in_secrets = PlatformCredentialForm(
        data={**base, "config": "{}", "new_secrets": '{"token_url": "http://10.0.0.1/token"}'}
    )

    assert not in_config.is_valid() and "jwks_url" in str(in_config.errors["config"])
    assert not in_secrets.is_valid() and "token_url" in str(in_secrets.errors["new_secrets"])


# --- At request time ------------------------------------------------------------------------

NINTENDO = "https://e0d67c509fb203858ebcb2fe3f88c2aa.baas.nintendo.test"
NINTENDO_CONFIG = {
    "jwks_url": f"{NINTENDO}/1.0.0/certificates",
    "issuer": NINTENDO,
    "application_id": "0100ABCD12345000",
}


def nintendo_login(config=NINTENDO_CONFIG):
    body = claims(iss=NINTENDO, nintendo={"ai": "0100abcd12345000"})
    token = sign(body, jku=config["jwks_url"])
    return get_verifier("nintendo").verify(config, {"id_token": token})


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"])
def test_a_per_game_url_resolving_internally_at_login_is_503_an_alert_and_never_sent(
    upstream, guarded, caplog, address
):
    guarded["e0d67c509fb203858ebcb2fe3f88c2aa.baas.nintendo.test"] = [address]
    upstream.get(NINTENDO_CONFIG["jwks_url"], json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("platform_unavailable", 503):
        nintendo_login()
    assert not upstream.calls
    assert "ALERT" in caplog.text and "internal address" in caplog.text


def test_the_same_login_goes_through_when_the_name_resolves_publicly(upstream, guarded):
    guarded["e0d67c509fb203858ebcb2fe3f88c2aa.baas.nintendo.test"] = ["93.184.215.14"]
    upstream.get(NINTENDO_CONFIG["jwks_url"], json=jwks(("key-1", PLATFORM_KEY)))

    assert nintendo_login().platform_user_id == "user-1"


def test_a_per_game_url_off_the_platforms_hosts_at_login_is_refused_unsent(upstream, settings):
    settings.NINTENDO_URL_HOSTS = ["*.nintendo.com"]
    config = {**NINTENDO_CONFIG, "jwks_url": "https://attacker.test/keys"}

    with raises_problem("platform_not_configured", 400) as caught:
        nintendo_login(config)
    assert "not an allowed host" in caught.value.detail
    assert not upstream.calls


def test_a_game_center_key_host_off_apples_hosts_at_login_is_refused(upstream, settings):
    settings.APPLE_URL_HOSTS = ["*.apple.com"]
    config = {"bundle_ids": ["com.studio.game"], "key_hosts": ["keys.gc.test"]}
    credentials = {
        "public_key_url": "https://keys.gc.test/k.cer",
        "signature": "c2ln",
        "salt": "c2FsdA==",
        "timestamp": 1,
        "team_player_id": "T:_1",
        "bundle_id": "com.studio.game",
    }

    with raises_problem("platform_not_configured", 400):
        get_verifier("apple").verify(config, credentials)
    assert not upstream.calls


def test_a_plain_http_url_is_never_sent(upstream, caplog):
    upstream.get("http://platform.test/check", json={})

    with raises_problem("platform_unavailable", 503):
        call("GET", "http://platform.test/check", platform="steam", operation="check")
    assert not upstream.calls
    assert "ALERT" in caplog.text


# --- DNS rebinding: the connection checks the address it connects to ----------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A TCP listener on 127.0.0.1 recording every connection made to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.05)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(peer)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def rebinding(resolver: dict[str, list[str]], monkeypatch) -> list[str]:
    """rebind.test resolves publicly for the first lookup, to 127.0.0.1 after it."""
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["93.184.215.14"] if len(looked_up) == 1 else ["127.0.0.1"]

    monkeypatch.setattr(outbound, "resolve", resolve)
    return looked_up


def test_a_name_that_rebinds_to_loopback_after_the_check_is_not_connected_to(
    guarded, listener, monkeypatch, caplog
):
    port, accepted = listener
    looked_up = rebinding(guarded, monkeypatch)

    with raises_problem("platform_unavailable", 503):
        call("GET", f"https://rebind.test:{port}/x", platform="nintendo", operation="key set")

    assert looked_up == ["rebind.test", "rebind.test"]  # checked before, and at connect
    assert accepted == []
    assert "ALERT outbound connection to rebind.test refused" in caplog.text


def test_the_rebinding_test_would_see_a_connection_if_the_guard_let_it_through(
    settings, resolver, listener, monkeypatch
):
    """The control: with private addresses allowed the same request reaches the listener
    (and fails its TLS handshake), so an empty `accepted` above means the guard stopped it."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    port, accepted = listener
    resolver["localhost"] = ["127.0.0.1"]

    with raises_problem("platform_unavailable", 503):
        call("GET", f"https://localhost:{port}/x", platform="nintendo", operation="key set")

    assert len(accepted) == 1


@pytest.mark.django_db
def test_the_admin_page_shows_why_and_saves_nothing(admin_client, game, guarded, hosts):
    response = admin_client.post(
        "/admin/platforms/platformcredential/add/",
        {
            "game": game.pk,
            "platform": "nintendo",
            "enabled": "on",
            "config": '{"jwks_url": "https://169.254.169.254/latest/meta-data"}',
            "new_secrets": "",
        },
    )

    assert response.status_code == 200  # the form again, not a redirect
    assert "jwks_url: the host 169.254.169.254 is not an allowed host" in response.content.decode()
    assert not PlatformCredential.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        # Python's parser reads these hosts as under example.com; requests connects to evil.test.
        "https://evil.test\\.example.com/jwks",
        "https://evil.test\\\\keys.example.com/jwks",
        "https://evil.test%5c.example.com/jwks",
        "https://evil.test%2f.example.com/jwks",
        "https://keys.example.com /jwks",
    ],
)
def test_a_host_requests_would_read_otherwise_is_refused(url):
    """A per-game URL's host is checked as requests connects to it: a backslash (or an escape)
    in the host made the allow-list check pass for a URL sent to another host, with the
    platform's secret."""
    with pytest.raises(RefusedDestination, match="not a host name|not a valid URL"):
        check_url(url, hosts=["*.example.com"])


def test_hosts_of_every_shape_that_connect_as_read_pass():
    assert check_url("https://Keys.Example.com./jwks", hosts=["*.example.com"]) == (
        "keys.example.com"
    )
    assert check_url("https://a_b.example.com:8443/x", hosts=["*.example.com"]) == (
        "a_b.example.com"
    )
    assert check_url("https://[2606:4700::1111]/x", hosts=["2606:4700::1111"]) == (
        "2606:4700::1111"
    )
