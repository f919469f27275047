"""Platform signing keys (JWKS) cached per URL, and the one JWT check every verifier uses."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache

from apps.platforms.errors import InvalidCredentials
from apps.platforms.verifiers.base import config_flag, first_use
from apps.platforms.verifiers.upstream import call, json_object, unavailable

ALGORITHM = "RS256"  # pinned: never "none", never HMAC (a public key must not become a secret)
LEEWAY_SECONDS = 60
DEFAULT_CACHE_SECONDS = 3600
MIN_CACHE_SECONDS = 60
MAX_CACHE_SECONDS = 86400
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
MAX_REPLAY_SECONDS = 86400  # longer than any platform ID token lives


def cache_seconds(cache_control: str | None) -> int:
    """How long to keep a key download: its max-age, kept between one minute and one day."""
    match = re.search(r"max-age\s*=\s*(\d+)", cache_control or "", flags=re.IGNORECASE)
    if match is None:
        return DEFAULT_CACHE_SECONDS
    return min(max(int(match[1]), MIN_CACHE_SECONDS), MAX_CACHE_SECONDS)


def url_cache_key(kind: str, url: str) -> str:
    return f"platforms:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def _fetch_key_set(url: str, platform: str) -> dict[str, dict[str, Any]]:
    response = call("GET", url, platform=platform, operation="key set")
    if response.status_code != 200:
        raise unavailable(platform, "key set", f"HTTP {response.status_code}")
    body = json_object(response, platform=platform, operation="key set")
    keys: dict[str, dict[str, Any]] = {}
    listed = body.get("keys")
    for jwk in listed if isinstance(listed, list) else []:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        try:
            jwt.PyJWK(jwk, algorithm=ALGORITHM)
        except jwt.PyJWTError:
            continue  # one broken key must not hide the others
        keys[jwk["kid"]] = jwk
    if not keys:
        raise unavailable(platform, "key set", "no usable RSA signing key")
    cache.set(
        url_cache_key("jwks", url), keys, cache_seconds(response.headers.get("Cache-Control"))
    )
    cache.set(url_cache_key("jwks-fetched", url), 1, settings.PLATFORM_JWKS_MIN_REFETCH_SECONDS)
    return keys


def signing_key(url: str, kid: str, platform: str) -> dict[str, Any]:
    """The JWK with this kid; an unknown kid refetches the set at most once per window."""
    keys = cache.get(url_cache_key("jwks", url))
    if keys is None:
        keys = _fetch_key_set(url, platform)
    elif kid not in keys and cache.add(
        url_cache_key("jwks-fetched", url), 1, settings.PLATFORM_JWKS_MIN_REFETCH_SECONDS
    ):
        # The platform may have rotated keys. cache.add is atomic, so across all workers only
        # one request per window goes out, and a flood of made-up kids cannot amplify traffic.
        keys = _fetch_key_set(url, platform)
    if kid not in keys:
        raise InvalidCredentials(f"The {platform} token is signed with an unknown key.")
    return keys[kid]


def verify_jwt(
    token: str,
    *,
    platform: str,
    jwks_url: str,
    issuer: str | None = None,
    audience: str | Sequence[str] | None = None,
    require: Sequence[str] = ("exp", "iat", "sub"),
    expected_jku: str | None = None,
) -> dict[str, Any]:
    """Check signature (RS256, key by kid from `jwks_url`), exp/iat with leeway, iss and aud.

    `audience=None` skips the audience check. The key URL is always ours: a `jku` header is
    never followed, and when `expected_jku` is given the header must name exactly that URL.
    """
    # Unpadded base64url only. PyJWT tolerates trailing "=" on the signature, which the
    # signature does not cover: `token + "=="` would verify as a different string, and slip
    # past a replay check keyed on the token.
    if not COMPACT_JWS.fullmatch(token):
        raise InvalidCredentials(f"The {platform} token is malformed.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidCredentials(f"The {platform} token is malformed.") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidCredentials(f"The {platform} token must be signed with {ALGORITHM}.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidCredentials(f"The {platform} token names no signing key.")
    if expected_jku is not None and header.get("jku") != expected_jku:
        raise InvalidCredentials(f"The {platform} token does not name the key set we trust.")
    key = jwt.PyJWK(signing_key(jwks_url, kid, platform), algorithm=ALGORITHM)
    options: jwt.types.Options = {"require": list(require), "verify_aud": audience is not None}
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options=options,
        )
    except jwt.ExpiredSignatureError:
        reason = "has expired"
    except jwt.ImmatureSignatureError:
        reason = "is not valid yet"
    except jwt.InvalidAudienceError:
        reason = "was issued for another app"
    except jwt.InvalidIssuerError:
        reason = "has the wrong issuer"
    except jwt.InvalidSignatureError:
        reason = "has an invalid signature"
    except jwt.MissingRequiredClaimError as exc:
        reason = f"lacks the {exc.claim} claim"
    except jwt.PyJWTError:
        reason = "is invalid"
    raise InvalidCredentials(f"The {platform} token {reason}.")


def accept_once(
    token: str, claims: dict[str, Any], *, platform: str, config: Mapping[str, Any]
) -> None:
    """A token we verify ourselves is accepted once, until it expires (PLATFORMS.md §1): a
    copied token cannot log in a second time. Called after every other check, so made-up
    tokens never reach the cache. A game whose clients log in again with the token the SDK
    cached can opt out with `allow_token_reuse`."""
    if config_flag(platform, config, "allow_token_reuse", default=False):
        return
    seconds = min(int(claims["exp"]) - time.time() + LEEWAY_SECONDS, MAX_REPLAY_SECONDS)
    if not first_use(f"{platform}-token", token, seconds=seconds):
        raise InvalidCredentials(
            f"This {platform} token was already used; ask the SDK for a fresh one."
        )
