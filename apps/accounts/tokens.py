"""Access tokens: a JWT signed by djangorestframework-simplejwt, inside a compact JWE (`dir`,
`A256GCM`, joserfc) so clients can neither read nor alter it. The JWE header names its key
(`kid`); the first of TOKEN_ENCRYPTION_KEYS encrypts, all of them decrypt, so a rotated-out key
keeps its tokens valid until they expire."""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from joserfc import errors as jose_errors
from joserfc import jwe, jwt
from joserfc.jwk import OctKey
from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import (
    ExpiredTokenError,
    TokenBackendError,
    TokenBackendExpiredToken,
)
from rest_framework_simplejwt.exceptions import TokenError as JwtError
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from apps.accounts.errors import (
    AccountDeleted,
    InvalidToken,
    PlayerBanned,
    TokenError,
    TokenExpired,
    TokenRevoked,
)
from apps.accounts.models import AuthSession
from apps.accounts.revocation import UNKNOWN_SESSION, revocation_reason
from apps.accounts.selectors import token_player_exists
from gamingpanel.metrics import TOKEN_VALIDATIONS

PLAYER = "player"  # the permission every player endpoint requires (IsPlayer)
PLAYER_PERMISSIONS = (PLAYER,)
ENCRYPTION = {"alg": "dir", "enc": "A256GCM"}
# Only our own algorithms: a token naming any other `alg`/`enc` is refused before decryption.
JWE_REGISTRY = jwe.JWERegistry(algorithms=list(ENCRYPTION.values()))
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says; `request.auth` on every player endpoint."""

    player_id: int
    game_id: int
    session_id: int
    permissions: tuple[str, ...]
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, eq=False)  # hashed by identity: one ring per TOKEN_ENCRYPTION_KEYS
class KeyRing:
    current_kid: str
    keys: dict[str, OctKey]


class PanelAccessToken(AccessToken):
    """simplejwt's access token, its backend following SIMPLE_JWT as it is now (simplejwt's own
    module-level backend is built once, at import)."""

    def get_token_backend(self) -> TokenBackend:
        return signing_backend()


def signing_backend() -> TokenBackend:
    """The backend of SIMPLE_JWT and TOKEN_SIGNING_KEY_FALLBACKS as they are now: one object per
    configuration."""
    jwt_settings = simplejwt_settings.api_settings  # rebound when SIMPLE_JWT changes
    return _signing_backend(
        jwt_settings.ALGORITHM,
        jwt_settings.SIGNING_KEY,
        tuple(settings.TOKEN_SIGNING_KEY_FALLBACKS),
        settings.TOKEN_CLOCK_LEEWAY_SECONDS,
    )


HMAC = frozenset({"HS256", "HS384", "HS512"})
UNSUPPORTED_HEADERS = frozenset({"crit", "b64"})


@functools.lru_cache(maxsize=4)
def _signing_backend(
    algorithm: str, signing_key: str, fallback_keys: tuple[str, ...] = (), clock_leeway: int = 0
) -> TokenBackend:
    return JoseCheckingBackend(algorithm, signing_key, fallback_keys, clock_leeway)


class JoseCheckingBackend(TokenBackend):
    """simplejwt's backend, signing with PyJWT as ever, but checking a token with joserfc, the
    library of the envelope: the HMAC, then its claims registry (nbf and iat against the clock
    with `clock_leeway` seconds, exp with none: simplejwt's own check after it has no leeway; a
    string sub and jti; simplejwt sets no aud or iss). PyJWT's check
    tests every character of the token in Python and costs twice as much, and every token
    validation pays it. Fallback keys (TOKEN_SIGNING_KEY_FALLBACKS) verify the tokens they
    signed before a rotation."""

    def __init__(
        self,
        algorithm: str,
        signing_key: str,
        fallback_keys: tuple[str, ...] = (),
        clock_leeway: int = 0,
    ) -> None:
        if algorithm not in HMAC:
            raise ImproperlyConfigured("Access tokens are signed with HS256, HS384 or HS512.")
        super().__init__(algorithm, signing_key)
        # The current key first: a rotated-out key is tried only for its own older tokens.
        self.jose_keys = [OctKey.import_key(key.encode()) for key in (signing_key, *fallback_keys)]
        # A token issued by a web host whose clock runs a little ahead of this one's names an
        # iat (and nbf) a moment in the future: refusing it would fail a client's first request
        # after its login. Expiry stays exact (simplejwt's check_exp, leeway 0, runs after).
        self.clock_leeway = clock_leeway

    def decode(self, token: Any, verify: bool = True) -> dict[str, Any]:
        if not verify:
            return super().decode(token, verify=False)
        for key in self.jose_keys:
            try:
                found = jwt.decode(token, key, algorithms=[self.algorithm])
                break
            except jose_errors.BadSignatureError:
                continue  # perhaps signed with a fallback key
            except (jose_errors.JoseError, ValueError, TypeError) as refused:
                raise TokenBackendError("Token is invalid") from refused
        else:
            raise TokenBackendError("Token is invalid")
        # joserfc honours RFC 7797 (`b64: false`, an unencoded payload) and an empty `crit`;
        # simplejwt never writes either, so a token carrying one is not ours.
        if not UNSUPPORTED_HEADERS.isdisjoint(found.header):
            raise TokenBackendError("Token is invalid")
        try:
            SkewTolerantClaims(leeway=self.clock_leeway).validate(found.claims)
        except jose_errors.ExpiredTokenError as expired:
            raise TokenBackendExpiredToken("Token is expired") from expired
        except jose_errors.JoseError as refused:
            raise TokenBackendError("Token is invalid") from refused
        return found.claims


class SkewTolerantClaims(jwt.JWTClaimsRegistry):
    """joserfc's registry, its leeway for iat and nbf only: expiry is checked exactly."""

    def validate_exp(self, value: object) -> None:
        jwt.JWTClaimsRegistry(now=self.now).validate_exp(value)


def key_ring() -> KeyRing:
    return _parse_key_ring(tuple(settings.TOKEN_ENCRYPTION_KEYS))


@functools.lru_cache(maxsize=4)
def _parse_key_ring(entries: tuple[str, ...]) -> KeyRing:
    keys: dict[str, OctKey] = {}
    for entry in entries:
        kid, _, encoded = entry.strip().partition(":")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if not kid or len(raw) != 32 or kid in keys:
            raise ImproperlyConfigured(
                "TOKEN_ENCRYPTION_KEYS entries must be distinct 'kid:base64url(32 bytes)'."
            )
        keys[kid] = OctKey.import_key(raw)
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is empty.")
    return KeyRing(current_kid=next(iter(keys)), keys=keys)


def issue_access_token(
    *,
    player_id: int,
    game_id: int,
    session_id: int,
    permissions: tuple[str, ...] = PLAYER_PERMISSIONS,
    now: datetime | None = None,
) -> IssuedAccessToken:
    issued_at = now or timezone.now()
    jwt = PanelAccessToken()
    jwt.set_iat(at_time=issued_at)
    jwt.set_exp(from_time=issued_at, lifetime=settings.ACCESS_TOKEN_LIFETIME)
    jwt["sub"] = str(player_id)
    jwt["gid"] = game_id
    jwt["sid"] = session_id
    jwt["perms"] = list(permissions)
    ring = key_ring()
    token = jwe.encrypt_compact(
        {**ENCRYPTION, "kid": ring.current_kid},
        str(jwt),
        ring.keys[ring.current_kid],
        registry=JWE_REGISTRY,
    )
    return IssuedAccessToken(token=token, expires_at=datetime.fromtimestamp(jwt["exp"], tz=UTC))


def decode_access_token(raw_token: str) -> AccessClaims:
    """Decrypt, verify signature and expiry. Says nothing yet about revocation."""
    if not isinstance(raw_token, str) or not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("The token is malformed.")
    try:
        claims = _verified_token(raw_token, key_ring(), signing_backend())
    except ExpiredTokenError:
        raise TokenExpired("The access token has expired; refresh it.") from None
    except (jose_errors.JoseError, JwtError, KeyError, ValueError, TypeError, UnicodeDecodeError):
        # Wrong key, tampered, truncated, not ours, or missing a claim: all the same to a client.
        raise InvalidToken("The access token is not valid.") from None
    if claims.expires_at <= aware_utcnow():  # simplejwt's rule; a kept token expires all the same
        raise TokenExpired("The access token has expired; refresh it.")
    return claims


# A client sends the same access token with every request of its two hours, and verifying it
# (decrypt, HMAC, claims) cost a quarter of a player request. So each process keeps the tokens
# it verified, by the key ring and signing keys that verified them (retiring a key retires its
# tokens at once). Only the verification is kept: expiry is checked on every use, and revocation
# and the player by the callers, never from here. A refused token is never kept.
@functools.lru_cache(maxsize=settings.VERIFIED_TOKENS_PER_PROCESS)
def _verified_token(raw_token: str, ring: KeyRing, backend: TokenBackend) -> AccessClaims:
    encrypted = jwe.decrypt_compact(
        raw_token, lambda obj: ring.keys[obj.headers()["kid"]], registry=JWE_REGISTRY
    )
    assert encrypted.plaintext is not None  # a decrypted message has its plaintext
    # simplejwt annotates its argument as a Token; what it takes is the encoded str.
    inner = PanelAccessToken(encrypted.plaintext.decode())  # type: ignore[arg-type]
    payload = inner.payload
    return AccessClaims(
        player_id=int(payload["sub"]),
        game_id=int(payload["gid"]),
        session_id=int(payload["sid"]),
        permissions=tuple(payload["perms"]),
        jti=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(payload["exp"], tz=UTC),
    )


def ensure_not_revoked(claims: AccessClaims) -> None:
    reason = revocation_reason(claims.session_id)
    if reason == UNKNOWN_SESSION:
        # Deleted with its player: the answer the pipeline gives when the player is not found.
        raise InvalidToken("Unknown session; log in again.")
    if reason == AuthSession.RevokeReason.PLAYER_BANNED:
        raise PlayerBanned("This player is banned.")
    if reason == AuthSession.RevokeReason.PLAYER_ERASED:
        raise AccountDeleted()
    if reason is not None:
        raise TokenRevoked("This session has ended; log in again.")


@dataclass(frozen=True)
class TokenCheck:
    """The answer of auth/validate (and multiplayer/validate-token) for one token."""

    valid: bool
    claims: AccessClaims | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        if self.claims is None:
            return {"valid": False, "reason": self.reason}
        return {
            "valid": True,
            "player_id": self.claims.player_id,
            "game_id": self.claims.game_id,
            "permissions": list(self.claims.permissions),
            "expires_at": self.claims.expires_at.isoformat().replace("+00:00", "Z"),
        }


def validate_access_token(raw_token: str, *, game_id: int) -> TokenCheck:
    """For game servers: no exception, a reason when invalid. A token of another game is never
    valid for this one; a deleted player's within TOKEN_PLAYER_SECONDS. Counted in
    gp_token_validations_total by outcome (valid, or the reason)."""
    check = _check_access_token(raw_token, game_id=game_id)
    TOKEN_VALIDATIONS.labels("valid" if check.valid else check.reason).inc()
    return check


def _check_access_token(raw_token: str, *, game_id: int) -> TokenCheck:
    try:
        claims = decode_access_token(raw_token)
    except TokenError as refused:
        return TokenCheck(valid=False, reason=refused.code)
    if claims.game_id != game_id:
        return TokenCheck(valid=False, reason="wrong_game")
    try:
        ensure_not_revoked(claims)
    except (TokenError, PlayerBanned) as refused:
        return TokenCheck(valid=False, reason=refused.code)
    if not token_player_exists(game_id=claims.game_id, player_id=claims.player_id):
        # Deleting a player (or its game) deletes its sessions rather than revoking them.
        return TokenCheck(valid=False, reason=InvalidToken.code)
    return TokenCheck(valid=True, claims=claims)
