"""Enrolment: a party asks the authority CA for certificates with a PKCS#10 request.

A department creates its TLS (ECDSA P-256), X25519 (decryption) and Ed25519 (receipt-signing) keys
on its own machine. Its request is a standard PKCS#10 certificate signing request, signed by the TLS
key, that also carries — in the party-keys extension (:data:`tongdao.crypto.pki.PARTY_KEYS_OID`) —
a JSON document with the party, its role, its profile (name, region, level), its X25519 and
Ed25519 public keys, the host names its node serves on, when it was made, a random nonce and a
**proof of possession**: an Ed25519 signature, by the Ed25519 key it declares, over the document
and the request's TLS public key. The CSR signature proves the TLS key; the proof binds the
Ed25519 key to it. (An X25519 key cannot sign; a department declaring someone else's X25519 key
would only make results sealed to it unreadable to itself.)

The CA checks all of it (:func:`parse_request`), then issues a client certificate and — for the
broker and for a department that runs a node — a server certificate (:func:`sign_request`). Both
copy the party-keys document, so anyone holding a certificate can read the party's public keys
with the CA's signature over them (:func:`party_keys_of`).

Pure functions: no file, network or clock access unless the caller passes none (then UTC now).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tongdao.crypto.errors import EnrolmentError, KeyFormatError, SignatureError
from tongdao.crypto.pki import (
    ORGANIZATION,
    PARTY_KEYS_OID,
    ROLES,
    Authority,
    Usage,
    certificate_info,
    client_name,
    der_utf8,
    generate_tls_key,
    issue_certificate,
    parse_der_utf8,
    server_name_for,
)
from tongdao.crypto.randomness import RandomBytes, resolve
from tongdao.crypto.signing import SigningKey, VerifyKey

VERSION = 1
MAX_REQUEST_BYTES = 16 * 1024
PROOF_CONTEXT = b"tongdao-enrolment-v1\x00"
PARTY_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
LEVELS = ("province", "city", "county")
SERVER_ROLES = ("department", "broker")
RESERVED_PARTIES = ("broker", "authority")
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class EnrolmentRequest:
    """A checked enrolment request.

    Attributes:
        csr: the parsed PKCS#10 request.
        party: the requested identity (subject CN).
        role: the requested role.
        profile: name, region and level (departments), else empty.
        encryption_public_key: 32-byte X25519 key (departments), else b"".
        signing_public_key: 32-byte Ed25519 key (departments, broker), else b"".
        server_names: hosts the party's server certificate should name.
        requested_at: when the party made the request.
        fingerprint: SHA-256 of the request's DER (the CA refuses a second use).
        key_fingerprint: SHA-256 of the TLS public key (SubjectPublicKeyInfo DER).
        document: the party-keys JSON, verbatim (copied into the certificates).
    """

    csr: x509.CertificateSigningRequest
    party: str
    role: str
    profile: dict[str, str]
    encryption_public_key: bytes
    signing_public_key: bytes
    server_names: tuple[str, ...]
    requested_at: dt.datetime
    fingerprint: str
    key_fingerprint: str
    document: str = field(repr=False)


@dataclass(frozen=True)
class IssuedCertificates:
    """What the CA returns for one request."""

    client_pem: bytes
    server_pem: bytes | None

    def bundle(self, ca_pem: bytes) -> bytes:
        """One PEM file: client certificate, server certificate (if any), the CA certificate."""
        return self.client_pem + (self.server_pem or b"") + ca_pem


@dataclass(frozen=True)
class PartyKeys:
    """A party's public keys as its certificate states them (CA-signed)."""

    party: str
    role: str
    profile: dict[str, str]
    encryption_public_key: bytes
    signing_public_key: bytes


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def check_host(name: str) -> str:
    """Validate a host name or IP address for a server certificate.

    Raises:
        EnrolmentError: neither an IP address nor a DNS name.
    """
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if not HOST_NAME.match(name) or name.endswith(".invalid"):
        raise EnrolmentError(f"{name!r} is not a host name or IP address", field="server_names")
    return name.lower()


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (tests and the demo)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() in LOOPBACK_NAMES


def check_profile(role: str, profile: dict[str, str]) -> dict[str, str]:
    """A department's profile must name it, its region code and level."""
    if role != "department":
        if profile:
            raise EnrolmentError("only a department has a profile", field="profile")
        return {}
    name, region, level = (str(profile.get(k, "")).strip() for k in ("name", "region", "level"))
    if not name or len(name) > 200:
        raise EnrolmentError(
            "a department's name is required (at most 200 characters)", field="profile.name"
        )
    if not re.fullmatch(r"\d{6}", region):
        raise EnrolmentError("region must be a 6-digit administrative code", field="profile.region")
    if level not in LEVELS:
        raise EnrolmentError(f"level must be one of {', '.join(LEVELS)}", field="profile.level")
    return {"name": name, "region": region, "level": level}


def build_request(
    tls_key: ec.EllipticCurvePrivateKey,
    party: str,
    *,
    role: str,
    profile: dict[str, str] | None = None,
    encryption_public_key: bytes = b"",
    signing_key: SigningKey | None = None,
    server_names: tuple[str, ...] = (),
    now: dt.datetime | None = None,
    rng: RandomBytes | None = None,
) -> bytes:
    """Make a PEM enrolment request (PKCS#10, signed by ``tls_key``).

    Args:
        tls_key: the party's new TLS key.
        party: its identity (department code, ``broker``, ``authority``).
        role: one of :data:`tongdao.crypto.pki.ROLES`.
        profile: a department's name, region and level.
        encryption_public_key: a department's X25519 public key.
        signing_key: the Ed25519 key the party declares (it signs the proof of possession).
        server_names: hosts of the party's server (its node's endpoint host).
        now: request time (injectable); UTC now otherwise.
        rng: nonce source (injectable); CSPRNG otherwise.

    Raises:
        EnrolmentError: an invalid party, role, profile or host.
    """
    if not PARTY_NAME.match(party):
        raise EnrolmentError(f"invalid party name {party!r}", field="party")
    if role not in ROLES:
        raise EnrolmentError(f"unknown role {role!r}", field="role")
    names = tuple(check_host(n) for n in server_names)
    now = now or dt.datetime.now(dt.UTC)
    document: dict[str, Any] = {
        "version": VERSION,
        "party": party,
        "role": role,
        "profile": check_profile(role, profile or {}),
        "x25519": encryption_public_key.hex(),
        "ed25519": signing_key.verify_key.public_key.hex() if signing_key else "",
        "server_names": list(names),
        "requested_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nonce": resolve(rng)(16).hex(),
    }
    proof = b""
    if signing_key is not None:
        proof = signing_key.sign(PROOF_CONTEXT + _canonical(document) + _spki(tls_key.public_key()))
    document["proof"] = proof.hex()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
                    x509.NameAttribute(NameOID.COMMON_NAME, party),
                ]
            )
        )
        .add_extension(
            x509.UnrecognizedExtension(PARTY_KEYS_OID, der_utf8(_canonical(document).decode())),
            critical=False,
        )
        .sign(tls_key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def _hex_key(document: dict[str, Any], name: str, field_name: str) -> bytes:
    value = document.get(name, "")
    if not isinstance(value, str):
        raise EnrolmentError(f"{name} must be hex", field=field_name)
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise EnrolmentError(f"{name} must be hex", field=field_name) from None
    if raw and len(raw) != 32:
        raise EnrolmentError(f"{name} public key must be 32 bytes", field=field_name)
    return raw


def _document_of(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise EnrolmentError("the party-keys document is not JSON", field="party_keys") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise EnrolmentError(
            f"the party-keys document must be version {VERSION}", field="party_keys"
        )
    return document


def _verify_proof(document: dict[str, Any], public_key: Any) -> tuple[bytes, bytes]:
    """Check the document's keys and proof against the TLS public key; return (x25519, ed25519)."""
    x25519 = _hex_key(document, "x25519", "x25519")
    ed25519 = _hex_key(document, "ed25519", "ed25519")
    proof_hex = document.get("proof", "")
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    if ed25519:
        try:
            proof = bytes.fromhex(proof_hex) if isinstance(proof_hex, str) else b""
            VerifyKey(ed25519).verify(
                proof, PROOF_CONTEXT + _canonical(unsigned) + _spki(public_key)
            )
        except (ValueError, SignatureError, KeyFormatError):
            raise EnrolmentError(
                "the proof of possession of the Ed25519 key does not verify", field="proof"
            ) from None
    elif proof_hex:
        raise EnrolmentError("a proof without an Ed25519 key", field="proof")
    return x25519, ed25519


def parse_request(
    data: bytes,
    *,
    max_age: dt.timedelta,
    now: dt.datetime | None = None,
) -> EnrolmentRequest:
    """Parse and check an enrolment request (PEM or DER).

    Checks: a well-formed PKCS#10 with a valid signature by an ECDSA P-256 key; subject CN a valid
    party name equal to the document's party, OU equal to its role; the role known; a department
    declares both keys and a valid profile, the broker an Ed25519 key; the proof of possession
    verifies; the request was made no more than ``max_age`` ago and not in the future.

    Raises:
        EnrolmentError: the first check that fails, naming its field.
    """
    if not data or len(data) > MAX_REQUEST_BYTES:
        raise EnrolmentError(f"a request is 1 to {MAX_REQUEST_BYTES} bytes", field="request")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            csr = x509.load_pem_x509_csr(data)
        else:
            csr = x509.load_der_x509_csr(data)
    except ValueError:
        raise EnrolmentError("not a PKCS#10 certificate signing request", field="request") from None
    try:
        if not csr.is_signature_valid:
            raise EnrolmentError("the request's signature does not verify", field="signature")
        public_key = csr.public_key()
    except (ValueError, TypeError):
        raise EnrolmentError(
            "the request's key or signature is unreadable", field="signature"
        ) from None
    if (
        not isinstance(public_key, ec.EllipticCurvePublicKey)
        or public_key.curve.name != "secp256r1"
    ):
        raise EnrolmentError("the TLS key must be ECDSA P-256", field="public_key")
    cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ous = csr.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    if len(cns) != 1 or len(ous) != 1:
        raise EnrolmentError("the subject must have one common name and one unit", field="subject")
    party, role = str(cns[0].value), str(ous[0].value)
    try:
        ext = csr.extensions.get_extension_for_oid(PARTY_KEYS_OID).value
    except x509.ExtensionNotFound:
        raise EnrolmentError(
            "the request carries no party-keys extension", field="party_keys"
        ) from None
    except ValueError:
        raise EnrolmentError("the request's extensions are malformed", field="party_keys") from None
    if not isinstance(ext, x509.UnrecognizedExtension):
        raise EnrolmentError("the party-keys extension is malformed", field="party_keys")
    try:
        text = parse_der_utf8(ext.value)
    except KeyFormatError as exc:
        raise EnrolmentError(str(exc), field="party_keys") from None
    document = _document_of(text)
    if document.get("party") != party or not PARTY_NAME.match(party):
        raise EnrolmentError(
            f"the subject names {party!r} but the party-keys document names "
            f"{document.get('party')!r}",
            field="subject",
        )
    if document.get("role") != role or role not in ROLES:
        raise EnrolmentError(f"role {role!r} is unknown or differs from the document", field="role")
    profile = document.get("profile") or {}
    if not isinstance(profile, dict):
        raise EnrolmentError("profile must be a table", field="profile")
    profile = check_profile(role, profile)
    x25519, ed25519 = _verify_proof(document, public_key)
    if role == "department" and not (x25519 and ed25519):
        raise EnrolmentError(
            "a department declares its X25519 and Ed25519 keys", field="party_keys"
        )
    if role == "broker" and not ed25519:
        raise EnrolmentError("the broker declares its Ed25519 grant-signing key", field="ed25519")
    if role not in ("department", "broker") and (x25519 or ed25519):
        raise EnrolmentError(f"a {role} certificate carries no data keys", field="party_keys")
    if role == "department" and party in RESERVED_PARTIES:
        raise EnrolmentError(f"{party!r} is reserved", field="party")
    raw_names = document.get("server_names", [])
    if not isinstance(raw_names, list) or not all(isinstance(n, str) for n in raw_names):
        raise EnrolmentError("server_names must be a list of hosts", field="server_names")
    names = tuple(check_host(n) for n in raw_names)
    if names and role not in SERVER_ROLES:
        raise EnrolmentError(f"a {role} has no server", field="server_names")
    try:
        requested_at = dt.datetime.strptime(str(document.get("requested_at")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise EnrolmentError("requested_at must be an ISO UTC time", field="requested_at") from None
    requested_at = requested_at.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    if requested_at > now + dt.timedelta(minutes=5):
        raise EnrolmentError("the request is dated in the future", field="requested_at")
    if now - requested_at > max_age:
        raise EnrolmentError(
            f"the request is older than {max_age}; make a new one", field="requested_at"
        )
    der = csr.public_bytes(serialization.Encoding.DER)
    return EnrolmentRequest(
        csr=csr,
        party=party,
        role=role,
        profile=profile,
        encryption_public_key=x25519,
        signing_public_key=ed25519,
        server_names=names,
        requested_at=requested_at,
        fingerprint=hashlib.sha256(der).hexdigest(),
        key_fingerprint=hashlib.sha256(_spki(public_key)).hexdigest(),
        document=text,
    )


def sign_request(
    authority: Authority,
    request: EnrolmentRequest,
    *,
    valid_days: int,
    server_names: tuple[str, ...] | None = None,
    now: dt.datetime | None = None,
) -> IssuedCertificates:
    """Issue the client certificate and, for a server role with hosts, the server certificate.

    Args:
        authority: the CA.
        request: a request checked by :func:`parse_request`.
        valid_days: lifetime from the rule file for the request's role.
        server_names: hosts decided by the CA (the registered endpoint's host); the request's own
            when None.
        now: issuance time (injectable).
    """
    public_key = request.csr.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)  # parse_request checked it
    keys_ext = x509.UnrecognizedExtension(PARTY_KEYS_OID, der_utf8(request.document))
    client = issue_certificate(
        authority,
        public_key,
        request.party,
        role=request.role,
        usage=Usage.CLIENT,
        names=(client_name(request.party),),
        valid_days=valid_days,
        now=now,
        extensions=(keys_ext,),
    )
    hosts = request.server_names if server_names is None else tuple(map(check_host, server_names))
    server = None
    if request.role in SERVER_ROLES and (hosts or request.role == "broker"):
        server = issue_certificate(
            authority,
            public_key,
            request.party,
            role=request.role,
            usage=Usage.SERVER,
            names=(server_name_for(request.party, request.role), *hosts),
            valid_days=valid_days,
            now=now,
            extensions=(keys_ext,),
        )
    return IssuedCertificates(client, server)


def certify(
    authority: Authority,
    party: str,
    *,
    role: str,
    signing_key: SigningKey,
    encryption_public_key: bytes = b"",
    profile: dict[str, str] | None = None,
    server_names: tuple[str, ...] = (),
    valid_days: int = 90,
    now: dt.datetime | None = None,
) -> IssuedCertificates:
    """Request and sign in one go, for keys that already exist (on one machine: service tests,
    benchmarks): the request is checked exactly as the CA checks one sent to it.

    Raises:
        EnrolmentError: as :func:`build_request` and :func:`parse_request`.
    """
    tls_key = generate_tls_key()
    csr = build_request(
        tls_key,
        party,
        role=role,
        profile=profile,
        encryption_public_key=encryption_public_key,
        signing_key=signing_key,
        server_names=server_names,
        now=now,
    )
    request = parse_request(csr, max_age=dt.timedelta(hours=1), now=now)
    return sign_request(authority, request, valid_days=valid_days, now=now)


def party_keys_of(certificate: x509.Certificate | bytes) -> PartyKeys:
    """The party's public keys from its certificate, with the proof re-verified.

    Raises:
        EnrolmentError: no or a malformed party-keys extension, or the proof does not verify
            against the certificate's key, or it names another party.
    """
    try:
        info = certificate_info(certificate)
    except KeyFormatError as exc:
        raise EnrolmentError(str(exc), field="certificate") from None
    if not info.party_keys_json:
        raise EnrolmentError("the certificate carries no party keys", field="certificate")
    document = _document_of(info.party_keys_json)
    if document.get("party") != info.common_name:
        raise EnrolmentError("the certificate's keys name another party", field="certificate")
    cert = (
        certificate
        if isinstance(certificate, x509.Certificate)
        else x509.load_pem_x509_certificate(certificate)
    )
    x25519, ed25519 = _verify_proof(document, cert.public_key())
    profile = document.get("profile") or {}
    return PartyKeys(
        party=info.common_name,
        role=info.role,
        profile=dict(profile) if isinstance(profile, dict) else {},
        encryption_public_key=x25519,
        signing_public_key=ed25519,
    )
