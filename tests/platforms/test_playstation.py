"""PlayStation: no public spec, so these pin our OAuth/OIDC shape against made-up Sony config."""

from __future__ import annotations

import logging

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from responses import matchers

from apps.platforms.verifiers import get_verifier
from apps.platforms.verifiers.base import VerifiedIdentity
from tests.platforms.helpers import (
    ATTACKER_KEY,
    PLATFORM_KEY,
    TOO_DEEP_JSON,
    claims,
    expired_claims,
    jwks,
    raises_problem,
    sign,
)

pytestmark = pytest.mark.usefixtures("upstream")

TOKEN_URL = "https://psn.test/oauth/token"
KEYS_URL = "https://psn.test/oauth/jwks"
ISSUER = "https://psn.test"
CONFIG = {
    "client_id": "ps-client",
    "client_secret": "ps-secret",
    "redirect_uri": "orbis://games",
    "token_url": TOKEN_URL,
    "jwks_url": KEYS_URL,
    "issuer": ISSUER,
}
TOKEN_ONLY_CONFIG = {"client_id": "ps-client", "jwks_url": KEYS_URL, "issuer": ISSUER}
OAUTH_FORM = {
    "grant_type": "authorization_code",
    "code": "ps-code",
    "redirect_uri": "orbis://games",
}


def psn_claims(**overrides):
    return claims(**{"iss": ISSUER, "aud": "ps-client", "sub": "7799112233", **overrides})


def verify(credentials, config=CONFIG):
    return get_verifier("playstation").verify(config, credentials)


def exchange(upstream, **answer):
    upstream.post(
        TOKEN_URL,
        match=[
            matchers.urlencoded_params_matcher(OAUTH_FORM),
            # Basic base64("ps-client:ps-secret")
            matchers.header_matcher({"Authorization": "Basic cHMtY2xpZW50OnBzLXNlY3JldA=="}),
        ],
        **(answer or {"json": {"id_token": sign(psn_claims()), "token_type": "bearer"}}),
    )


def test_auth_code_is_exchanged_and_its_id_token_verified(upstream):
    exchange(upstream)
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    identity = verify({"auth_code": "ps-code"})

    assert identity == VerifiedIdentity("7799112233", None, entitlement_checked=True)


def test_id_token_alone_needs_no_client_secret(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    identity = verify({"id_token": sign(psn_claims())}, TOKEN_ONLY_CONFIG)

    assert identity.platform_user_id == "7799112233"


def test_user_id_claim_is_configurable(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    token = sign(psn_claims(account={"id": 4242}))

    identity = verify({"id_token": token}, {**TOKEN_ONLY_CONFIG, "user_id_claim": "account.id"})

    assert identity.platform_user_id == "4242"


@pytest.mark.parametrize("status", [400, 401])
def test_rejected_auth_code_is_401(upstream, status):
    exchange(upstream, status=status, json={"error": "invalid_grant"})

    with raises_problem("invalid_credentials", 401):
        verify({"auth_code": "ps-code"})


def test_a_refusal_whose_body_cannot_be_parsed_is_still_401(upstream):
    exchange(upstream, status=400, body=TOO_DEEP_JSON, content_type="application/json")

    with raises_problem("invalid_credentials", 401):
        verify({"auth_code": "ps-code"})


def test_our_client_refused_is_503_and_alerts(upstream, caplog):
    exchange(upstream, status=401, json={"error": "invalid_client"})

    with caplog.at_level(logging.ERROR), raises_problem("platform_unavailable", 503):
        verify({"auth_code": "ps-code"})
    assert "ALERT" in caplog.text


def test_token_for_another_client_is_401(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify({"id_token": sign(psn_claims(aud="other-game"))}, TOKEN_ONLY_CONFIG)


def test_configured_audience_wins_over_client_id(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    config = {**TOKEN_ONLY_CONFIG, "audience": "ps-audience"}

    assert verify({"id_token": sign(psn_claims(aud="ps-audience"))}, config).platform_user_id
    with raises_problem("invalid_credentials", 401):
        verify({"id_token": sign(psn_claims())}, config)


def test_expired_token_is_401(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    body = psn_claims()
    body.update(expired_claims())

    with raises_problem("invalid_credentials", 401):
        verify({"id_token": sign(body)}, TOKEN_ONLY_CONFIG)


def test_forged_signature_is_401(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify({"id_token": sign(psn_claims(), key=ATTACKER_KEY)}, TOKEN_ONLY_CONFIG)


def test_allowed_issuer_id_passes_and_others_are_401(upstream):
    exchange(upstream)
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    config = {**CONFIG, "allowed_issuer_ids": ["256"]}

    assert verify({"auth_code": "ps-code", "issuer_id": 256}, config).platform_user_id
    with raises_problem("invalid_credentials", 401):
        verify({"auth_code": "ps-code", "issuer_id": 8}, config)
    assert len(upstream.calls) == 2  # the refused environment never reached Sony


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"status": 500, "json": {}},
        {"status": 429, "json": {}},
        {"body": "<html>", "content_type": "text/html"},
        {"json": {"access_token": "only"}},
    ],
    ids=["timeout", "5xx", "429", "html", "no-id-token"],
)
def test_unusable_token_endpoint_is_503(upstream, answer):
    exchange(upstream, **answer)

    with raises_problem("platform_unavailable", 503):
        verify({"auth_code": "ps-code"})
    assert len(upstream.calls) == 1


def test_key_set_timeout_is_503(upstream):
    upstream.get(KEYS_URL, body=requests.exceptions.ReadTimeout())

    with raises_problem("platform_unavailable", 503):
        verify({"id_token": sign(psn_claims())}, TOKEN_ONLY_CONFIG)


@pytest.mark.parametrize("missing", ["client_id", "jwks_url", "issuer"])
def test_missing_config_is_platform_not_configured(upstream, missing):
    config = {key: value for key, value in CONFIG.items() if key != missing}

    with raises_problem("platform_not_configured", 400):
        verify({"id_token": sign(psn_claims())}, config)
    assert not upstream.calls


def test_auth_code_without_token_url_or_secret_is_platform_not_configured(upstream):
    with raises_problem("platform_not_configured", 400):
        verify({"auth_code": "ps-code"}, TOKEN_ONLY_CONFIG)
    assert not upstream.calls


@pytest.mark.parametrize(
    "credentials",
    [{}, {"auth_code": ""}, {"id_token": 7}, {"auth_code": "c", "issuer_id": [1]}],
)
def test_missing_or_ill_typed_credential_is_validation_error(upstream, credentials):
    with raises_problem("validation_error", 400):
        verify(credentials)
    assert not upstream.calls


@pytest.mark.parametrize("key", ["token_url", "jwks_url"])
def test_per_game_url_must_be_https(upstream, key):
    with raises_problem("platform_not_configured", 400):
        verify({"auth_code": "ps-code"}, {**CONFIG, key: "http://10.0.0.1/internal"})
    assert not upstream.calls


@pytest.fixture
def psn_keys(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    return upstream


def test_token_from_another_issuer_is_401(psn_keys):
    with raises_problem("invalid_credentials", 401):
        verify({"id_token": sign(psn_claims(iss="https://evil.test"))}, TOKEN_ONLY_CONFIG)


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": {}},
        {"body": "<html>", "content_type": "text/html"},
        {"json": {"keys": []}},
        {"json": {"keys": [{"kty": "EC", "kid": "key-1"}]}},
    ],
    ids=["5xx", "html", "no-keys", "no-rsa-key"],
)
def test_key_set_unusable_is_503(upstream, answer):
    upstream.get(KEYS_URL, **answer)

    with raises_problem("platform_unavailable", 503):
        verify({"id_token": sign(psn_claims())}, TOKEN_ONLY_CONFIG)


@pytest.mark.parametrize(
    "body",
    [psn_claims(aud="other-game"), {**psn_claims(), **expired_claims()}],
    ids=["another-client", "expired"],
)
def test_exchanged_token_failing_a_check_is_401(psn_keys, body):
    exchange(psn_keys, json={"id_token": sign(body), "token_type": "bearer"})

    with raises_problem("invalid_credentials", 401):
        verify({"auth_code": "ps-code"})


def test_exchanged_token_signed_by_another_key_is_401(psn_keys):
    exchange(psn_keys, json={"id_token": sign(psn_claims(), key=ATTACKER_KEY)})

    with raises_problem("invalid_credentials", 401):
        verify({"auth_code": "ps-code"})


def test_a_client_token_is_accepted_once(psn_keys):
    token = sign(psn_claims())
    verify({"id_token": token}, TOKEN_ONLY_CONFIG)

    with raises_problem("invalid_credentials", 401):
        verify({"id_token": token}, TOKEN_ONLY_CONFIG)
    config = {**TOKEN_ONLY_CONFIG, "allow_token_reuse": True}
    assert verify({"id_token": token}, config).platform_user_id == "7799112233"


def test_each_code_exchange_stands_on_its_own(psn_keys):
    """Sony's code is single-use; the token it gives us is never seen by the client."""
    exchange(psn_keys)

    assert verify({"auth_code": "ps-code"}) == verify({"auth_code": "ps-code"})


def test_the_exchange_fields_are_configurable(psn_keys):
    """Sony's endpoint is under NDA: client auth, extra form fields and where the answer keeps
    the token are per-game settings."""
    psn_keys.post(
        TOKEN_URL,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    **OAUTH_FORM,
                    "scope": "psn:s2s openid",
                    "client_id": "ps-client",
                    "client_secret": "ps-secret",
                }
            )
        ],
        json={"result": {"idToken": sign(psn_claims())}},
    )
    config = {
        **CONFIG,
        "client_auth": "body",
        "token_params": {"scope": "psn:s2s openid", "grant_type": "not-overridable"},
        "id_token_field": "result.idToken",
    }

    assert verify({"auth_code": "ps-code"}, config).platform_user_id == "7799112233"
    assert "Authorization" not in psn_keys.calls[0].request.headers


@pytest.mark.parametrize(
    "bad",
    [{"client_auth": "mtls"}, {"token_params": {"scope": 5}}, {"token_params": "scope=x"}],
    ids=["client-auth", "param-not-text", "params-not-an-object"],
)
def test_ill_formed_exchange_settings_are_platform_not_configured(upstream, bad):
    with raises_problem("platform_not_configured", 400):
        verify({"auth_code": "ps-code"}, {**CONFIG, **bad})
    assert not upstream.calls


def test_es256_id_token_from_the_exchange_only_when_the_game_allows_it(upstream):
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "ec-1", "use": "sig"}
    upstream.get(KEYS_URL, json={"keys": [jwk]})
    token = jwt.encode(psn_claims(), key, algorithm="ES256", headers={"kid": "ec-1"})
    exchange(upstream, json={"id_token": token})

    identity = verify({"auth_code": "ps-code"}, {**CONFIG, "algorithms": "RS256 ES256"})

    assert identity.platform_user_id == "7799112233"
    with raises_problem("invalid_credentials", 401):
        verify({"id_token": token}, TOKEN_ONLY_CONFIG)  # RS256 only by default


def test_unsupported_algorithms_are_refused_before_the_code_is_spent(upstream):
    with raises_problem("platform_not_configured", 400):
        verify({"auth_code": "ps-code"}, {**CONFIG, "algorithms": ["RS256", "HS256"]})
    assert not upstream.calls


def test_a_new_kid_while_a_refetch_is_throttled_is_503_with_retry_after(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    verify({"id_token": sign(psn_claims())}, TOKEN_ONLY_CONFIG)
    upstream.replace("GET", KEYS_URL, json=jwks(("key-2", PLATFORM_KEY)))

    with raises_problem("platform_unavailable", 503) as caught:
        verify({"id_token": sign(psn_claims(), kid="key-2")}, TOKEN_ONLY_CONFIG)
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 60
