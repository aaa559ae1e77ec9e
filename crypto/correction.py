"""Corrections (Art.24) the broker relays but cannot read, and the node's signed receipt.

The filer seals the disputed record's key and the corrected values to the provider node's
X25519 key (:func:`seal_correction`, the same envelope as a query); the associated data names
the provider, the catalogue entry and a correction id the filer chose, so an envelope cannot be
moved to another entry, provider or correction. The node applies it once and signs a
:class:`CorrectionReceipt`: the record's digests before and after, keyed with the node's
holdings key (:func:`record_digest`), so the broker learns that the record changed, never what
it holds nor whether a guessed value is in it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tongdao.crypto.envelope import open_sealed, seal
from tongdao.crypto.errors import EnvelopeError
from tongdao.crypto.signing import SigningKey, VerifyKey

AAD_DOMAIN = b"tongdao/v1 correction"
DIGEST_DOMAIN = b"tongdao/v1 corrected record\n"
RECEIPT_DOMAIN = b"tongdao/v1 correction receipt\n"
MAX_VALUES = 64
MAX_VALUE_CHARS = 1024


class CorrectionFormatError(ValueError):
    """An opened correction is not ``{"record_key": str, "values": {field: str}}``."""


def correction_associated_data(provider: str, entry_code: str, correction_id: str) -> bytes:
    """What an envelope of a correction is bound to."""
    return b"|".join((AAD_DOMAIN, provider.encode(), entry_code.encode(), correction_id.encode()))


def seal_correction(
    node_public_key: bytes,
    *,
    provider: str,
    entry_code: str,
    correction_id: str,
    record_key: str,
    values: Mapping[str, str],
) -> bytes:
    """The envelope a filer hands the broker for the provider's node."""
    body = json.dumps(
        {"record_key": record_key, "values": dict(values)}, ensure_ascii=False, sort_keys=True
    ).encode()
    return seal(
        node_public_key, body, correction_associated_data(provider, entry_code, correction_id)
    )


def open_correction(
    private_key: bytes, envelope: bytes, *, provider: str, entry_code: str, correction_id: str
) -> tuple[str, dict[str, str]]:
    """The record key and corrected values, at the node.

    Raises:
        EnvelopeError: not sealed to this key, or bound to another correction.
        CorrectionFormatError: the content is not a correction.
    """
    plain = open_sealed(
        private_key, envelope, correction_associated_data(provider, entry_code, correction_id)
    )
    try:
        body = json.loads(plain)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CorrectionFormatError("the correction is not JSON") from None
    key = body.get("record_key") if isinstance(body, dict) else None
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key.strip():
        raise CorrectionFormatError("the correction names no record key")
    if not isinstance(values, dict) or not values or len(values) > MAX_VALUES:
        raise CorrectionFormatError(f"the correction must correct 1 to {MAX_VALUES} data items")
    for name, value in values.items():
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
            raise CorrectionFormatError(
                f"the corrected value of {name!r} must be text of at most {MAX_VALUE_CHARS} chars"
            )
    return key, dict(values)


def record_digest(key: bytes, record: Mapping[str, str]) -> bytes:
    """HMAC-SHA256 of one record (every column, sorted by name) under the node's holdings key."""
    body = json.dumps(dict(record), ensure_ascii=False, sort_keys=True).encode()
    return hmac.new(key, DIGEST_DOMAIN + body, hashlib.sha256).digest()


@dataclass(frozen=True)
class CorrectionReceipt:
    """What the node did with one correction, signed with the department's key.

    ``refusal`` is empty when applied; otherwise it says why nothing was changed (and the
    digests are empty).
    """

    request_id: str
    department: str
    entry_code: str
    correction_id: str
    fields: tuple[str, ...]
    before_digest: bytes
    after_digest: bytes
    key_id: str
    decided_at: str
    refusal: str = ""
    signature: bytes = b""

    def signing_bytes(self) -> bytes:
        view = {
            "request_id": self.request_id,
            "department": self.department,
            "entry_code": self.entry_code,
            "correction_id": self.correction_id,
            "fields": list(self.fields),
            "before_digest": self.before_digest.hex(),
            "after_digest": self.after_digest.hex(),
            "key_id": self.key_id,
            "decided_at": self.decided_at,
            "refusal": self.refusal,
        }
        return RECEIPT_DOMAIN + json.dumps(view, ensure_ascii=False, sort_keys=True).encode()

    def signed(self, key: SigningKey) -> CorrectionReceipt:
        return dataclasses.replace(self, signature=key.sign(self.signing_bytes()))

    def verify(self, key: VerifyKey) -> None:
        """Raises :class:`tongdao.crypto.errors.SignatureError` when it does not verify."""
        key.verify(self.signature, self.signing_bytes())

    def as_record(self) -> dict[str, Any]:
        """How the broker stores and logs it: digests in hex, the signature in base64."""
        return {
            "department": self.department,
            "entry_code": self.entry_code,
            "correction_id": self.correction_id,
            "fields": list(self.fields),
            "before_digest": self.before_digest.hex(),
            "after_digest": self.after_digest.hex(),
            "key_id": self.key_id,
            "decided_at": self.decided_at,
            "refusal": self.refusal,
            "signature": base64.b64encode(self.signature).decode(),
        }


__all__ = [
    "CorrectionFormatError",
    "CorrectionReceipt",
    "EnvelopeError",
    "correction_associated_data",
    "open_correction",
    "record_digest",
    "seal_correction",
]
