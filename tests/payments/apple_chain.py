"""A test certificate authority shaped like Apple's (root → WWDR intermediate → signing leaf,
with Apple's marker OIDs), to sign StoreKit 2 JWS the way the App Store does."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from apps.payments.providers.apple import INTERMEDIATE_OID, LEAF_OID


@dataclass
class Chain:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey

    @property
    def root_pem(self) -> str:
        return self.root.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, payload: dict, *, chain: list[x509.Certificate] | None = None) -> str:
        certs = chain or [self.leaf, self.intermediate, self.root]
        x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certs]
        return jwt.encode(payload, self.leaf_key, algorithm="ES256", headers={"x5c": x5c})


def _cert(subject, issuer, key, signer, *, ca: bool, marker=None, days=30, before=1, ocsp=None):
    """Shaped as OpenSSL's strict checks (the library's) want: key identifiers, key usage."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=before))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if marker is not None:
        builder = builder.add_extension(x509.UnrecognizedExtension(marker, b"\x05\x00"), False)
    if ocsp is not None:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), False)
    return builder.sign(signer, hashes.SHA256())


def make_chain(name: str = "Test Apple Root CA", *, ocsp: str | None = None) -> Chain:
    """`ocsp`: the OCSP responder URL the intermediate and leaf name (Apple's do)."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    mid_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert(name, name, root_key, root_key, ca=True)
    intermediate = _cert(
        "Test WWDR", name, mid_key, root_key, ca=True, marker=INTERMEDIATE_OID, ocsp=ocsp
    )
    leaf = _cert(
        "Test Store Signing", "Test WWDR", leaf_key, mid_key, ca=False, marker=LEAF_OID, ocsp=ocsp
    )
    return Chain(root, intermediate, leaf, leaf_key)
