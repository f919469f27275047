"""Sign in with Apple identity tokens (Game Center: test_apple.py)."""

from __future__ import annotations

import hashlib

import pytest
import requests

from apps.platforms.verifiers import get_verifier
from apps.platforms.verifiers.base import VerifiedIdentity
from tests.platforms.helpers import (
    ATTACKER_KEY,
    PLATFORM_KEY,
    claims,
    expired_claims,
    jwks,
    raises_problem,
    sign,
)

pytestmark = pytest.mark.usefixtures("upstream")

APPLE = "https://appleid.test"
KEYS_URL = f"{APPLE}/auth/keys"
CONFIG = {"client_ids": ["com.studio.game", "com.studio.web"]}
NONCE = "raw-nonce-0f9a"


def hashed(nonce):
    return hashlib.sha256(nonce.encode()).hexdigest()


def apple_claims(**overrides):
    body = {
        "iss": APPLE,
        "aud": "com.studio.game",
        "sub": "001234.abcdef.1234",
        "nonce": hashed(NONCE),
        **overrides,
    }
    return claims(**body)


def verify(credentials, config=CONFIG):
    return get_verifier("apple").verify(config, credentials)


@pytest.fixture
def apple_keys(upstream):
    upstream.get(KEYS_URL, json=jwks(("apple-1", PLATFORM_KEY)))
    return upstream


def login(body=None, nonce=NONCE, **extra):
    token = sign(apple_claims() if body is None else body, kid="apple-1")
    return {"identity_token": token, "nonce": nonce, **extra}


def test_valid_token_is_the_apple_user(apple_keys):
    identity = verify(login(display_name="Tim Cook"))

    assert identity == VerifiedIdentity("001234.abcdef.1234", "Tim Cook", entitlement_checked=True)


def test_any_configured_client_id_is_accepted(apple_keys):
    assert verify(login(apple_claims(aud="com.studio.web"))).platform_user_id


def test_token_for_another_app_is_401(apple_keys):
    with raises_problem("invalid_credentials", 401):
        verify(login(apple_claims(aud="com.other.app")))


def test_token_from_another_issuer_is_401(apple_keys):
    with raises_problem("invalid_credentials", 401):
        verify(login(apple_claims(iss="https://appleid.apple.com.evil.test")))


def test_expired_token_is_401(apple_keys):
    body = apple_claims()
    body.update(expired_claims())

    with raises_problem("invalid_credentials", 401):
        verify(login(body))


def test_forged_signature_is_401(apple_keys):
    token = sign(apple_claims(), kid="apple-1", key=ATTACKER_KEY)

    with raises_problem("invalid_credentials", 401):
        verify({"identity_token": token, "nonce": NONCE})


def test_wrong_nonce_is_401(apple_keys):
    with raises_problem("invalid_credentials", 401):
        verify(login(nonce="another-nonce"))


def test_token_without_a_nonce_claim_is_401_when_the_client_sent_one(apple_keys):
    with raises_problem("invalid_credentials", 401):
        verify(login(apple_claims(nonce=None)))


@pytest.mark.parametrize(
    "claimed",
    [12345, True, ["raw-nonce-0f9a"], {"nonce": "raw-nonce-0f9a"}],
    ids=["number", "bool", "list", "object"],
)
def test_nonce_claim_that_is_not_a_string_is_401(apple_keys, claimed):
    with raises_problem("invalid_credentials", 401):
        verify(login(apple_claims(nonce=claimed)))


def test_numeric_nonce_claim_is_not_the_same_nonce_as_text_in_raw_mode(apple_keys):
    credentials = login(apple_claims(nonce=12345), nonce="12345")

    with raises_problem("invalid_credentials", 401):
        verify(credentials, {**CONFIG, "nonce_hashed": False})


def test_the_hash_from_the_token_is_not_accepted_as_the_nonce(apple_keys):
    # Whoever copied the token knows the hash; only the app knows the raw nonce.
    with raises_problem("invalid_credentials", 401):
        verify(login(nonce=hashed(NONCE)))


def test_raw_nonce_mode_compares_the_nonce_itself(apple_keys):
    credentials = login(apple_claims(nonce=NONCE))

    assert verify(credentials, {**CONFIG, "nonce_hashed": False}).platform_user_id


def test_replayed_token_is_401(apple_keys):
    credentials = login()
    verify(credentials)

    with raises_problem("invalid_credentials", 401) as caught:
        verify(credentials)
    assert "already used" in caught.value.detail


def test_a_used_token_stays_refused_to_the_end_of_its_leeway(apple_keys, clock):
    # The token (and its nonce) is accepted until exp + 60 s: remembered at least as long,
    # however the first use falls between two whole seconds (0.9 s past one, here).
    clock.now = int(clock.now) + 0.9
    exp = int(clock.now) + 100
    credentials = login(apple_claims(exp=exp))
    verify(credentials)

    clock.now = exp + 59.95  # still inside the leeway: the token itself is valid
    with raises_problem("invalid_credentials", 401) as caught:
        verify(credentials)
    assert "already used" in caught.value.detail


def test_second_token_with_a_used_nonce_is_401(apple_keys):
    verify(login())

    with raises_problem("invalid_credentials", 401):
        verify(login(apple_claims(sub="001234.abcdef.1234", iat=claims()["iat"] - 1)))


def test_without_required_nonce_the_token_itself_is_single_use(apple_keys):
    config = {**CONFIG, "require_nonce": False}
    credentials = {"identity_token": sign(apple_claims(nonce=None), kid="apple-1")}

    assert verify(credentials, config).platform_user_id
    with raises_problem("invalid_credentials", 401):
        verify(credentials, config)


def test_with_the_nonce_optional_a_token_used_with_it_cannot_come_back_without_it(apple_keys):
    config = {**CONFIG, "require_nonce": False}
    credentials = login()
    assert verify(credentials, config).platform_user_id

    with raises_problem("invalid_credentials", 401):
        verify({"identity_token": credentials["identity_token"]}, config)


def test_with_the_nonce_optional_a_token_used_without_it_cannot_come_back_with_it(apple_keys):
    config = {**CONFIG, "require_nonce": False}
    credentials = login()
    assert verify({"identity_token": credentials["identity_token"]}, config).platform_user_id

    with raises_problem("invalid_credentials", 401):
        verify(credentials, config)


def test_nonce_is_required_by_default(upstream):
    with raises_problem("validation_error", 400):
        verify({"identity_token": sign(apple_claims(), kid="apple-1")})
    assert not upstream.calls


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"status": 502, "json": {}},
        {"body": "<html>", "content_type": "text/html"},
    ],
    ids=["timeout", "5xx", "html"],
)
def test_apple_keys_unavailable_is_503(upstream, answer):
    upstream.get(KEYS_URL, **answer)

    with raises_problem("platform_unavailable", 503):
        verify(login())


def test_missing_client_ids_is_platform_not_configured(upstream):
    with raises_problem("platform_not_configured", 400):
        verify(login(), {"require_nonce": True})
    assert not upstream.calls


@pytest.mark.parametrize("credentials", [{"identity_token": ""}, {"identity_token": 42}])
def test_missing_identity_token_is_validation_error(upstream, credentials):
    with raises_problem("validation_error", 400):
        verify({**credentials, "nonce": NONCE})
