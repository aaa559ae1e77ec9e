"""Corrections that correct (SHR-5, Art.24): the provider's node applies an accepted correction.

A correction may be filed with the record key and the corrected values sealed to the provider's
node (:mod:`tongdao.crypto.correction`); the broker keeps only the envelope (ciphertext), the
names of the corrected data items and the filer's correction id. When the provider accepts it,
the broker relays the envelope to the provider's node (:class:`CorrectionNodes`), which applies
it through its adapter and answers with a department-signed receipt: the record's keyed digests
before and after, or the reason it could not apply it. The broker verifies the receipt, records
it on the correction and in the ledger, and drops the envelope.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol

from tongdao.broker.kernel import validation as v
from tongdao.crypto.correction import CorrectionReceipt
from tongdao.crypto.errors import KeyFormatError, SignatureError
from tongdao.crypto.signing import VerifyKey
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, Unavailable
from tongdao.proto.limits import CORRECTION_ENVELOPE_BYTES

SEALED_KEY = "sealed_correction"
RECEIPT_KEY = "correction_receipt"
MAX_ENVELOPE_BYTES = CORRECTION_ENVELOPE_BYTES


@dataclass(frozen=True)
class CorrectionToApply:
    """What the broker asks a node to apply."""

    request_id: str
    entry_code: str
    correction_id: str
    fields: tuple[str, ...]
    sealed_correction: bytes


class CorrectionNodes(Protocol):
    """The port to providers' nodes (answered by the relay's node gateway, wired in server.py)."""

    def apply_correction(
        self, endpoint: str, department: str, correction: CorrectionToApply
    ) -> CorrectionReceipt:
        """Relay one correction to the node at ``endpoint`` that must be ``department``'s.

        Raises:
            Unavailable: the node cannot be reached (nothing was applied; try again).
        """
        ...

    def cross_check_digests(
        self, endpoint: str, department: str, run_id: str, entry_code: str, sealed_check: bytes
    ) -> list[tuple[bytes, bytes]]:
        """A node's (key digest, value digest) pairs for a cross-verification (Art.24).

        Raises:
            Unavailable: the node cannot be reached.
        """
        ...


def sealed_details(
    sealed: bytes, correction_id: str, data_items: tuple[str, ...], record_key: str
) -> dict[str, Any]:
    """The stored part of a sealed correction, checked (no value is ever among it)."""
    if record_key:
        raise InvalidArgument(
            msg("leave record_key empty: with sealed_correction the key travels sealed"),
            field="record_key",
        )
    if len(sealed) > MAX_ENVELOPE_BYTES:
        raise InvalidArgument(
            msg("is over {MAX_ENVELOPE_BYTES} bytes", MAX_ENVELOPE_BYTES=MAX_ENVELOPE_BYTES),
            field="sealed_correction",
        )
    cid = v.identifier(correction_id, "correction_id")
    if cid != correction_id:
        raise InvalidArgument(msg("must be a lower-case UUID with dashes"), field="correction_id")
    return {
        "data_items": v.field_names(data_items, "data_items"),
        "correction_id": cid,
        SEALED_KEY: base64.b64encode(sealed).decode(),
    }


def verified_receipt(
    receipt: CorrectionReceipt, correction: CorrectionToApply, department: str, key: bytes
) -> CorrectionReceipt:
    """The node's receipt, checked: signed by the provider and about this very correction.

    Raises:
        Unavailable: the receipt does not verify or is about something else (the node's state
            is then unknown to the broker; the correction stays pending).
    """
    same = (
        receipt.request_id == correction.request_id
        and receipt.correction_id == correction.correction_id
        and receipt.entry_code == correction.entry_code
        and receipt.department == department
        and tuple(receipt.fields) == correction.fields
    )
    try:
        receipt.verify(VerifyKey(key))
    except (SignatureError, KeyFormatError):
        same = False
    if not same:
        raise Unavailable(
            msg(
                "the provider node's correction receipt does not verify; the correction stays "
                "pending — ask the provider to check its node"
            )
        )
    if not receipt.refusal and (
        len(receipt.before_digest) != 32 or len(receipt.after_digest) != 32
    ):
        raise Unavailable(msg("the provider node's correction receipt lacks the record's digests"))
    return receipt


def to_apply(request_id: str, entry_code: str, details: dict[str, Any]) -> CorrectionToApply:
    return CorrectionToApply(
        request_id=request_id,
        entry_code=entry_code,
        correction_id=details["correction_id"],
        fields=tuple(details.get("data_items", ())),
        sealed_correction=base64.b64decode(details[SEALED_KEY]),
    )


def require_node(endpoint: str, provider: str) -> str:
    if not endpoint:
        raise FailedPrecondition(
            msg("{provider} has no node registered to apply the correction to", provider=provider),
            field="id",
        )
    return endpoint
