"""Nintendo: no public spec, so these pin our JWT checks against made-up NSA-like tokens."""

from __future__ import annotations

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from apps.accounts.models import Player
from apps.platforms.models import PlatformCredential
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

ISSUER = "https://e0d67c509fb203858ebcb2fe3f88c2aa.baas.nintendo.test"
KEYS_URL = f"{ISSUER}/1.0.0/certificates"
CONFIG = {"jwks_url": KEYS_URL, "issuer": ISSUER, "application_id": "0100ABCD12345000"}


def nsa_claims(**overrides):
    body = {
        "iss": ISSUER,
        "sub": "a1b2c3d4e5f60718",
        "aud": "ed9e2f05d286f7b8",
        "nintendo": {"ai": "0100abcd12345000", "av": "0001"},
        **overrides,
    }
    return claims(**body)


def nsa_token(body, **header):
    """Signed as Nintendo's tokens are, naming their key set in `jku`."""
    return sign(body, **{"jku": KEYS_URL, **header})


def verify(token, config=CONFIG):
    return get_verifier("nintendo").verify(config, {"id_token": token})


@pytest.fixture
def nintendo_keys(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    return upstream


def test_valid_token_is_the_nsa_id(nintendo_keys):
    identity = verify(nsa_token(nsa_claims()))

    assert identity == VerifiedIdentity("a1b2c3d4e5f60718", None, entitlement_checked=True)


def test_token_for_another_application_is_401(nintendo_keys):
    with raises_problem("invalid_credentials", 401):
        verify(nsa_token(nsa_claims(nintendo={"ai": "0100ffff00000000"})))


def test_token_without_the_application_claim_is_401(nintendo_keys):
    with raises_problem("invalid_credentials", 401):
        verify(nsa_token(nsa_claims(nintendo=None)))


def test_application_id_claim_path_is_configurable(nintendo_keys):
    token = nsa_token(nsa_claims(app="0100ABCD12345000"))

    assert verify(token, {**CONFIG, "application_id_claim": "app"}).platform_user_id


def test_audience_is_checked_only_when_configured(nintendo_keys):
    def token(n):  # each login its own token: a token is accepted once
        return nsa_token(nsa_claims(jti=f"token-{n}"))

    assert verify(token(1)).platform_user_id
    assert verify(token(2), {**CONFIG, "audience": "ed9e2f05d286f7b8"}).platform_user_id
    with raises_problem("invalid_credentials", 401):
        verify(token(3), {**CONFIG, "audience": "another-audience"})


def test_a_token_is_accepted_once(nintendo_keys):
    token = nsa_token(nsa_claims())
    verify(token)

    with raises_problem("invalid_credentials", 401):
        verify(token)
    assert verify(nsa_token(nsa_claims(jti="another"))).platform_user_id


def test_a_used_token_stays_refused_to_the_end_of_its_leeway(nintendo_keys, clock):
    # PyJWT accepts a token until exp + 60 s (the leeway); its replay mark must live as long,
    # however the first use falls between two whole seconds (0.9 s past one, here).
    clock.now = int(clock.now) + 0.9
    exp = int(clock.now) + 100
    token = nsa_token(nsa_claims(exp=exp))
    verify(token)

    clock.now = exp + 59.95  # still inside the leeway: the token itself is valid
    with raises_problem("invalid_credentials", 401) as caught:
        verify(token)
    assert "already used" in caught.value.detail


def test_a_used_token_cannot_come_back_padded(nintendo_keys):
    token = nsa_token(nsa_claims())
    verify(token)

    for padded in (token + "=", token + "=="):
        with raises_problem("invalid_credentials", 401):
            verify(padded)


def test_a_game_may_accept_a_token_again(nintendo_keys):
    token = nsa_token(nsa_claims())
    config = {**CONFIG, "allow_token_reuse": True}

    assert verify(token, config) == verify(token, config)


def test_a_refused_token_is_not_remembered(nintendo_keys):
    token = nsa_token(nsa_claims())

    with raises_problem("invalid_credentials", 401):
        verify(token, {**CONFIG, "audience": "another-audience"})
    assert verify(token).platform_user_id


def test_foreign_jku_header_is_401_and_never_fetched(nintendo_keys):
    token = nsa_token(nsa_claims(), jku="https://evil.test/certificates")

    with raises_problem("invalid_credentials", 401):
        verify(token)
    assert not nintendo_keys.calls


def test_token_naming_no_key_set_is_401_and_never_fetched(nintendo_keys):
    with raises_problem("invalid_credentials", 401):
        verify(sign(nsa_claims()))
    assert not nintendo_keys.calls


def test_wrong_issuer_is_401(nintendo_keys):
    with raises_problem("invalid_credentials", 401):
        verify(nsa_token(nsa_claims(iss="https://evil.test")))


def test_expired_token_is_401(nintendo_keys):
    body = nsa_claims()
    body.update(expired_claims())

    with raises_problem("invalid_credentials", 401):
        verify(nsa_token(body))


def test_forged_signature_is_401(nintendo_keys):
    with raises_problem("invalid_credentials", 401):
        verify(nsa_token(nsa_claims(), key=ATTACKER_KEY))


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"status": 500, "json": {}},
        {"body": "<html>", "content_type": "text/html"},
    ],
    ids=["timeout", "5xx", "html"],
)
def test_key_set_unavailable_is_503(upstream, answer):
    upstream.get(KEYS_URL, **answer)

    with raises_problem("platform_unavailable", 503):
        verify(nsa_token(nsa_claims()))


@pytest.mark.parametrize("missing", ["jwks_url", "issuer", "application_id"])
def test_missing_config_is_platform_not_configured(upstream, missing):
    config = {key: value for key, value in CONFIG.items() if key != missing}

    with raises_problem("platform_not_configured", 400):
        verify(nsa_token(nsa_claims()), config)
    assert not upstream.calls


@pytest.mark.parametrize("credentials", [{}, {"id_token": None}, {"id_token": {"a": 1}}])
def test_missing_id_token_is_validation_error(upstream, credentials):
    with raises_problem("validation_error", 400):
        get_verifier("nintendo").verify(CONFIG, credentials)
    assert not upstream.calls


def test_key_url_must_be_https(upstream):
    with raises_problem("platform_not_configured", 400):
        verify(nsa_token(nsa_claims()), {**CONFIG, "jwks_url": "http://10.0.0.1/keys"})
    assert not upstream.calls


@pytest.mark.django_db
def test_a_new_kid_while_a_refetch_is_throttled_is_503_with_retry_after_and_no_player(
    nintendo_keys, game, api_client
):
    PlatformCredential.objects.create(game=game, platform="nintendo", config=CONFIG)
    verify(nsa_token(nsa_claims()))  # the key set is fetched and cached
    nintendo_keys.replace("GET", KEYS_URL, json=jwks(("key-2", PLATFORM_KEY)))  # Nintendo rotated

    response = api_client.post(
        "/api/v1/auth/third-party/login",
        {"platform": "nintendo", "credentials": {"id_token": nsa_token(nsa_claims(), kid="key-2")}},
        format="json",
        HTTP_X_GAME_KEY="alpha-client-key",
    )

    assert response.status_code == 503
    assert response.json()["code"] == "platform_unavailable"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert not Player.objects.exists()
    assert sum(call.request.url == KEYS_URL for call in nintendo_keys.calls) == 1


def es256_signed(upstream) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A P-256 key published as the key set, and an ID token it signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "ec-1", "use": "sig"}
    upstream.get(KEYS_URL, json={"keys": [jwk]})
    token = jwt.encode(
        nsa_claims(), key, algorithm="ES256", headers={"kid": "ec-1", "jku": KEYS_URL}
    )
    return key, token


def test_es256_tokens_only_when_the_game_allows_them(upstream):
    _, token = es256_signed(upstream)

    with raises_problem("invalid_credentials", 401):
        verify(token)  # RS256 only by default
    allowing = {**CONFIG, "algorithms": ["RS256", "ES256"]}
    assert verify(token, allowing).platform_user_id == "a1b2c3d4e5f60718"


def test_an_es256_token_with_its_signature_rewritten_is_still_the_used_token(upstream):
    import base64

    key, token = es256_signed(upstream)
    allowing = {**CONFIG, "algorithms": ["ES256"]}
    assert verify(token, allowing).platform_user_id

    # (r, s) and (r, n - s) are both valid ECDSA signatures of the same header and payload.
    signed, signature = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    other = base64.urlsafe_b64encode(r + (n - s).to_bytes(32, "big")).rstrip(b"=").decode()
    rewritten = f"{signed}.{other}"
    assert jwt.decode(
        rewritten,
        key.public_key(),
        algorithms=["ES256"],
        audience=None,
        options={"verify_aud": False},
    )
    with raises_problem("invalid_credentials", 401):
        verify(rewritten, allowing)


@pytest.mark.parametrize("algorithms", [["HS256"], ["none"], ["RS256", "ES512"], {"a": 1}])
def test_algorithms_other_than_rs256_or_es256_are_not_configured(upstream, algorithms):
    with raises_problem("platform_not_configured", 400):
        verify(nsa_token(nsa_claims()), {**CONFIG, "algorithms": algorithms})
    assert not upstream.calls
