"""X.509 for mutual TLS: the authority's CA and the certificates it issues.

Every party (broker, each department's node and client, the authority's operator) holds a
certificate issued by the authority CA. The subject common name is the party's identity — a
department code, ``broker`` or ``authority`` — and the broker and nodes read it from the TLS
handshake, never from a request field.

Keys are ECDSA P-256 (fast handshakes, supported by every gRPC TLS stack).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tongdao.crypto.errors import KeyFormatError

ORGANIZATION = "Tongdao"
DEFAULT_SANS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class CertifiedKey:
    """A PEM certificate and its PEM private key.

    Attributes:
        certificate_pem: the certificate.
        private_key_pem: the unencrypted PKCS#8 private key; keep secret (file mode 0600).
    """

    certificate_pem: bytes
    private_key_pem: bytes

    def __repr__(self) -> str:  # never print the private key
        return f"CertifiedKey(common_name={common_name_of(self.certificate_pem)!r})"


def _name(common_name: str, role: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def create_authority(
    common_name: str = "Tongdao Authority CA",
    *,
    valid_days: int = 3650,
    now: dt.datetime | None = None,
) -> CertifiedKey:
    """Create a self-signed CA for the data authority.

    Args:
        common_name: the CA's subject common name.
        valid_days: validity from ``now``.
        now: issuance time (injectable for tests); UTC now otherwise.

    Returns:
        The CA certificate and key.
    """
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, "authority-ca")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertifiedKey(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def issue_certificate(
    authority: CertifiedKey,
    common_name: str,
    *,
    role: str,
    sans: tuple[str, ...] = DEFAULT_SANS,
    valid_days: int = 825,
    now: dt.datetime | None = None,
) -> CertifiedKey:
    """Issue a certificate usable as both TLS server and TLS client.

    Args:
        authority: the CA that signs.
        common_name: the party's identity (department code, ``broker``, ``authority``).
        role: recorded as the subject OU (``broker``, ``department``, ``operator``).
        sans: DNS names and IP addresses the party serves on.
        valid_days: validity from ``now``.
        now: issuance time (injectable for tests).

    Returns:
        The certificate and its new private key.

    Raises:
        KeyFormatError: the authority's key or certificate cannot be read.
    """
    now = now or dt.datetime.now(dt.UTC)
    try:
        ca_cert = x509.load_pem_x509_certificate(authority.certificate_pem)
        ca_key = serialization.load_pem_private_key(authority.private_key_pem, password=None)
    except ValueError as exc:
        raise KeyFormatError("authority certificate or key is not valid PEM") from exc
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise KeyFormatError("authority key must be an EC key")
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for san in sans:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            alt_names.append(x509.DNSName(san))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, role))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return CertifiedKey(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def common_name_of(certificate_pem: bytes) -> str:
    """Return the subject common name of a PEM certificate.

    Raises:
        KeyFormatError: not a PEM certificate or no common name.
    """
    try:
        cert = x509.load_pem_x509_certificate(certificate_pem)
    except ValueError as exc:
        raise KeyFormatError("not a PEM certificate") from exc
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise KeyFormatError("certificate has no common name")
    value = names[0].value
    return value if isinstance(value, str) else value.decode()
