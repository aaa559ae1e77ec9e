"""Enrolment requests: what the CA accepts, and every malformed or forged request it refuses."""

import datetime as dt
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tongdao.crypto import enrolment, pki
from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.crypto.errors import EnrolmentError
from tongdao.crypto.signing import SigningKey

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
AGE = dt.timedelta(hours=72)
PROFILE = {"name": "黑龙江省公安厅", "region": "230000", "level": "province"}


def department_request(code="hlj.gat", *, tls_key=None, signing=None, now=NOW, **kw):
    tls_key = tls_key or pki.generate_tls_key()
    signing = signing or SigningKey.generate()
    csr = enrolment.build_request(
        tls_key,
        code,
        role="department",
        profile=kw.pop("profile", PROFILE),
        encryption_public_key=kw.pop("x25519", EncryptionKeyPair.generate().public_key),
        signing_key=signing,
        server_names=kw.pop("server_names", ("127.0.0.1",)),
        now=now,
        rng=lambda n: b"\x07" * n,
    )
    return csr, tls_key, signing


def _canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def reforge(csr_pem, tls_key, change, *, subject=None, prove_with=None):
    """The same request with its document changed and re-signed by the TLS key (a valid CSR);
    with ``prove_with``, the proof of possession is made afresh too (only the change is wrong)."""
    csr = x509.load_pem_x509_csr(csr_pem)
    value = csr.extensions.get_extension_for_oid(pki.PARTY_KEYS_OID).value.value
    document = json.loads(pki.parse_der_utf8(value))
    change(document)
    if prove_with is not None:
        unsigned = {k: v for k, v in document.items() if k != "proof"}
        spki = tls_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        message = enrolment.PROOF_CONTEXT + _canonical(unsigned).encode() + spki
        document["proof"] = prove_with.sign(message).hex()
    text = _canonical(document)
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject or csr.subject)
    builder = builder.add_extension(
        x509.UnrecognizedExtension(pki.PARTY_KEYS_OID, pki.der_utf8(text)), critical=False
    )
    return builder.sign(tls_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def refused(data, field, *, now=NOW):
    with pytest.raises(EnrolmentError) as err:
        enrolment.parse_request(data, max_age=AGE, now=now)
    assert err.value.field == field, str(err.value)
    return str(err.value)


def test_a_department_request_carries_its_keys_with_proof():
    csr, _, signing = department_request()
    request = enrolment.parse_request(csr, max_age=AGE, now=NOW + dt.timedelta(hours=1))
    assert (request.party, request.role, request.profile) == ("hlj.gat", "department", PROFILE)
    assert request.signing_public_key == signing.verify_key.public_key
    assert len(request.encryption_public_key) == 32
    assert request.server_names == ("127.0.0.1",)
    # DER is accepted as well as PEM
    der = x509.load_pem_x509_csr(csr).public_bytes(serialization.Encoding.DER)
    assert enrolment.parse_request(der, max_age=AGE, now=NOW).fingerprint == request.fingerprint


def test_the_certificates_carry_the_keys_and_the_role():
    ca = pki.create_authority(now=NOW)
    authority = pki.Authority.load(ca.certificate_pem, ca.private_key_pem)
    csr, _, signing = department_request()
    request = enrolment.parse_request(csr, max_age=AGE, now=NOW)
    issued = enrolment.sign_request(authority, request, valid_days=90, now=NOW)
    for pem, usage in (
        (issued.client_pem, pki.Usage.CLIENT),
        (issued.server_pem, pki.Usage.SERVER),
    ):
        info = pki.certificate_info(pem)
        assert info.usages == {usage} and info.role == "department"
        assert info.not_after - NOW == dt.timedelta(days=90)
        keys = enrolment.party_keys_of(pem)
        assert keys.signing_public_key == signing.verify_key.public_key
        assert keys.profile == PROFILE
    # a consumer-only department (no node endpoint) gets no server certificate
    csr, _, _ = department_request("hrb.rsj", server_names=())
    request = enrolment.parse_request(csr, max_age=AGE, now=NOW)
    assert enrolment.sign_request(authority, request, valid_days=90, now=NOW).server_pem is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "request"),
        (b"not a request at all", "request"),
        (
            b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            "request",
        ),
        (b"\x30" * (enrolment.MAX_REQUEST_BYTES + 1), "request"),
    ],
    ids=["empty", "garbage", "bad-pem", "too-large"],
)
def test_malformed_requests_are_refused(data, field):
    refused(data, field)


def test_a_tampered_request_fails_its_signature():
    csr, _, _ = department_request()
    der = bytearray(x509.load_pem_x509_csr(csr).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the ECDSA signature
    with pytest.raises(EnrolmentError) as err:
        enrolment.parse_request(bytes(der), max_age=AGE, now=NOW)
    assert err.value.field in ("signature", "request")


def test_a_declared_key_without_possession_is_refused():
    csr, tls_key, _ = department_request()
    someone_else = SigningKey.generate().verify_key.public_key.hex()
    forged = reforge(csr, tls_key, lambda d: d.update(ed25519=someone_else))
    assert "proof of possession" in refused(forged, "proof")


def test_a_proof_bound_to_another_tls_key_is_refused():
    csr, _, _ = department_request()
    other_tls = pki.generate_tls_key()
    moved = reforge(csr, other_tls, lambda d: None)  # same document and proof, another TLS key
    refused(moved, "proof")


def test_a_subject_naming_another_department_is_refused():
    csr, tls_key, _ = department_request()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tongdao"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "department"),
            x509.NameAttribute(NameOID.COMMON_NAME, "hlj.mzt"),
        ]
    )
    assert "hlj.mzt" in refused(reforge(csr, tls_key, lambda d: None, subject=subject), "subject")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(x25519=""), "party_keys"),
        (lambda d: d.update(x25519="zz"), "x25519"),
        (lambda d: d.update(x25519="00" * 31), "x25519"),
        (lambda d: d.update(version=2), "party_keys"),
        (lambda d: d["profile"].update(region="23"), "profile.region"),
        (lambda d: d["profile"].update(level="galaxy"), "profile.level"),
        (lambda d: d.update(server_names=["bad host!"]), "server_names"),
        (lambda d: d.update(server_names=["evil.tongdao.invalid"]), "server_names"),
        (lambda d: d.update(requested_at="yesterday"), "requested_at"),
    ],
    ids=["no-x25519", "x25519-not-hex", "x25519-short", "version", "region", "level",
         "host", "reserved-name", "time"],
)  # fmt: skip
def test_bad_documents_are_refused_with_their_field(change, field):
    csr, tls_key, signing = department_request()
    refused(reforge(csr, tls_key, change, prove_with=signing), field)


def test_stale_and_future_requests_are_refused():
    csr, _, _ = department_request(now=NOW - dt.timedelta(hours=73))
    assert "older than" in refused(csr, "requested_at")
    csr, _, _ = department_request(now=NOW + dt.timedelta(hours=1))
    assert "future" in refused(csr, "requested_at")


def test_only_p256_tls_keys():
    csr, _, _ = department_request(tls_key=ec.generate_private_key(ec.SECP384R1()))
    refused(csr, "public_key")


def test_reserved_and_invalid_names():
    with pytest.raises(EnrolmentError):
        department_request("Not A Code")
    csr, _, _ = department_request("broker")
    assert "reserved" in refused(csr, "party")


def test_staff_roles_carry_no_data_keys():
    tls_key = pki.generate_tls_key()
    csr = enrolment.build_request(tls_key, "authority", role="auditor", now=NOW)
    request = enrolment.parse_request(csr, max_age=AGE, now=NOW)
    assert request.role == "auditor" and not request.signing_public_key
    with_key = enrolment.build_request(
        tls_key, "authority", role="operator", signing_key=SigningKey.generate(), now=NOW
    )
    refused(with_key, "party_keys")
