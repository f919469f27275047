"""Apple: Game Center identity signatures and Sign in with Apple tokens (PLATFORMS.md §6).

The flow is picked by the credentials: `identity_token` means Sign in with Apple, the Game
Center fields (`public_key_url`, `signature`, ...) mean Game Center.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import re
import struct
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from django.conf import settings
from django.core.cache import cache

from apps.platforms.errors import InvalidCredentials, PlatformNotConfigured, PlatformUnavailable
from apps.platforms.hosts import per_game_hosts
from apps.platforms.verifiers.base import (
    VerifiedIdentity,
    client_display_name,
    config_flag,
    config_int,
    config_list,
    config_str,
    first_use,
    invalid_input,
    optional_credential,
    platform_user_id,
    require_config,
    require_object,
    required_credential,
)
from apps.platforms.verifiers.keys import (
    LEEWAY_SECONDS,
    MAX_REPLAY_SECONDS,
    cache_seconds,
    signed_part,
    url_cache_key,
    verify_jwt,
)
from apps.platforms.verifiers.upstream import call, read_limited, unavailable

logger = logging.getLogger("apps.platforms")

NAME = "apple"
# `trust_anchor` may be left empty: the project's default anchor is used then.
GAME_CENTER_CONFIG = ("bundle_ids",)
SIGN_IN_CONFIG = ("client_ids",)
# Apple's current id first; game_player_id for Arcade; player_id only on the deprecated API.
PLAYER_ID_KEYS = ("team_player_id", "game_player_id", "player_id")
KEY_PATH = re.compile(r"/[A-Za-z0-9._/-]+\.cer")
CA_ISSUER_PATH = re.compile(r"/[A-Za-z0-9._/-]+\.(?:crt|cer|pem)")
DIGITS = re.compile(r"[0-9]{1,20}")  # ASCII only: "²".isdigit() is True, int("²") fails
MAX_CERTIFICATE_BYTES = 16 * 1024
MAX_CHAIN_LENGTH = 4  # key certificate, intermediates, anchor: Apple's chain has one intermediate
APPLE_ORGANIZATION = "Apple Inc."


class AppleVerifier:
    name = NAME
    # Each flow has its own keys (GAME_CENTER_CONFIG, SIGN_IN_CONFIG); a game may use only one.
    required_config: tuple[str, ...] = ()
    plain_config = (
        *GAME_CENTER_CONFIG,
        "key_hosts",
        "max_age_seconds",
        "trust_anchor",
        "intermediates",
        *SIGN_IN_CONFIG,
        "require_nonce",
        "nonce_hashed",
    )
    secret_config: tuple[str, ...] = ()  # Apple's public keys and certificates check both flows

    def verify(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
        credentials = require_object(credentials)
        if "identity_token" in credentials:
            return verify_sign_in(config, credentials)
        if "public_key_url" in credentials or "signature" in credentials:
            return verify_game_center(config, credentials)
        raise invalid_input(
            "identity_token",
            "Send credentials.identity_token (Sign in with Apple) or the Game Center "
            "identity fields (public_key_url, signature, salt, timestamp, team_player_id, "
            "bundle_id).",
        )


def verify_game_center(
    config: Mapping[str, Any], credentials: Mapping[str, Any]
) -> VerifiedIdentity:
    require_config(NAME, config, GAME_CENTER_CONFIG)
    bundle_ids = config_list(NAME, config, "bundle_ids")
    hosts = per_game_hosts(NAME, "key_hosts", config_list(NAME, config, "key_hosts")) or tuple(
        settings.APPLE_GAME_CENTER_KEY_HOSTS
    )
    max_age = config_int(NAME, config, "max_age_seconds", 300)
    # At most a day, as long as a replay mark is kept (MAX_REPLAY_SECONDS); below 1 every
    # signature would be refused as expired, the player told to fetch another, in vain.
    if not 1 <= max_age <= MAX_REPLAY_SECONDS:
        raise PlatformNotConfigured(
            f"apple config 'max_age_seconds' must be from 1 to {MAX_REPLAY_SECONDS} seconds."
        )
    anchors = _certificates(
        config_str(NAME, config, "trust_anchor"), "trust_anchor"
    ) or _default_anchors(settings.APPLE_GAME_CENTER_TRUST_ANCHORS_FILE)
    intermediates = _certificates(config_str(NAME, config, "intermediates"), "intermediates")

    key_url = required_credential(credentials, "public_key_url", max_length=2048)
    signature = _base64(credentials, "signature")
    salt = _base64(credentials, "salt")
    timestamp = _timestamp(credentials)
    bundle_id = required_credential(credentials, "bundle_id", max_length=256)
    player_id = next(
        (found for key in PLAYER_ID_KEYS if (found := optional_credential(credentials, key))),
        None,
    )
    if player_id is None:
        raise invalid_input("team_player_id", "credentials.team_player_id is required.")

    if bundle_id not in bundle_ids:
        raise InvalidCredentials("This Game Center signature is for another app.")
    key_url = _allowed_key_url(key_url, hosts)
    age_ms = time.time() * 1000 - timestamp
    if age_ms > max_age * 1000 or age_ms < -LEEWAY_SECONDS * 1000:
        raise InvalidCredentials("This Game Center signature has expired; fetch a new one.")

    certificate = _certificate(key_url)
    _check_certificate(certificate, anchors, intermediates)
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise InvalidCredentials("The Game Center key is not an RSA key.")
    # The order Apple documents for fetchItems(forIdentityVerificationSignature:).
    signed = player_id.encode() + bundle_id.encode() + struct.pack(">Q", timestamp) + salt
    try:
        public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise InvalidCredentials("The Game Center signature is invalid.") from None
    # Apple signed this id: one no identity can store is Apple's answer we cannot use (503).
    player_id = platform_user_id(NAME, "Game Center", player_id)
    # Checked last so that made-up signatures cannot fill the cache.
    if not first_use("gc-signature", signature, seconds=max_age + LEEWAY_SECONDS):
        raise InvalidCredentials("This Game Center signature was already used.")
    return VerifiedIdentity(
        platform_user_id=player_id,
        display_name=client_display_name(credentials),  # unsigned: cosmetic only
        entitlement_checked=True,
    )


def verify_sign_in(config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
    require_config(NAME, config, SIGN_IN_CONFIG)
    client_ids = config_list(NAME, config, "client_ids")
    require_nonce = config_flag(NAME, config, "require_nonce", default=True)
    # Apple's samples send SHA-256(raw nonce) to Apple and keep the raw one: then the token holds
    # the hash, and only the app that made the nonce knows the raw value it sends us.
    nonce_hashed = config_flag(NAME, config, "nonce_hashed", default=True)
    token = required_credential(credentials, "identity_token")
    if require_nonce:
        nonce: str | None = required_credential(credentials, "nonce", max_length=512)
    else:
        nonce = optional_credential(credentials, "nonce", max_length=512)

    issuer = settings.APPLE_ID_BASE_URL.rstrip("/")
    claims = verify_jwt(
        token,
        platform=NAME,
        jwks_url=f"{issuer}/auth/keys",
        issuer=issuer,
        audience=list(client_ids),
        require=("exp", "iat", "sub", "iss", "aud"),
    )
    if nonce is not None:
        expected = hashlib.sha256(nonce.encode()).hexdigest() if nonce_hashed else nonce
        claimed = claims.get("nonce")
        if not isinstance(claimed, str) or not hmac.compare_digest(
            claimed.encode(), expected.encode()
        ):
            raise InvalidCredentials("The Sign in with Apple nonce does not match.")
    user_id = platform_user_id(NAME, "Sign in with Apple", claims["sub"])
    # Remember the token, and the nonce it carries (sent to us or not), until it expires: with
    # the nonce optional, a token used once with its nonce would otherwise pass again without.
    seconds = min(int(claims["exp"]) - time.time() + LEEWAY_SECONDS, MAX_REPLAY_SECONDS)
    seen = [f"token:{signed_part(token)}"]
    if isinstance(claimed_nonce := claims.get("nonce"), str):
        seen.append(f"nonce:{claimed_nonce}")
    if not all([first_use("siwa", value, seconds=seconds) for value in seen]):
        raise InvalidCredentials("This Sign in with Apple token was already used.")
    return VerifiedIdentity(
        platform_user_id=user_id,
        display_name=client_display_name(credentials),  # Apple sends it once, unsigned
        entitlement_checked=True,
    )


def _base64(credentials: Mapping[str, Any], key: str) -> bytes:
    try:
        decoded = base64.b64decode(
            required_credential(credentials, key, max_length=4096), validate=True
        )
    except (binascii.Error, ValueError):
        raise invalid_input(key, f"credentials.{key} must be base64.") from None
    if not decoded:
        raise invalid_input(key, f"credentials.{key} is required.")
    return decoded


def _timestamp(credentials: Mapping[str, Any]) -> int:
    value = credentials.get("timestamp")
    if value is None or value == "":
        raise invalid_input("timestamp", "credentials.timestamp is required.")
    if isinstance(value, str) and DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise invalid_input("timestamp", "credentials.timestamp must be milliseconds since 1970.")
    return value


def _allowed_key_url(url: str, hosts: tuple[str, ...]) -> str:
    """Only https, an allow-listed Apple host and a .cer path: the URL comes from the client."""
    refused = InvalidCredentials("The Game Center public key URL is not an Apple key URL.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refused from None
    if (
        parts.scheme != "https"
        or (parts.hostname or "") not in {host.lower() for host in hosts}
        or port not in (None, 443)
        or parts.username is not None
        or parts.query
        or parts.fragment
        or not KEY_PATH.fullmatch(parts.path)
    ):
        raise refused
    return f"https://{parts.hostname}{parts.path}"  # rebuilt, so nothing odd reaches requests


def _certificate(url: str) -> x509.Certificate:
    cache_key = url_cache_key("gc-certificate", url)
    der = cache.get(cache_key)
    if der is None:
        response = call("GET", url, stream=True, platform=NAME, operation="Game Center key")
        if response.status_code != 200:
            response.close()
            raise unavailable(NAME, "Game Center key", f"HTTP {response.status_code}")
        der = read_limited(
            response, limit=MAX_CERTIFICATE_BYTES, platform=NAME, operation="Game Center key"
        )
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            raise unavailable(NAME, "Game Center key", "not a DER certificate") from None
        cache.set(cache_key, der, cache_seconds(response.headers.get("Cache-Control")))
        return certificate
    return x509.load_der_x509_certificate(der)


def _certificates(pem: str, key: str) -> list[x509.Certificate]:
    if not pem:
        return []
    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        raise PlatformNotConfigured(f"apple config {key!r} must be PEM certificates.") from None


def _check_certificate(
    certificate: x509.Certificate,
    anchors: list[x509.Certificate],
    intermediates: list[x509.Certificate],
) -> None:
    """Valid now, issued to Apple Inc., and chained to one of the trust anchors, directly or
    through CAs from the game's `intermediates` or fetched from each certificate's AIA
    caIssuers link (Apple serves the key certificate alone).

    The key certificate comes from an allow-listed Apple host, so one that does not chain is
    not a player's forgery but our configuration (a wrong anchor, or Apple's new CA): an
    ALERT and a 503, not a 401 that would silently refuse every player."""
    now = datetime.now(UTC)
    if not _valid_at(certificate, now):
        raise InvalidCredentials("The Game Center key certificate is expired or not yet valid.")
    organizations = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    if [attribute.value for attribute in organizations] != [APPLE_ORGANIZATION]:
        raise InvalidCredentials("The Game Center key certificate was not issued to Apple.")
    current = certificate
    for _ in range(MAX_CHAIN_LENGTH):
        if _issuer_among(current, anchors, now, must_be_ca=False) is not None:
            return
        issuer = _issuer_among(current, intermediates, now, must_be_ca=True)
        if issuer is None:
            issuer = _fetched_issuer(current, now)
        if issuer is None or issuer == current:
            break
        current = issuer
    raise chain_failure(f"no trusted anchor above {current.issuer.rfc4514_string()!r}")


def chain_failure(reason: str) -> PlatformUnavailable:
    """Every Game Center login fails until an operator acts: say so loudly (no credential in
    the reason: certificate names and hosts only)."""
    logger.error(
        "ALERT apple Game Center key certificate chain: %s; check the game's trust_anchor "
        "(default APPLE_GAME_CENTER_TRUST_ANCHORS_FILE) and APPLE_GAME_CENTER_CA_ISSUER_HOSTS",
        reason,
    )
    return PlatformUnavailable(f"{NAME} is unavailable right now; try again later.")


@functools.lru_cache(maxsize=4)
def _default_anchors(path: str) -> list[x509.Certificate]:
    """The project's default anchor file, read once per path."""
    try:
        with open(path, "rb") as file:
            anchors = x509.load_pem_x509_certificates(file.read())
    except (OSError, ValueError):
        raise chain_failure("the default trust anchor file cannot be read") from None
    return anchors


def _fetched_issuer(certificate: x509.Certificate, now: datetime) -> x509.Certificate | None:
    """The CA named by the certificate's AIA caIssuers link, when it really signed it; None
    when the certificate names no such link or the CA found there did not sign it."""
    url = _ca_issuer_url(certificate)
    if url is None:
        return None
    return _issuer_among(certificate, [_ca_certificate(url)], now, must_be_ca=True)


def _ca_issuer_url(certificate: x509.Certificate) -> str | None:
    """The certificate's caIssuers URL on an allowed CA host, rebuilt as https (the link is
    usually http: what it serves is checked by signature, and https keeps it private)."""
    try:
        access = certificate.extensions.get_extension_for_class(
            x509.AuthorityInformationAccess
        ).value
    except x509.ExtensionNotFound:
        return None
    urls = [
        description.access_location.value
        for description in access
        if description.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
    ]
    if not urls:
        return None
    hosts = {host.lower() for host in settings.APPLE_GAME_CENTER_CA_ISSUER_HOSTS}
    for url in urls:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            continue
        if (
            parts.scheme in ("http", "https")
            and (parts.hostname or "") in hosts
            and port in (None, 80, 443)
            and parts.username is None
            and not parts.query
            and not parts.fragment
            and CA_ISSUER_PATH.fullmatch(parts.path)
        ):
            return f"https://{parts.hostname}{parts.path}"
    hosts_named = sorted({urlsplit(url).hostname or "?" for url in urls})
    raise chain_failure(f"the issuing CA is published on a host not allowed: {hosts_named}")


def _ca_certificate(url: str) -> x509.Certificate:
    """The CA certificate at `url` (DER or PEM), cached per URL like key certificates."""
    cache_key = url_cache_key("gc-ca-issuer", url)
    der = cache.get(cache_key)
    if der is not None:
        return x509.load_der_x509_certificate(der)
    operation = "Game Center issuing CA"
    try:
        response = call("GET", url, stream=True, platform=NAME, operation=operation)
        if response.status_code != 200:
            response.close()
            raise unavailable(NAME, operation, f"HTTP {response.status_code}")
        body = read_limited(
            response, limit=MAX_CERTIFICATE_BYTES, platform=NAME, operation=operation
        )
    except PlatformUnavailable:
        host = urlsplit(url).hostname
        raise chain_failure(f"the issuing CA could not be fetched from {host}") from None
    try:
        if body.lstrip().startswith(b"-----BEGIN"):
            certificate = x509.load_pem_x509_certificate(body)
        else:
            certificate = x509.load_der_x509_certificate(body)
    except ValueError:
        raise chain_failure("the issuing CA's download is not a certificate") from None
    cache.set(
        cache_key,
        certificate.public_bytes(serialization.Encoding.DER),
        cache_seconds(response.headers.get("Cache-Control")),
    )
    return certificate


def _valid_at(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def _issuer_among(
    certificate: x509.Certificate,
    candidates: list[x509.Certificate],
    now: datetime,
    *,
    must_be_ca: bool,
) -> x509.Certificate | None:
    """The candidate, valid now, whose key signed `certificate`; an intermediate must be a CA."""
    for candidate in candidates:
        if not _valid_at(candidate, now) or (must_be_ca and not _is_ca(candidate)):
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


verifier = AppleVerifier()
