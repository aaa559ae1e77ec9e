"""X.509 for mutual TLS: the authority's CA, the certificates it issues and reading them back.

Every party (broker, each department, the authority's staff) holds certificates issued by the
authority CA. The subject common name is the party's identity — a department code, ``broker`` or
``authority`` — and the broker and nodes read it from the TLS handshake, never from a request field.

Two kinds of certificate, never one for both:

* a **client** certificate (extended key usage clientAuth; name ``<party>.client.tongdao.invalid``)
  that the party presents when it calls;
* a **server** certificate (serverAuth; name ``broker.tongdao.invalid`` or
  ``<code>.node.tongdao.invalid`` plus the host of the registered endpoint) for the broker and each
  department's node. Callers verify that name, so a department cannot pose as the broker, nor one
  node as another. The ``.invalid`` top-level domain is reserved: no public name can collide.

Every issued certificate carries the party's **role** in its own extension (:data:`ROLE_OID`),
signed by the CA with the rest. A department's certificates also carry its X25519 and Ed25519
public keys (:data:`PARTY_KEYS_OID`, see :mod:`tongdao.crypto.enrolment`).

TLS keys are ECDSA P-256 (fast handshakes, supported by every gRPC TLS stack). Private keys are
PKCS#8, encrypted with the best available scheme when a passphrase is given.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tongdao.crypto.errors import KeyFormatError, PassphraseError

ORGANIZATION = "Tongdao"
_ARC = "2.25.199520559564520941900602779574531313356"
PARTY_KEYS_OID = x509.ObjectIdentifier(f"{_ARC}.1")
"""Extension: the party's X25519/Ed25519 public keys and its proof of possession (JSON)."""
ROLE_OID = x509.ObjectIdentifier(f"{_ARC}.2")
"""Extension: the party's role (UTF8String), e.g. ``department``, ``broker``, ``administrator``."""

ROLES: tuple[str, ...] = ("department", "broker", "administrator", "operator", "auditor")
"""Roles a certificate may carry. The authority's staff roles are administrator (directory,
certificates), operator (catalogue review, decisions) and auditor (reads, changes nothing)."""

NAME_SUFFIX = "tongdao.invalid"
BROKER_SERVER_NAME = f"broker.{NAME_SUFFIX}"


def node_server_name(department: str) -> str:
    """The name a department's node certificate carries and the broker checks."""
    return f"{department}.node.{NAME_SUFFIX}"


def client_name(party: str) -> str:
    """The name a party's client certificate carries."""
    return f"{party}.client.{NAME_SUFFIX}"


def server_name_for(party: str, role: str) -> str:
    """The identity name of ``party``'s server certificate."""
    return BROKER_SERVER_NAME if role == "broker" else node_server_name(party)


class Usage(enum.Enum):
    """What a certificate may be used for (its extended key usage)."""

    CLIENT = "client"
    SERVER = "server"

    @property
    def oid(self) -> x509.ObjectIdentifier:
        return (
            ExtendedKeyUsageOID.CLIENT_AUTH
            if self is Usage.CLIENT
            else ExtendedKeyUsageOID.SERVER_AUTH
        )


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


# ---------------------------------------------------------------------------- DER helpers
def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_utf8(text: str) -> bytes:
    """DER UTF8String of ``text`` (the value of Tongdao's extensions)."""
    raw = text.encode("utf-8")
    return b"\x0c" + _der_length(len(raw)) + raw


def parse_der_utf8(der: bytes) -> str:
    """Read a DER UTF8String.

    Raises:
        KeyFormatError: not a well-formed UTF8String.
    """
    if len(der) < 2 or der[0] != 0x0C:
        raise KeyFormatError("extension value is not a UTF8String")
    first = der[1]
    if first < 0x80:
        length, start = first, 2
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            raise KeyFormatError("extension value has a bad length")
        length, start = int.from_bytes(der[2 : 2 + count], "big"), 2 + count
    if len(der) != start + length:
        raise KeyFormatError("extension value has a bad length")
    try:
        return der[start:].decode("utf-8")
    except UnicodeDecodeError:
        raise KeyFormatError("extension value is not UTF-8") from None


# ---------------------------------------------------------------------------- keys
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey


def generate_tls_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key from the operating system's CSPRNG."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key: PrivateKey, passphrase: bytes | None = None) -> bytes:
    """PKCS#8 PEM of ``key``, encrypted under ``passphrase`` when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def is_encrypted_pem(pem: bytes) -> bool:
    """Whether ``pem`` is an encrypted PKCS#8 private key."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem


def load_private_key(pem: bytes, passphrase: bytes | None = None) -> PrivateKey:
    """Read a PKCS#8 PEM private key, decrypting it with ``passphrase`` if it is encrypted.

    Raises:
        PassphraseError: the key is encrypted and no passphrase, or the wrong one, was given.
        KeyFormatError: not a supported private key.
    """
    encrypted = is_encrypted_pem(pem)
    if encrypted and not passphrase:
        raise PassphraseError("the key is encrypted and no passphrase was given")
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase if encrypted else None)
    except ValueError:
        if encrypted:
            raise PassphraseError("wrong passphrase (the key does not decrypt)") from None
        raise KeyFormatError("not a PEM private key") from None
    except TypeError:
        raise KeyFormatError("not a PEM private key") from None
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey
    ):
        raise KeyFormatError("unsupported private key type")
    return key


def unencrypted_pem(pem: bytes, passphrase: bytes | None = None) -> bytes:
    """The same key as unencrypted PKCS#8 (in memory only: what the TLS stack is handed)."""
    return private_key_pem(load_private_key(pem, passphrase))


# ---------------------------------------------------------------------------- issuing
def _name(common_name: str, role: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
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
        valid_days: validity from ``now`` (the rule file's ``ca_days``).
        now: issuance time (injectable for tests); UTC now otherwise.

    Returns:
        The CA certificate and its unencrypted key.
    """
    now = now or dt.datetime.now(dt.UTC)
    key = generate_tls_key()
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
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertifiedKey(cert.public_bytes(serialization.Encoding.PEM), private_key_pem(key))


@dataclass(frozen=True)
class Authority:
    """A loaded CA: its certificate and signing key (decrypted, in memory)."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:
        return f"Authority({self.certificate.subject.rfc4514_string()!r})"

    @classmethod
    def load(
        cls, certificate_pem: bytes, key_pem: bytes, passphrase: bytes | None = None
    ) -> Authority:
        """Load a CA.

        Raises:
            PassphraseError: wrong or missing passphrase for the CA key.
            KeyFormatError: the certificate or key is not valid, or they do not match.
        """
        cert = load_certificate(certificate_pem)
        key = load_private_key(key_pem, passphrase)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyFormatError("authority key must be an EC key")
        if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
            raise KeyFormatError("authority key does not match its certificate")
        return cls(cert, key)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _general_names(names: tuple[str, ...]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def issue_certificate(
    authority: Authority,
    public_key: ec.EllipticCurvePublicKey,
    common_name: str,
    *,
    role: str,
    usage: Usage,
    names: tuple[str, ...],
    valid_days: int,
    now: dt.datetime | None = None,
    extensions: tuple[x509.UnrecognizedExtension, ...] = (),
) -> bytes:
    """Issue a certificate for ``public_key`` with exactly one usage.

    Args:
        authority: the CA that signs.
        public_key: the party's TLS public key (from its request).
        common_name: the party's identity (department code, ``broker``, ``authority``).
        role: one of :data:`ROLES`; recorded in :data:`ROLE_OID` and the subject OU.
        usage: client or server.
        names: subject alternative names (DNS names or IP addresses).
        valid_days: validity from ``now`` (from the rule file).
        now: issuance time (injectable for tests).
        extensions: further non-critical extensions (the party's keys).

    Returns:
        The PEM certificate.

    Raises:
        KeyFormatError: an unknown role or no names.
    """
    if role not in ROLES:
        raise KeyFormatError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    if not names:
        raise KeyFormatError("a certificate needs at least one name")
    now = now or dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, role))
        .issuer_name(authority.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage.oid]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
        .add_extension(x509.UnrecognizedExtension(ROLE_OID, der_utf8(role)), critical=False)
    )
    for ext in extensions:
        builder = builder.add_extension(ext, critical=False)
    cert = builder.sign(authority.key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


# ---------------------------------------------------------------------------- reading
def load_certificate(pem: bytes) -> x509.Certificate:
    """Parse one PEM certificate.

    Raises:
        KeyFormatError: not a PEM certificate.
    """
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise KeyFormatError("not a PEM certificate") from None


@dataclass(frozen=True)
class CertificateInfo:
    """What a Tongdao certificate says, read back.

    Attributes:
        common_name: the party (department code, ``broker``, ``authority``).
        role: from :data:`ROLE_OID` ("" for the CA).
        usages: client and/or server.
        serial: the serial number.
        not_before, not_after: validity (UTC).
        names: subject alternative names.
        party_keys_json: the party-keys extension's JSON, or "".
    """

    common_name: str
    role: str
    usages: frozenset[Usage]
    serial: int
    not_before: dt.datetime
    not_after: dt.datetime
    names: tuple[str, ...]
    party_keys_json: str
    is_ca: bool

    def days_left(self, now: dt.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400


def certificate_info(cert: x509.Certificate | bytes) -> CertificateInfo:
    """Read a certificate's Tongdao identity.

    Raises:
        KeyFormatError: not a certificate, no common name or a malformed Tongdao extension.
    """
    if isinstance(cert, bytes):
        cert = load_certificate(cert)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not cns:
        raise KeyFormatError("certificate has no common name")
    cn = cns[0].value
    role = keys = ""
    usages: set[Usage] = set()
    names: tuple[str, ...] = ()
    is_ca = False
    for ext in cert.extensions:
        value = ext.value
        if isinstance(value, x509.UnrecognizedExtension):
            if ext.oid == ROLE_OID:
                role = parse_der_utf8(value.value)
            elif ext.oid == PARTY_KEYS_OID:
                keys = parse_der_utf8(value.value)
        elif isinstance(value, x509.ExtendedKeyUsage):
            usages |= {u for u in Usage if u.oid in value}
        elif isinstance(value, x509.SubjectAlternativeName):
            names = tuple(str(n.value) for n in value)
        elif isinstance(value, x509.BasicConstraints):
            is_ca = value.ca
    return CertificateInfo(
        common_name=cn if isinstance(cn, str) else cn.decode(),
        role=role,
        usages=frozenset(usages),
        serial=cert.serial_number,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        names=names,
        party_keys_json=keys,
        is_ca=is_ca,
    )


def common_name_of(certificate_pem: bytes) -> str:
    """Return the subject common name of a PEM certificate.

    Raises:
        KeyFormatError: not a PEM certificate or no common name.
    """
    return certificate_info(certificate_pem).common_name


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether ``cert`` carries a valid signature of ``ca``."""
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def public_key_matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    """Whether ``key`` is the private half of ``cert``'s public key."""
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, spki)
    return mine == cert.public_key().public_bytes(serialization.Encoding.DER, spki)


def expiry_warning(info: CertificateInfo, warn_days: int, now: dt.datetime | None = None) -> str:
    """A warning when ``info`` expires within ``warn_days`` (or has expired), else ""."""
    days = info.days_left(now or dt.datetime.now(dt.UTC))
    kind = "/".join(sorted(u.value for u in info.usages)) or "CA"
    if days < 0:
        return f"the {kind} certificate of {info.common_name} expired on {info.not_after:%Y-%m-%d}"
    if days < warn_days:
        return (
            f"the {kind} certificate of {info.common_name} expires on "
            f"{info.not_after:%Y-%m-%d} ({days:.0f} days): renew it now (`keygen --renew`)"
        )
    return ""
