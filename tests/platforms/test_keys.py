"""The shared JWT check and key-set cache every token-based verifier relies on."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.cache import cache
from jwt.algorithms import ECAlgorithm

from apps.platforms.verifiers.keys import cache_seconds, url_cache_key, verify_jwt
from tests.platforms.helpers import (
    ATTACKER_KEY,
    PLATFORM_KEY,
    TOO_DEEP_JSON,
    claims,
    expired_claims,
    hmac_token,
    jwks,
    raises_problem,
    sign,
    unsigned_token,
)

pytestmark = pytest.mark.usefixtures("upstream")

KEYS_URL = "https://keys.test/jwks"
ISSUER = "https://issuer.test"
AUDIENCE = "client-1"


def check(token):
    return verify_jwt(token, platform="test", jwks_url=KEYS_URL, issuer=ISSUER, audience=AUDIENCE)


def good_claims(**overrides):
    return claims(**{"iss": ISSUER, "aud": AUDIENCE, **overrides})


def key_fetches(upstream):
    return sum(call.request.url == KEYS_URL for call in upstream.calls)


def test_valid_token_returns_its_claims(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    assert check(sign(good_claims(sub="player-9")))["sub"] == "player-9"


def test_key_set_is_fetched_once_and_then_cached(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    check(sign(good_claims()))
    check(sign(good_claims()))

    assert key_fetches(upstream) == 1


def test_unknown_kid_in_a_set_fetched_just_now_is_401(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        check(sign(good_claims(), kid="key-2"))
    assert key_fetches(upstream) == 1


def test_unknown_kid_while_a_refetch_is_throttled_is_a_retryable_503(upstream, settings):
    settings.PLATFORM_JWKS_MIN_REFETCH_SECONDS = 60
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    check(sign(good_claims()))
    upstream.replace("GET", KEYS_URL, json=jwks(("key-2", PLATFORM_KEY)))  # rotated since

    with raises_problem("platform_unavailable", 503) as caught:
        check(sign(good_claims(), kid="key-2"))
    assert 55 <= int(caught.value.headers["Retry-After"]) <= 60
    assert key_fetches(upstream) == 1

    cache.delete(url_cache_key("jwks-fetched", KEYS_URL))  # the client retries after the window
    assert check(sign(good_claims(), kid="key-2"))["sub"] == "user-1"
    assert key_fetches(upstream) == 2


def test_unknown_kid_refetches_once_the_window_has_passed(upstream, settings):
    settings.PLATFORM_JWKS_MIN_REFETCH_SECONDS = 0  # every unknown kid may refetch
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    check(sign(good_claims()))
    upstream.replace("GET", KEYS_URL, json=jwks(("key-2", PLATFORM_KEY)))  # the platform rotated

    assert check(sign(good_claims(), kid="key-2"))["sub"] == "user-1"
    assert key_fetches(upstream) == 2


def test_a_flood_of_made_up_kids_refetches_only_once_per_window(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    check(sign(good_claims()))
    cache.delete(url_cache_key("jwks-fetched", KEYS_URL))  # the 60 s window has passed

    with raises_problem("invalid_credentials", 401):
        check(sign(good_claims(), kid="made-up-1"))
    for kid in ("made-up-2", "made-up-3"):
        with raises_problem("platform_unavailable", 503):
            check(sign(good_claims(), kid=kid))

    assert key_fetches(upstream) == 2


def test_token_signed_by_another_key_under_a_known_kid_is_401(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401) as caught:
        check(sign(good_claims(), key=ATTACKER_KEY))
    assert "signature" in caught.value.detail


@pytest.mark.parametrize(
    "forge",
    [
        lambda body: unsigned_token(body),
        lambda body: hmac_token(body, "a-secret-long-enough-for-hs256-32b"),
        lambda body: sign(body, kid=None),
        lambda body: "not.a.jwt",
        lambda body: "garbage",
        lambda body: sign(body) + "==",  # PyJWT alone would accept it, as another string
        lambda body: sign(body) + "\n",
    ],
    ids=["alg-none", "hs256", "no-kid", "bad-segments", "not-a-jwt", "padded", "newline"],
)
def test_unpinned_or_malformed_tokens_are_401_before_any_key_fetch(upstream, forge):
    with raises_problem("invalid_credentials", 401):
        check(forge(good_claims()))
    assert key_fetches(upstream) == 0


def test_expired_token_is_401(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401) as caught:
        check(sign(expired_claims(iss=ISSUER, aud=AUDIENCE)))
    assert "expired" in caught.value.detail


def test_sixty_seconds_of_clock_skew_are_tolerated(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    now = int(time.time())

    assert check(sign(good_claims(exp=now - 30)))["exp"] == now - 30
    assert check(sign(good_claims(iat=now + 30)))["iat"] == now + 30


def test_token_issued_in_the_future_is_401(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        check(sign(good_claims(iat=int(time.time()) + 600)))


@pytest.mark.parametrize(
    "overrides", [{"aud": "another-client"}, {"iss": "https://evil.test"}, {"exp": None}]
)
def test_wrong_audience_issuer_or_missing_expiry_is_401(upstream, overrides):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        check(sign(good_claims(**overrides)))


def test_key_url_in_the_token_is_never_followed(upstream):
    upstream.get(KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    upstream.get("https://evil.test/jwks", json=jwks(("key-1", ATTACKER_KEY)))
    token = sign(good_claims(), key=ATTACKER_KEY, jku="https://evil.test/jwks")

    with raises_problem("invalid_credentials", 401):
        check(token)
    assert [call.request.url for call in upstream.calls] == [KEYS_URL]


def test_keys_of_other_types_or_uses_are_skipped(upstream):
    key_set = jwks(("key-1", PLATFORM_KEY))
    key_set["keys"] = [
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        {**key_set["keys"][0], "kid": "enc", "use": "enc"},
        *key_set["keys"],
    ]
    upstream.get(KEYS_URL, json=key_set)

    with raises_problem("invalid_credentials", 401):  # not in the set fetched just now
        check(sign(good_claims(), kid="enc"))
    assert check(sign(good_claims()))["sub"] == "user-1"


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"body": requests.exceptions.ConnectionError()},
        {"status": 500, "json": {}},
        {"status": 404, "json": {}},
        {"body": "<html>", "content_type": "text/html"},
        {"json": {"keys": []}},
        {"json": ["not", "a", "key", "set"]},
        {"body": TOO_DEEP_JSON, "content_type": "application/json"},
    ],
    ids=["timeout", "connection", "5xx", "404", "html", "no-keys", "not-object", "too-deep"],
)
def test_key_set_that_cannot_be_fetched_is_503(upstream, answer):
    upstream.get(KEYS_URL, **answer)

    with raises_problem("platform_unavailable", 503):
        check(sign(good_claims()))


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 3600),
        ("public, max-age=7200", 7200),
        ("max-age=5", 60),
        ("max-age=999999", 86400),
        ("no-cache", 3600),
        ("max-age=" + "9" * 5000, 86400),  # more digits than int() reads
        ("max-age=" + "0" * 5000 + "120", 120),
    ],
)
def test_cache_time_follows_max_age_within_bounds(header, seconds):
    assert cache_seconds(header) == seconds


def test_a_key_set_whose_max_age_is_too_long_to_read_is_used_and_kept_a_day(upstream):
    upstream.get(
        KEYS_URL,
        json=jwks(("key-1", PLATFORM_KEY)),
        headers={"Cache-Control": "max-age=" + "9" * 5000},
    )

    assert check(sign(good_claims()))["sub"] == "user-1"
    assert cache.get(url_cache_key("jwks", KEYS_URL)) is not None


EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_P384_KEY = ec.generate_private_key(ec.SECP384R1())


def ec_jwk(kid, key):
    return {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig"}


def check_allowing(token, algorithms):
    return verify_jwt(
        token,
        platform="test",
        jwks_url=KEYS_URL,
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=algorithms,
    )


def test_es256_is_accepted_only_where_allowed(upstream):
    key_set = jwks(("key-1", PLATFORM_KEY))
    key_set["keys"].append(ec_jwk("ec-1", EC_KEY))
    upstream.get(KEYS_URL, json=key_set)
    token = jwt.encode(good_claims(), EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})

    assert check_allowing(token, ("RS256", "ES256"))["sub"] == "user-1"
    assert check_allowing(sign(good_claims()), ("RS256", "ES256"))["sub"] == "user-1"
    with raises_problem("invalid_credentials", 401):
        check(token)  # RS256 only, the default
    with raises_problem("invalid_credentials", 401):
        check_allowing(sign(good_claims()), ("ES256",))


@pytest.mark.parametrize(
    ("alg", "kid", "key"),
    [("ES256", "key-1", EC_KEY), ("RS256", "ec-1", PLATFORM_KEY), ("ES256", "p384", EC_KEY)],
    ids=["es256-under-an-rsa-kid", "rs256-under-an-ec-kid", "es256-under-a-p384-kid"],
)
def test_a_token_whose_algorithm_does_not_match_its_key_is_401(upstream, alg, kid, key):
    key_set = jwks(("key-1", PLATFORM_KEY))
    key_set["keys"] += [ec_jwk("ec-1", EC_KEY), ec_jwk("p384", EC_P384_KEY)]
    upstream.get(KEYS_URL, json=key_set)
    token = jwt.encode(good_claims(), key, algorithm=alg, headers={"kid": kid})

    with raises_problem("invalid_credentials", 401):
        check_allowing(token, ("RS256", "ES256"))


def test_after_a_failed_download_logins_fail_fast_until_the_backoff_ends(upstream, settings):
    settings.PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS = 5
    upstream.get(KEYS_URL, status=502)

    with raises_problem("platform_unavailable", 503):
        check(sign(good_claims()))
    for _ in range(3):  # while it is down: no download, an answer at once
        with raises_problem("platform_unavailable", 503) as caught:
            check(sign(good_claims()))
        assert 1 <= int(caught.value.headers["Retry-After"]) <= 5
    assert key_fetches(upstream) == 1

    cache.delete(url_cache_key("jwks-failed", KEYS_URL))  # the backoff has passed
    upstream.replace("GET", KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    assert check(sign(good_claims()))["sub"] == "user-1"
    assert key_fetches(upstream) == 2
