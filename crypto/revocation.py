"""Certificate revocation lists: signed and numbered by the authority CA, checked on every call.

The CA (offline if need be) signs an X.509 v2 CRL carrying a monotonically increasing CRL number
and a next-update time. Whoever checks certificates (broker, nodes) loads it with
:meth:`RevocationList.load`, which refuses a list not signed by the authority CA; a holder keeps
the highest number it has seen and refuses an older list (:meth:`RevocationList.newer_than`), so
whoever relays the file can withhold a list but never roll one back or forge one.

Pure functions: no file, network or clock access unless the caller passes none (then UTC now).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import CRLEntryExtensionOID

from tongdao.crypto.errors import RevocationError
from tongdao.crypto.pki import Authority

MAX_CRL_BYTES = 4 * 1024 * 1024
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key_compromise": x509.ReasonFlags.key_compromise,
    "affiliation_changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
}


@dataclass(frozen=True)
class Revoked:
    """One revoked certificate."""

    serial: int
    revoked_at: dt.datetime
    reason: str = "unspecified"


def build_crl(
    authority: Authority,
    revoked: Iterable[Revoked],
    *,
    number: int,
    valid_for: dt.timedelta,
    now: dt.datetime | None = None,
) -> bytes:
    """Sign a PEM CRL numbered ``number`` listing ``revoked``, valid until ``now + valid_for``.

    Raises:
        RevocationError: a non-positive number or an unknown reason.
    """
    if number < 1:
        raise RevocationError("a CRL number starts at 1")
    now = now or dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(now - dt.timedelta(minutes=1))
        .next_update(now + valid_for)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
    )
    for item in revoked:
        if item.reason not in REASONS:
            raise RevocationError(f"unknown reason {item.reason!r} (one of {', '.join(REASONS)})")
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(item.serial)
            .revocation_date(item.revoked_at)
            .add_extension(x509.CRLReason(REASONS[item.reason]), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(authority.key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class RevocationList:
    """A verified CRL.

    Attributes:
        number: the CRL number (higher is newer).
        this_update, next_update: when it was signed and when the next one is due (UTC).
        revoked: serial → reason.
    """

    number: int
    this_update: dt.datetime
    next_update: dt.datetime
    revoked: dict[int, str]

    @classmethod
    def load(cls, pem: bytes, ca: x509.Certificate) -> RevocationList:
        """Parse and verify a PEM (or DER) CRL against the authority CA.

        Raises:
            RevocationError: malformed, too large, not signed by ``ca``, issued by another name,
                without a CRL number or next-update time.
        """
        if not pem or len(pem) > MAX_CRL_BYTES:
            raise RevocationError(f"a revocation list is 1 to {MAX_CRL_BYTES} bytes")
        try:
            crl = (
                x509.load_pem_x509_crl(pem)
                if pem.lstrip().startswith(b"-----BEGIN")
                else x509.load_der_x509_crl(pem)
            )
        except ValueError:
            raise RevocationError("not an X.509 revocation list") from None
        if crl.issuer != ca.subject:
            raise RevocationError("the revocation list was issued by another authority")
        try:
            valid = crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise RevocationError("the revocation list is not signed by the authority CA")
        try:
            number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        except x509.ExtensionNotFound:
            raise RevocationError("the revocation list has no CRL number") from None
        if crl.next_update_utc is None:
            raise RevocationError("the revocation list has no next-update time")
        revoked: dict[int, str] = {}
        for entry in crl:
            reason = "unspecified"
            try:
                flag = entry.extensions.get_extension_for_oid(CRLEntryExtensionOID.CRL_REASON)
                reason = flag.value.reason.name  # type: ignore[attr-defined]
            except x509.ExtensionNotFound:
                pass
            revoked[entry.serial_number] = reason
        return cls(number, crl.last_update_utc, crl.next_update_utc, revoked)

    def is_revoked(self, serial: int) -> bool:
        return serial in self.revoked

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        """Past its next-update time: the authority has stopped publishing (or it is withheld)."""
        return (now or dt.datetime.now(dt.UTC)) > self.next_update

    def newer_than(self, other: RevocationList | None) -> bool:
        """Whether this list may replace ``other`` (a strictly higher number)."""
        return other is None or self.number > other.number
