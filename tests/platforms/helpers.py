"""Keys, tokens, certificates and assertions shared by the verifier tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from gamingpanel.errors import DomainError

FAKE_HOSTS = {
    "STEAM_API_BASE_URL": "https://steam.test",
    "EPIC_API_BASE_URL": "https://epic.test",
    "GOOGLE_OAUTH_TOKEN_URL": "https://oauth.google.test/token",
    "GOOGLE_GAMES_API_BASE_URL": "https://games.google.test/games/v1",
    "APPLE_ID_BASE_URL": "https://appleid.test",
    "APPLE_GAME_CENTER_KEY_HOSTS": ["static.gc.test"],
    "APPLE_GAME_CENTER_CA_ISSUER_HOSTS": ["cacerts.ca.test"],
    "IDCGAMES_VERIFY_URL": "https://idc.test/unilogin/getAccessData.php",
    "IDCGAMES_PROFILE_URL": "https://idc.test/unilogin/getUserProfileInfo.php",
    # Per-game URLs in these tests name fake hosts under .test.
    "APPLE_URL_HOSTS": ["*.test"],
    "IDCGAMES_URL_HOSTS": ["*.test"],
    "NINTENDO_URL_HOSTS": ["*.test"],
    "PLAYSTATION_URL_HOSTS": ["*.test"],
    # `responses` answers before any connection: no name is resolved or address checked
    # (tests/platforms/test_outbound.py tests the guard with its own resolver).
    "OUTBOUND_ALLOW_PRIVATE": True,
}

# Valid JSON nested deeper than Python's parser recurses (RecursionError, not ValueError): an
# answer no platform means, which must be a 503 like any body that is not usable JSON.
TOO_DEEP_JSON = "[" * 100_000 + "]" * 100_000

# Generated once per run: 2048-bit keys take a moment each.
PLATFORM_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@contextmanager
def raises_problem(code: str, status: int) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """The block must raise a DomainError with exactly this problem code and HTTP status."""
    with pytest.raises(DomainError) as caught:
        yield caught
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.detail


def jwks(*keys: tuple[str, rsa.RSAPrivateKey]) -> dict[str, Any]:
    """A JWKS document publishing the public half of each (kid, key)."""
    published = []
    for kid, key in keys:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": published}


def sign(
    claims: dict[str, Any],
    *,
    kid: str | None = "key-1",
    key: rsa.RSAPrivateKey = PLATFORM_KEY,
    **header: Any,
) -> str:
    """An RS256 token; kid=None leaves the kid out of the header."""
    headers = {"kid": kid, **header} if kid is not None else header
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def claims(**overrides: Any) -> dict[str, Any]:
    """A fresh token body (issued now, valid ten minutes); None drops a claim."""
    now = int(time.time())
    body = {"sub": "user-1", "iat": now, "exp": now + 600, **overrides}
    return {name: value for name, value in body.items() if value is not None}


def expired_claims(**overrides: Any) -> dict[str, Any]:
    """Expired well past the 60 s leeway."""
    now = int(time.time())
    return claims(iat=now - 3600, exp=now - 300, **overrides)


def unsigned_token(body: dict[str, Any], *, kid: str = "key-1") -> str:
    return jwt.encode(body, None, algorithm="none", headers={"kid": kid})


def hmac_token(body: dict[str, Any], secret: str, *, kid: str = "key-1") -> str:
    return jwt.encode(body, secret, algorithm="HS256", headers={"kid": kid})


# --- X.509 for Game Center ----------------------------------------------------------------


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(
    name: str = "Test Code Signing CA",
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    subject = _name(name, "Test CA Inc.")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def make_intermediate(
    root: tuple[x509.Certificate, rsa.RSAPrivateKey],
    name: str = "Test Code Signing Intermediate CA",
    *,
    ca: bool = True,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A CA certificate signed by `root`, as DigiCert's code-signing CA is by its root."""
    root_certificate, root_key = root
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(name, "Test CA Inc."))
        .issuer_name(root_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return certificate, key


def make_leaf(
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
    key: rsa.RSAPrivateKey,
    *,
    organization: str = "Apple Inc.",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ca_issuers: tuple[str, ...] = (),
) -> x509.Certificate:
    """Apple's key certificate; `ca_issuers` are its AIA links to the issuing CA, as
    DigiCert's `http://cacerts.digicert.com/….crt`."""
    ca_certificate, ca_key = ca
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("Game Center key", organization))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=30))
    )
    if ca_issuers:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(url),
                    )
                    for url in ca_issuers
                ]
            ),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256())


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)
