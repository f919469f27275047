"""Apple Game Center identity signatures (Sign in with Apple: test_apple_sign_in.py)."""

from __future__ import annotations

import base64
import struct
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from apps.accounts.models import Player
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import apple, get_verifier
from apps.platforms.verifiers.base import VerifiedIdentity
from tests.platforms.helpers import (
    ATTACKER_KEY,
    PLATFORM_KEY,
    der,
    make_ca,
    make_intermediate,
    make_leaf,
    pem,
    raises_problem,
)

pytestmark = pytest.mark.usefixtures("upstream")

CA = make_ca()
ROGUE_CA = make_ca("Rogue CA")
KEY_URL = "https://static.gc.test/public-key/gc-prod-10.cer"
BUNDLE = "com.studio.game"
CONFIG = {"bundle_ids": [BUNDLE, "com.studio.lite"], "trust_anchor": pem(CA[0])}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def signed_in(
    *, key=PLATFORM_KEY, player="T:_team1", bundle=BUNDLE, timestamp=None, salt=b"salt-1", **extra
):
    """What GameKit hands the game: a signature over player ‖ bundle ‖ timestamp ‖ salt."""
    timestamp = int(time.time() * 1000) if timestamp is None else timestamp
    message = player.encode() + bundle.encode() + struct.pack(">Q", timestamp) + salt
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "public_key_url": KEY_URL,
        "signature": b64(signature),
        "salt": b64(salt),
        "timestamp": timestamp,
        "team_player_id": player,
        "bundle_id": bundle,
        **extra,
    }


def serve_certificate(upstream, certificate=None):
    certificate = certificate or make_leaf(CA, PLATFORM_KEY)
    upstream.get(KEY_URL, body=der(certificate), content_type="application/x-x509-ca-cert")


def verify(credentials, config=CONFIG):
    return get_verifier("apple").verify(config, credentials)


def test_valid_signature_is_the_team_player_id(upstream):
    serve_certificate(upstream)

    identity = verify(signed_in(display_name="  Tim  "))

    assert identity == VerifiedIdentity("T:_team1", "Tim", entitlement_checked=True)


def test_arcade_game_player_id_is_accepted(upstream):
    serve_certificate(upstream)
    credentials = signed_in(player="A:_arcade1")
    credentials["game_player_id"] = credentials.pop("team_player_id")

    assert verify(credentials).platform_user_id == "A:_arcade1"


def test_timestamp_may_come_as_text(upstream):
    serve_certificate(upstream)
    credentials = signed_in()

    assert verify({**credentials, "timestamp": str(credentials["timestamp"])}).entitlement_checked


def test_certificate_is_fetched_once_and_cached(upstream):
    serve_certificate(upstream)

    verify(signed_in(salt=b"first"))
    verify(signed_in(salt=b"second"))

    assert len(upstream.calls) == 1


def test_forged_signature_is_401(upstream):
    serve_certificate(upstream)

    with raises_problem("invalid_credentials", 401):
        verify(signed_in(key=ATTACKER_KEY))


def test_signature_of_another_player_is_401(upstream):
    serve_certificate(upstream)

    with raises_problem("invalid_credentials", 401):
        verify({**signed_in(), "team_player_id": "T:_victim"})


def test_signature_for_another_app_is_401_before_any_fetch(upstream):
    with raises_problem("invalid_credentials", 401):
        verify(signed_in(bundle="com.other.game"))
    assert not upstream.calls


def test_signature_made_for_one_configured_bundle_is_401_for_the_other(upstream):
    serve_certificate(upstream)

    with raises_problem("invalid_credentials", 401):
        verify({**signed_in(bundle=BUNDLE), "bundle_id": "com.studio.lite"})


@pytest.mark.parametrize("age_seconds", [301, 3600, -120])
def test_stale_or_future_timestamp_is_401(upstream, age_seconds):
    timestamp = int((time.time() - age_seconds) * 1000)

    with raises_problem("invalid_credentials", 401) as caught:
        verify(signed_in(timestamp=timestamp))
    assert "expired" in caught.value.detail
    assert not upstream.calls


@pytest.mark.parametrize("max_age", [-300, 0, 86401, 10**17, "300s"])
def test_a_max_age_outside_a_second_to_a_day_is_platform_not_configured(upstream, max_age):
    """Below a second every signature would be refused as expired (the player told to fetch
    another, in vain); past a day, longer than a used signature is remembered."""
    with raises_problem("platform_not_configured", 400) as caught:
        verify(signed_in(), {**CONFIG, "max_age_seconds": max_age})
    assert "max_age_seconds" in caught.value.detail
    assert not upstream.calls


def test_a_max_age_of_a_day_admits_a_signature_made_an_hour_ago(upstream):
    serve_certificate(upstream)
    an_hour_ago = int((time.time() - 3600) * 1000)

    identity = verify(signed_in(timestamp=an_hour_ago), {**CONFIG, "max_age_seconds": 86400})

    assert identity.platform_user_id == "T:_team1"


def test_replayed_signature_is_401(upstream):
    serve_certificate(upstream)
    credentials = signed_in()
    verify(credentials)

    with raises_problem("invalid_credentials", 401) as caught:
        verify(credentials)
    assert "already used" in caught.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "http://static.gc.test/public-key/gc-prod-10.cer",
        "https://evil.test/public-key/gc-prod-10.cer",
        "https://static.gc.test.evil.test/gc-prod-10.cer",
        "https://static.gc.test@evil.test/gc-prod-10.cer",
        "https://static.gc.test:8443/public-key/gc-prod-10.cer",
        "https://static.gc.test/public-key/gc-prod-10.pem",
        "https://static.gc.test/public-key/gc-prod-10.cer?x=1",
        "https://static.gc.test/../admin\\x.cer",
        "file:///etc/passwd.cer",
    ],
)
def test_key_url_off_the_allow_list_is_401_and_never_fetched(upstream, url):
    with raises_problem("invalid_credentials", 401):
        verify(signed_in(public_key_url=url))
    assert not upstream.calls


def test_key_hosts_can_be_configured_per_game(upstream):
    url = "https://keys.gc.test/k.cer"
    upstream.get(url, body=der(make_leaf(CA, PLATFORM_KEY)))

    identity = verify(signed_in(public_key_url=url), {**CONFIG, "key_hosts": ["keys.gc.test"]})

    assert identity.platform_user_id == "T:_team1"


def test_certificate_from_an_untrusted_ca_is_503_and_an_alert(upstream, caplog):
    """Apple's own host served it: not a player's forgery but a wrong anchor (or Apple's new
    CA), which would refuse every player; the operator must hear of it."""
    serve_certificate(upstream, make_leaf(ROGUE_CA, PLATFORM_KEY))

    with raises_problem("platform_unavailable", 503):
        verify(signed_in())
    assert "ALERT" in caplog.text and "Rogue CA" in caplog.text


def test_certificate_not_issued_to_apple_is_401(upstream):
    serve_certificate(upstream, make_leaf(CA, PLATFORM_KEY, organization="Evil Corp"))

    with raises_problem("invalid_credentials", 401):
        verify(signed_in())


def test_expired_certificate_is_401(upstream):
    now = datetime.now(UTC)
    expired = make_leaf(
        CA, PLATFORM_KEY, not_before=now - timedelta(days=60), not_after=now - timedelta(days=1)
    )
    serve_certificate(upstream, expired)

    with raises_problem("invalid_credentials", 401):
        verify(signed_in())


def test_several_trust_anchors_may_be_configured(upstream):
    serve_certificate(upstream, make_leaf(ROGUE_CA, PLATFORM_KEY))
    config = {**CONFIG, "trust_anchor": pem(CA[0]) + pem(ROGUE_CA[0])}

    assert verify(signed_in(), config).platform_user_id == "T:_team1"


ROOT = make_ca("Test Root CA")
INTERMEDIATE = make_intermediate(ROOT)


def test_certificate_chaining_to_the_anchor_through_an_intermediate_is_accepted(upstream):
    serve_certificate(upstream, make_leaf(INTERMEDIATE, PLATFORM_KEY))
    config = {**CONFIG, "trust_anchor": pem(ROOT[0]), "intermediates": pem(INTERMEDIATE[0])}

    assert verify(signed_in(), config).platform_user_id == "T:_team1"


def test_certificate_of_an_intermediate_neither_configured_nor_linked_is_503(upstream, caplog):
    serve_certificate(upstream, make_leaf(INTERMEDIATE, PLATFORM_KEY))

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), {**CONFIG, "trust_anchor": pem(ROOT[0])})
    assert "ALERT" in caplog.text


def test_intermediate_that_is_not_a_ca_is_503(upstream, caplog):
    not_a_ca = make_intermediate(ROOT, "Not a CA", ca=False)
    serve_certificate(upstream, make_leaf(not_a_ca, PLATFORM_KEY))
    config = {**CONFIG, "trust_anchor": pem(ROOT[0]), "intermediates": pem(not_a_ca[0])}

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), config)
    assert "ALERT" in caplog.text


def test_intermediate_of_another_root_is_503(upstream, caplog):
    serve_certificate(upstream, make_leaf(INTERMEDIATE, PLATFORM_KEY))
    config = {**CONFIG, "trust_anchor": pem(ROGUE_CA[0]), "intermediates": pem(INTERMEDIATE[0])}

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), config)
    assert "ALERT" in caplog.text


def test_malformed_intermediates_are_platform_not_configured(upstream):
    with raises_problem("platform_not_configured", 400):
        verify(signed_in(), {**CONFIG, "intermediates": "not a certificate"})


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"body": requests.exceptions.SSLError()},
        {"status": 500, "body": ""},
        {"status": 404, "body": ""},
        {"body": b"<html>not a certificate</html>"},
        {"body": b"x" * 20_000},
    ],
    ids=["timeout", "tls", "5xx", "404", "not-der", "too-big"],
)
def test_certificate_that_cannot_be_fetched_is_503(upstream, answer):
    upstream.get(KEY_URL, **answer)

    with raises_problem("platform_unavailable", 503):
        verify(signed_in())


@pytest.mark.parametrize(
    "config",
    [
        {"trust_anchor": pem(CA[0])},
        {"bundle_ids": [BUNDLE], "trust_anchor": "not a certificate"},
    ],
    ids=["no-bundle-ids", "bad-trust-anchor"],
)
def test_missing_config_is_platform_not_configured(upstream, config):
    with raises_problem("platform_not_configured", 400):
        verify(signed_in(), config)
    assert not upstream.calls


@pytest.mark.parametrize(
    "key", ["public_key_url", "signature", "salt", "timestamp", "team_player_id", "bundle_id"]
)
def test_missing_game_center_field_is_validation_error(upstream, key):
    credentials = {name: value for name, value in signed_in().items() if name != key}

    with raises_problem("validation_error", 400):
        verify(credentials)
    assert not upstream.calls


@pytest.mark.parametrize(
    "bad",
    [
        {"signature": "%%% not base64 %%%"},
        {"salt": 12},
        {"timestamp": "yesterday"},
        {"timestamp": -5},
        {"timestamp": True},
        {"timestamp": "²"},  # a digit to str.isdigit, not to int()
        {"timestamp": "１２３"},  # fullwidth digits
        {"timestamp": "1" * 30},
    ],
)
def test_ill_typed_game_center_field_is_validation_error(upstream, bad):
    with raises_problem("validation_error", 400):
        verify({**signed_in(), **bad})


def test_credentials_of_neither_apple_flow_are_validation_error(upstream):
    with raises_problem("validation_error", 400):
        verify({"user": "tim"})


# --- The default anchor and the issuing CA fetched from the key certificate's AIA link ------

CA_ISSUER_URL = "http://cacerts.ca.test/TestCodeSigningCA1.crt"  # DigiCert's links are http
CA_ISSUER_FETCHED = "https://cacerts.ca.test/TestCodeSigningCA1.crt"  # always fetched over https
ROOT_ONLY = {**CONFIG, "trust_anchor": pem(ROOT[0])}
ROOT_G4_SHA256 = "552f7bdcf1a7af9e6ce672017f4f12abf77240c78e761ac203d1d9d20ac89988"


def serve_linked_chain(upstream, *, issuer=INTERMEDIATE, ca_issuers=(CA_ISSUER_URL,), **served):
    """Apple's key certificate naming its issuer by AIA, and the issuer served there."""
    serve_certificate(upstream, make_leaf(issuer, PLATFORM_KEY, ca_issuers=ca_issuers))
    upstream.get(
        CA_ISSUER_FETCHED,
        **(served or {"body": der(issuer[0]), "content_type": "application/pkix-cert"}),
    )


def fetched(upstream, url):
    return sum(call.request.url == url for call in upstream.calls)


def test_the_issuing_ca_is_fetched_from_the_aia_link_over_https_and_cached(upstream):
    serve_linked_chain(upstream)

    assert verify(signed_in(salt=b"first"), ROOT_ONLY).platform_user_id == "T:_team1"
    assert verify(signed_in(salt=b"second"), ROOT_ONLY).platform_user_id == "T:_team1"

    assert fetched(upstream, CA_ISSUER_FETCHED) == 1
    assert all(call.request.url.startswith("https://") for call in upstream.calls)


def test_the_issuing_ca_may_be_served_as_pem(upstream):
    serve_linked_chain(upstream, body=pem(INTERMEDIATE[0]))

    assert verify(signed_in(), ROOT_ONLY).platform_user_id == "T:_team1"


def test_a_configured_intermediate_needs_no_fetch(upstream):
    serve_linked_chain(upstream)

    verify(signed_in(), {**ROOT_ONLY, "intermediates": pem(INTERMEDIATE[0])})

    assert fetched(upstream, CA_ISSUER_FETCHED) == 0


def test_a_forged_signature_with_a_good_chain_is_still_401(upstream):
    serve_linked_chain(upstream)

    with raises_problem("invalid_credentials", 401):
        verify(signed_in(key=ATTACKER_KEY), ROOT_ONLY)


@pytest.mark.parametrize(
    "link",
    [
        "http://cacerts.evil.test/TestCodeSigningCA1.crt",
        "http://cacerts.ca.test.evil.test/TestCodeSigningCA1.crt",
        "http://cacerts.ca.test@evil.test/TestCodeSigningCA1.crt",
        "http://cacerts.ca.test:8080/TestCodeSigningCA1.crt",
        "http://cacerts.ca.test/TestCodeSigningCA1.crt?x=1",
        "ftp://cacerts.ca.test/TestCodeSigningCA1.crt",
        "http://169.254.169.254/latest/meta-data.crt",
    ],
)
def test_an_aia_link_off_the_ca_hosts_is_503_an_alert_and_never_fetched(upstream, caplog, link):
    serve_linked_chain(upstream, ca_issuers=(link,))

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), ROOT_ONLY)
    assert "ALERT" in caplog.text
    assert [call.request.url for call in upstream.calls] == [KEY_URL]


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ConnectTimeout()},
        {"status": 404, "body": ""},
        {"status": 500, "body": ""},
        {"body": b"<html>moved</html>"},
        {"body": b"x" * 20_000},
    ],
    ids=["timeout", "404", "5xx", "not-a-certificate", "too-big"],
)
def test_an_issuing_ca_that_cannot_be_fetched_is_503_and_an_alert(upstream, caplog, answer):
    serve_linked_chain(upstream, **answer)

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), ROOT_ONLY)
    assert "ALERT" in caplog.text


def test_a_linked_ca_that_did_not_sign_the_key_certificate_is_503(upstream, caplog):
    other = make_intermediate(ROOT, "Another Code Signing CA")
    serve_certificate(upstream, make_leaf(INTERMEDIATE, PLATFORM_KEY, ca_issuers=(CA_ISSUER_URL,)))
    upstream.get(CA_ISSUER_FETCHED, body=der(other[0]))

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), ROOT_ONLY)
    assert "ALERT" in caplog.text


def test_a_linked_ca_under_another_root_is_503(upstream, caplog):
    serve_linked_chain(upstream)

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), {**CONFIG, "trust_anchor": pem(ROGUE_CA[0])})
    assert "ALERT" in caplog.text


def test_a_linked_ca_that_is_not_a_ca_is_503(upstream):
    not_a_ca = make_intermediate(ROOT, "Not a CA", ca=False)
    serve_linked_chain(upstream, issuer=not_a_ca)

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), ROOT_ONLY)


def test_without_a_trust_anchor_the_shipped_digicert_root_is_the_anchor(upstream, caplog):
    """Our test chain is not DigiCert's: with the default anchor it does not chain (503)."""
    serve_linked_chain(upstream)

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), {"bundle_ids": [BUNDLE]})
    assert "ALERT" in caplog.text and "Test Root CA" in caplog.text


def test_the_shipped_anchor_is_digicert_trusted_root_g4_with_the_documented_fingerprint(settings):
    anchors = apple._default_anchors(settings.APPLE_GAME_CENTER_TRUST_ANCHORS_FILE)

    assert [anchor.subject.rfc4514_string() for anchor in anchors] == [
        "CN=DigiCert Trusted Root G4,OU=www.digicert.com,O=DigiCert Inc,C=US"
    ]
    assert anchors[0].fingerprint(hashes.SHA256()).hex() == ROOT_G4_SHA256
    documented = ROOT_G4_SHA256.upper()
    text = Path(settings.APPLE_GAME_CENTER_TRUST_ANCHORS_FILE).read_text()
    docs = (Path(settings.BASE_DIR) / "docs" / "platforms.md").read_text()
    for place in (text, docs):
        assert ":".join(documented[i : i + 2] for i in range(0, 64, 2)) in place


def test_an_unreadable_anchor_file_is_503_and_an_alert(upstream, settings, caplog, tmp_path):
    serve_linked_chain(upstream)
    settings.APPLE_GAME_CENTER_TRUST_ANCHORS_FILE = str(tmp_path / "missing.pem")

    with raises_problem("platform_unavailable", 503):
        verify(signed_in(), {"bundle_ids": [BUNDLE]})
    assert "ALERT" in caplog.text


@pytest.mark.django_db
def test_a_chain_failure_answers_the_client_503_platform_unavailable(upstream, game, api_client):
    PlatformCredential.objects.create(game=game, platform="apple", config=ROOT_ONLY)
    serve_certificate(upstream, make_leaf(ROGUE_CA, PLATFORM_KEY))

    response = api_client.post(
        "/api/v1/auth/third-party/login",
        {"platform": "apple", "credentials": signed_in()},
        format="json",
        HTTP_X_GAME_KEY="alpha-client-key",
    )

    assert response.status_code == 503
    assert response.json()["code"] == "platform_unavailable"
    assert not Player.objects.exists()
