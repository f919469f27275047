"""Platform signing keys (JWKS) cached per URL, and the one JWT check every verifier uses."""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache

from apps.platforms.errors import InvalidCredentials, PlatformNotConfigured, PlatformUnavailable
from apps.platforms.verifiers.base import config_flag, config_list, first_use
from apps.platforms.verifiers.upstream import call, json_object, unavailable

ALGORITHM = "RS256"  # the default pin: never "none", never HMAC (a public key is no secret)
# The asymmetric algorithms a game may allow, with the key type and curve each one needs.
KEY_TYPES = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}
LEEWAY_SECONDS = 60
DEFAULT_CACHE_SECONDS = 3600
MIN_CACHE_SECONDS = 60
MAX_CACHE_SECONDS = 86400
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
MAX_REPLAY_SECONDS = 86400  # longer than any platform ID token lives
# The config keys config_algorithms and accept_once read, which the verifiers calling them
# declare among their plain settings.
ALGORITHMS_CONFIG = ("algorithms",)
REPLAY_CONFIG = ("allow_token_reuse",)


def cache_seconds(cache_control: str | None) -> int:
    """How long to keep a key download: its max-age, kept between one minute and one day."""
    match = re.search(r"max-age\s*=\s*(\d+)", cache_control or "", flags=re.IGNORECASE)
    if match is None:
        return DEFAULT_CACHE_SECONDS
    # Any value of more digits is past the cap, and int() refuses one of over 4,300 digits
    # (a ValueError: a 500 for every login needing the download, never cached).
    digits = match[1].lstrip("0") or "0"
    if len(digits) > len(str(MAX_CACHE_SECONDS)):
        return MAX_CACHE_SECONDS
    return min(max(int(digits), MIN_CACHE_SECONDS), MAX_CACHE_SECONDS)


def url_cache_key(kind: str, url: str) -> str:
    return f"platforms:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def _fetch_key_set(url: str, platform: str) -> dict[str, dict[str, Any]]:
    """The set, downloaded now and cached; after a failed download, every login needing it
    fails fast (503 with Retry-After) for PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS: while the
    platform is down or slow, each login would otherwise wait out the full timeout, holding a
    web thread, and send it more traffic."""
    failed_at = cache.get(url_cache_key("jwks-failed", url))
    if isinstance(failed_at, int | float):
        backoff = settings.PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS
        error = unavailable(platform, "key set", "its last download failed moments ago")
        error.headers = {"Retry-After": str(max(math.ceil(failed_at + backoff - time.time()), 1))}
        raise error
    try:
        return _download_key_set(url, platform)
    except PlatformUnavailable:
        if seconds := settings.PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS:
            cache.set(url_cache_key("jwks-failed", url), time.time(), seconds)
        raise


def _download_key_set(url: str, platform: str) -> dict[str, dict[str, Any]]:
    response = call("GET", url, platform=platform, operation="key set")
    if response.status_code != 200:
        raise unavailable(platform, "key set", f"HTTP {response.status_code}")
    body = json_object(response, platform=platform, operation="key set")
    keys: dict[str, dict[str, Any]] = {}
    listed = body.get("keys")
    for jwk in listed if isinstance(listed, list) else []:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        algorithm = _algorithm_for(jwk)
        if algorithm is None or jwk.get("use", "sig") != "sig":
            continue
        try:
            jwt.PyJWK(jwk, algorithm=algorithm)
        except jwt.PyJWTError:
            continue  # one broken key must not hide the others
        keys[jwk["kid"]] = jwk
    if not keys:
        raise unavailable(platform, "key set", "no usable signing key")
    cache.set(
        url_cache_key("jwks", url), keys, cache_seconds(response.headers.get("Cache-Control"))
    )
    cache.set(
        url_cache_key("jwks-fetched", url), time.time(), settings.PLATFORM_JWKS_MIN_REFETCH_SECONDS
    )
    return keys


def _algorithm_for(jwk: Mapping[str, Any]) -> str | None:
    """The one algorithm this key may verify, from its type and curve; None for any other key."""
    return next(
        (
            algorithm
            for algorithm, (kty, curve) in KEY_TYPES.items()
            if jwk.get("kty") == kty and (curve is None or jwk.get("crv") == curve)
        ),
        None,
    )


def config_algorithms(platform: str, config: Mapping[str, Any]) -> tuple[str, ...]:
    """The game's `algorithms` (default RS256 only), each one of KEY_TYPES."""
    algorithms = tuple(item.upper() for item in config_list(platform, config, "algorithms"))
    if not set(algorithms) <= KEY_TYPES.keys():
        raise PlatformNotConfigured(
            f"{platform} config 'algorithms' may only list {', '.join(KEY_TYPES)}."
        )
    return algorithms or (ALGORITHM,)


def _refetch_throttled(url: str, platform: str) -> PlatformUnavailable:
    """A kid we do not know yet, while another request fetched the set moments ago: the
    platform may have published it since, so the client retries once the window is over."""
    window = settings.PLATFORM_JWKS_MIN_REFETCH_SECONDS
    fetched = cache.get(url_cache_key("jwks-fetched", url))
    left = fetched + window - time.time() if isinstance(fetched, int | float) else window
    error = unavailable(platform, "key set", "unknown kid while a refetch is throttled")
    error.headers = {"Retry-After": str(min(max(math.ceil(left), 1), max(window, 1)))}
    return error


def signing_key(url: str, kid: str, platform: str) -> dict[str, Any]:
    """The JWK with this kid; an unknown kid refetches the set at most once per window."""
    keys = cache.get(url_cache_key("jwks", url))
    if keys is None:
        keys = _fetch_key_set(url, platform)
    elif kid not in keys:
        # The platform may have rotated keys. cache.add is atomic, so across all workers only
        # one request per window goes out, and a flood of made-up kids cannot amplify traffic.
        if not cache.add(
            url_cache_key("jwks-fetched", url),
            time.time(),
            settings.PLATFORM_JWKS_MIN_REFETCH_SECONDS,
        ):
            raise _refetch_throttled(url, platform)
        keys = _fetch_key_set(url, platform)
    if kid not in keys:  # not in a set fetched just now: no such key
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
    algorithms: Sequence[str] = (ALGORITHM,),
) -> dict[str, Any]:
    """Check signature (one of `algorithms`, key by kid from `jwks_url`, of the type that
    algorithm needs), exp/iat with leeway, iss and aud.

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
    algorithm = header.get("alg")
    if algorithm not in algorithms or algorithm not in KEY_TYPES:
        raise InvalidCredentials(
            f"The {platform} token must be signed with {', '.join(algorithms)}."
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidCredentials(f"The {platform} token names no signing key.")
    if expected_jku is not None and header.get("jku") != expected_jku:
        raise InvalidCredentials(f"The {platform} token does not name the key set we trust.")
    jwk = signing_key(jwks_url, kid, platform)
    # The header's alg must be the one the key is for: an RSA key never checks an ES256 token.
    if _algorithm_for(jwk) != algorithm or jwk.get("alg", algorithm) != algorithm:
        raise InvalidCredentials(f"The {platform} token's algorithm does not match its key.")
    key = jwt.PyJWK(jwk, algorithm=algorithm)
    options: jwt.types.Options = {"require": list(require), "verify_aud": audience is not None}
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
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


def signed_part(token: str) -> str:
    """What a JWT's signature covers (header and payload), to remember a token by: an ECDSA
    signature can be rewritten into another valid one (s into n - s), and a base64 signature
    spelt another way, so the whole string would let one token be used once per spelling."""
    return token.rsplit(".", 1)[0]


def accept_once(
    token: str,
    claims: dict[str, Any],
    *,
    platform: str,
    config: Mapping[str, Any],
    reuse_window: float = 0,
) -> None:
    """A token we verify ourselves is accepted once, until it expires (PLATFORMS.md §1): a
    copied token cannot log in a second time. Called after every other check, so made-up
    tokens never reach the cache. Within `reuse_window` seconds of its first use it is
    accepted again for the same game and user (the client's retry). A game whose clients log
    in again with the token the SDK cached can opt out with `allow_token_reuse`."""
    if config_flag(platform, config, "allow_token_reuse", default=False):
        return
    seconds = min(int(claims["exp"]) - time.time() + LEEWAY_SECONDS, MAX_REPLAY_SECONDS)
    holder = f"{config.get('game_id', '')}:{claims.get('sub', '')}"
    if not first_use(
        f"{platform}-token",
        signed_part(token),
        seconds=seconds,
        reuse_window=reuse_window,
        holder=holder,
    ):
        raise InvalidCredentials(
            f"This {platform} token was already used; ask the SDK for a fresh one."
        )
